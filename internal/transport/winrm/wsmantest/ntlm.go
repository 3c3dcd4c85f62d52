package wsmantest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM is defined on MD4: the test server must compute it to check a client
	"golang.org/x/crypto/md4"
)

// NTLM (MS-NLMP), server side: just enough to issue a CHALLENGE and check
// an NTLMv2 AUTHENTICATE against the configured password.

const (
	flagUnicode        = 0x00000001
	flagRequestTarget  = 0x00000004
	flagSign           = 0x00000010
	flagSeal           = 0x00000020
	flagNTLM           = 0x00000200
	flagAlwaysSign     = 0x00008000
	flagTargetDomain   = 0x00010000
	flagExtendedSecure = 0x00080000
	flagTargetInfo     = 0x00800000
	flagVersion        = 0x02000000
	flag128            = 0x20000000
	flag56             = 0x80000000
)

// Domain is the NetBIOS domain the emulated hosts belong to.
const Domain = "LAB"

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16(b []byte) string {
	if len(b)%2 != 0 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func av(id uint16, value []byte) []byte {
	b := make([]byte, 4, 4+len(value))
	binary.LittleEndian.PutUint16(b, id)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(value)))
	return append(b, value...)
}

// challengeMessage is a CHALLENGE_MESSAGE (type 2) with target info. Like
// Windows, it grants session security (sign, seal, key exchange) only
// when the NEGOTIATE asked for it.
func challengeMessage(serverChallenge []byte, negotiate []byte) []byte {
	var asked uint32
	if len(negotiate) >= 16 {
		asked = binary.LittleEndian.Uint32(negotiate[12:])
	}
	target := utf16le(Domain)
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	var info []byte
	info = append(info, av(2, utf16le(Domain))...)
	info = append(info, av(1, utf16le("WINHOST"))...)
	info = append(info, av(4, utf16le("lab.test"))...)
	info = append(info, av(3, utf16le("winhost.lab.test"))...)
	info = append(info, av(7, ts)...)
	info = append(info, av(0, nil)...)
	const header = 56
	b := make([]byte, header)
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 2)
	binary.LittleEndian.PutUint16(b[12:], uint16(len(target)))
	binary.LittleEndian.PutUint16(b[14:], uint16(len(target)))
	binary.LittleEndian.PutUint32(b[16:], header)
	binary.LittleEndian.PutUint32(b[20:], flagUnicode|flagRequestTarget|flagNTLM|flagAlwaysSign|flagTargetDomain|
		flagExtendedSecure|flagTargetInfo|flagVersion|flag128|flag56|asked&(flagSign|flagSeal|flagKeyExch))
	copy(b[24:32], serverChallenge)
	binary.LittleEndian.PutUint16(b[40:], uint16(len(info)))
	binary.LittleEndian.PutUint16(b[42:], uint16(len(info)))
	binary.LittleEndian.PutUint32(b[44:], uint32(header+len(target)))
	copy(b[48:], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15}) // version 10.0.17763, NTLM revision 15
	b = append(b, target...)
	return append(b, info...)
}

// field reads a (len, maxlen, offset) field of an NTLM message.
func field(msg []byte, at int) ([]byte, bool) {
	if len(msg) < at+8 {
		return nil, false
	}
	l := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off < 0 || off+l > len(msg) {
		return nil, false
	}
	return msg[off : off+l], true
}

// verifyNTLMv2 checks an AUTHENTICATE_MESSAGE (type 3): the user must be
// the configured one and NTProofStr = HMAC-MD5(NTOWFv2, challenge ‖ blob).
// It returns the session base key, or nil when the check fails.
func verifyNTLMv2(msg, serverChallenge []byte, wantUser, password string) []byte {
	nt, ok1 := field(msg, 20)
	domainB, ok2 := field(msg, 28)
	userB, ok3 := field(msg, 36)
	if !ok1 || !ok2 || !ok3 || len(nt) < 16+28 || len(msg) < 64 {
		return nil
	}
	user, domain := fromUTF16(userB), fromUTF16(domainB)
	want := wantUser
	if _, u, ok := strings.Cut(want, `\`); ok {
		want = u
	}
	if !strings.EqualFold(user, want) {
		return nil
	}
	h := md4.New()
	h.Write(utf16le(password))
	ntowfv1 := h.Sum(nil)
	ntowfv2 := hmacMD5(ntowfv1, utf16le(strings.ToUpper(user)+domain))
	proof := hmacMD5(ntowfv2, serverChallenge, nt[16:])
	if !hmac.Equal(proof, nt[:16]) || !bytes.Equal(nt[16:18], []byte{1, 1}) {
		return nil
	}
	return hmacMD5(ntowfv2, proof)
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
