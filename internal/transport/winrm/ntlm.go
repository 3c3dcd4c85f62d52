package winrm

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/ntlmwire"
)

// NTLMv2 client with session security (MS-NLMP 3.3.2, 3.4): what WinRM
// over plain HTTP needs, because a Windows host that keeps its default
// AllowUnencrypted=false only takes SOAP sealed with the keys of the
// NTLM exchange. The library's NTLM (go-ntlmssp) authenticates but never
// exposes those keys.

const (
	ntlmUnicode      = 0x00000001
	ntlmRequestTgt   = 0x00000004
	ntlmSign         = 0x00000010
	ntlmSeal         = 0x00000020
	ntlmNTLM         = 0x00000200
	ntlmAlwaysSign   = 0x00008000
	ntlmExtendedSec  = 0x00080000
	ntlm128          = 0x20000000
	ntlmKeyExch      = 0x40000000
	ntlm56           = 0x80000000
	ntlmWantedFlags  = ntlmUnicode | ntlmRequestTgt | ntlmSign | ntlmSeal | ntlmNTLM | ntlmAlwaysSign | ntlmExtendedSec | ntlm128 | ntlmKeyExch | ntlm56
	ntlmSealingFlags = ntlmSeal | ntlmSign | ntlmExtendedSec | ntlm128 | ntlmKeyExch
	avEOL            = 0
	avTimestamp      = 7
)

// ntlmSession is one NTLM security context: the handshake, then sealing
// of each message in order.
type ntlmSession struct {
	user, domain, password string
	// for tests: fixed randomness and time
	clientChallenge, exportedKey []byte
	now                          func() time.Time

	flags                uint32
	sendSeal, recvSeal   *rc4.Cipher
	sendSign, recvSign   []byte
	sendSeqNo, recvSeqNo uint32
}

func newNTLMSession(user, password string) *ntlmSession {
	domain := ""
	if d, u, ok := strings.Cut(user, `\`); ok {
		domain, user = d, u
	} else if u, d, ok := strings.Cut(user, "@"); ok {
		user, domain = u, d
	}
	return &ntlmSession{user: user, domain: domain, password: password, now: time.Now}
}

// negotiate is the NEGOTIATE_MESSAGE (type 1).
func (n *ntlmSession) negotiate() []byte {
	b := make([]byte, 32)
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 1)
	binary.LittleEndian.PutUint32(b[12:], ntlmWantedFlags)
	// domain and workstation fields empty (offsets at the end)
	binary.LittleEndian.PutUint32(b[20:], 32)
	binary.LittleEndian.PutUint32(b[28:], 32)
	return b
}

// authenticate answers a CHALLENGE_MESSAGE (type 2) with the
// AUTHENTICATE_MESSAGE (type 3) and sets up the sealing keys.
func (n *ntlmSession) authenticate(challenge []byte) ([]byte, error) {
	if len(challenge) < 48 || string(challenge[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(challenge[8:]) != 2 {
		return nil, errors.New("the server's NTLM challenge is malformed")
	}
	flags := binary.LittleEndian.Uint32(challenge[20:])
	if flags&ntlmSealingFlags != ntlmSealingFlags {
		return nil, fmt.Errorf("the server's NTLM does not offer 128-bit sealing with key exchange (flags %#08x): use winrm_scheme https", flags)
	}
	serverChallenge := challenge[24:32]
	targetInfo, ok := ntlmwire.Field(challenge, 40)
	if !ok {
		return nil, errors.New("the server's NTLM challenge has a malformed target info field")
	}
	n.flags = flags & ntlmWantedFlags

	cc := n.clientChallenge
	if cc == nil {
		cc = make([]byte, 8)
		if _, err := rand.Read(cc); err != nil {
			return nil, err
		}
	}
	ts, hasTS := avValue(targetInfo, avTimestamp)
	if !hasTS {
		ts = fileTime(n.now())
	}
	key := ntlmwire.NTOWFv2(n.user, n.domain, n.password)
	temp := make([]byte, 0, 28+len(targetInfo)+4)
	temp = append(temp, 1, 1, 0, 0, 0, 0, 0, 0)
	temp = append(temp, ts...)
	temp = append(temp, cc...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, targetInfo...)
	temp = append(temp, 0, 0, 0, 0)
	proof := ntlmwire.HMACMD5(key, serverChallenge, temp)
	ntResponse := append(append([]byte{}, proof...), temp...)
	lmResponse := make([]byte, 24) // Z(24) when the server sent a timestamp
	if !hasTS {
		lmResponse = append(ntlmwire.HMACMD5(key, serverChallenge, cc), cc...)
	}
	sessionBaseKey := ntlmwire.HMACMD5(key, proof) // the key exchange key, for NTLMv2

	exported := n.exportedKey
	if exported == nil {
		exported = make([]byte, 16)
		if _, err := rand.Read(exported); err != nil {
			return nil, err
		}
	}
	encryptedKey := make([]byte, 16)
	kx, _ := rc4.NewCipher(sessionBaseKey)
	kx.XORKeyStream(encryptedKey, exported)
	n.keys(exported)

	payload := [][]byte{lmResponse, ntResponse, ntlmwire.UTF16LE(n.domain), ntlmwire.UTF16LE(n.user), nil, encryptedKey}
	const header = 64
	msg := make([]byte, header)
	copy(msg, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(msg[8:], 3)
	offset := header
	for i, p := range payload {
		at := 12 + 8*i
		binary.LittleEndian.PutUint16(msg[at:], uint16(len(p)))
		binary.LittleEndian.PutUint16(msg[at+2:], uint16(len(p)))
		binary.LittleEndian.PutUint32(msg[at+4:], uint32(offset))
		offset += len(p)
	}
	binary.LittleEndian.PutUint32(msg[60:], n.flags)
	for _, p := range payload {
		msg = append(msg, p...)
	}
	return msg, nil
}

// keys derives the client's send and receive keys from the exported
// session key (MS-NLMP 3.4.5.2, 3.4.5.3; 128-bit, extended session
// security).
func (n *ntlmSession) keys(exported []byte) {
	derive := func(magic string) []byte {
		h := md5.New()
		h.Write(exported)
		h.Write([]byte(magic + "\x00"))
		return h.Sum(nil)
	}
	n.sendSign = derive("session key to client-to-server signing key magic constant")
	n.recvSign = derive("session key to server-to-client signing key magic constant")
	n.sendSeal, _ = rc4.NewCipher(derive("session key to client-to-server sealing key magic constant"))
	n.recvSeal, _ = rc4.NewCipher(derive("session key to server-to-client sealing key magic constant"))
	n.sendSeqNo, n.recvSeqNo = 0, 0
}

// seal encrypts msg and returns its 16-byte signature and the sealed
// bytes (MS-NLMP 3.4.3, GSS_WrapEx).
func (n *ntlmSession) seal(msg []byte) (sig, sealed []byte) {
	sealed = make([]byte, len(msg))
	n.sendSeal.XORKeyStream(sealed, msg)
	sig = signature(n.sendSign, n.sendSeal, n.sendSeqNo, msg)
	n.sendSeqNo++
	return sig, sealed
}

// unseal decrypts a message from the server and checks its signature.
func (n *ntlmSession) unseal(sig, sealed []byte) ([]byte, error) {
	if len(sig) != 16 {
		return nil, errors.New("sealed message: signature is not 16 bytes")
	}
	msg := make([]byte, len(sealed))
	n.recvSeal.XORKeyStream(msg, sealed)
	want := signature(n.recvSign, n.recvSeal, n.recvSeqNo, msg)
	n.recvSeqNo++
	if !hmac.Equal(want, sig) {
		return nil, errors.New("sealed message: the signature does not match (tampered, or out of sequence)")
	}
	return msg, nil
}

// signature is version 1, the RC4-encrypted first 8 bytes of
// HMAC_MD5(signing key, seqno ‖ message), and seqno.
func signature(signKey []byte, sealer *rc4.Cipher, seq uint32, msg []byte) []byte {
	var seqb [4]byte
	binary.LittleEndian.PutUint32(seqb[:], seq)
	checksum := ntlmwire.HMACMD5(signKey, seqb[:], msg)[:8]
	sealer.XORKeyStream(checksum, checksum)
	sig := make([]byte, 16)
	binary.LittleEndian.PutUint32(sig, 1)
	copy(sig[4:12], checksum)
	copy(sig[12:], seqb[:])
	return sig
}

// fileTime is t as a Windows FILETIME: 100 ns units since 1601-01-01.
func fileTime(t time.Time) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(t.Unix()+11644473600)*10_000_000+uint64(t.Nanosecond()/100))
	return b
}

// avValue finds an AV pair in target info.
func avValue(info []byte, id uint16) ([]byte, bool) {
	for len(info) >= 4 {
		aid := binary.LittleEndian.Uint16(info)
		l := int(binary.LittleEndian.Uint16(info[2:]))
		if aid == avEOL || len(info) < 4+l {
			return nil, false
		}
		if aid == id {
			return info[4 : 4+l], true
		}
		info = info[4+l:]
	}
	return nil, false
}
