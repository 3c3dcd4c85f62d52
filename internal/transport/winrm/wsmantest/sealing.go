package wsmantest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/ntlmwire"
)

// NTLM session security, server side (MS-NLMP 3.4), and the WinRM
// multipart/encrypted framing (MS-WSMV 2.2.9.1): the server opens what a
// client sealed with client-to-server keys and seals its answers with
// server-to-client keys, each direction one RC4 stream with its own
// sequence numbers.

const flagKeyExch = 0x40000000

type sealer struct {
	openRC4, sealRC4   *rc4.Cipher
	openSign, sealSign []byte
	openSeq, sealSeq   uint32
}

// newSealer derives the server's keys from the exported session key.
func newSealer(exported []byte) *sealer {
	key := func(magic string) []byte {
		return md5Sum(exported, []byte(magic), []byte{0})
	}
	s := &sealer{
		openSign: key("session key to client-to-server signing key magic constant"),
		sealSign: key("session key to server-to-client signing key magic constant"),
	}
	s.openRC4, _ = rc4.NewCipher(key("session key to client-to-server sealing key magic constant"))
	s.sealRC4, _ = rc4.NewCipher(key("session key to server-to-client sealing key magic constant"))
	return s
}

func md5Sum(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// exportedKey recovers the client's random session key from an
// AUTHENTICATE message (its EncryptedRandomSessionKey, RC4 under the
// session base key), or the base key itself without key exchange.
func exportedKey(msg, sessionBaseKey []byte) []byte {
	flags := binary.LittleEndian.Uint32(msg[60:])
	enc, ok := ntlmwire.Field(msg, 52)
	if flags&flagKeyExch == 0 || !ok || len(enc) != 16 {
		return sessionBaseKey
	}
	out := make([]byte, 16)
	c, _ := rc4.NewCipher(sessionBaseKey)
	c.XORKeyStream(out, enc)
	return out
}

func (s *sealer) checksum(sign []byte, stream *rc4.Cipher, seq uint32, msg []byte) []byte {
	seqb := binary.LittleEndian.AppendUint32(nil, seq)
	m := hmac.New(md5.New, sign)
	m.Write(seqb)
	m.Write(msg)
	sum := m.Sum(nil)[:8]
	stream.XORKeyStream(sum, sum)
	return append(append(binary.LittleEndian.AppendUint32(nil, 1), sum...), seqb...)
}

var lengthRE = regexp.MustCompile(`Length=(\d+)`)

const boundary = "--Encrypted Boundary"

// open unwraps and checks one multipart/encrypted request body.
func (s *sealer) open(body []byte) ([]byte, error) {
	parts := bytes.Split(body, []byte(boundary+"\r\n"))
	if len(parts) != 3 {
		return nil, errors.New("not a two-part multipart/encrypted body")
	}
	m := lengthRE.FindSubmatch(parts[1])
	if m == nil || !bytes.Contains(parts[1], []byte("application/HTTP-SPNEGO-session-encrypted")) {
		return nil, errors.New("first part lacks the SPNEGO protocol or the original length")
	}
	want, _ := strconv.Atoi(string(m[1]))
	const octet = "\tContent-Type: application/octet-stream\r\n"
	data, ok := bytes.CutPrefix(parts[2], []byte(octet))
	if !ok {
		return nil, errors.New("second part is not application/octet-stream")
	}
	data, ok = bytes.CutSuffix(data, []byte(boundary+"--\r\n"))
	if !ok || len(data) < 20 || binary.LittleEndian.Uint32(data) != 16 {
		return nil, errors.New("bad signature length or closing boundary")
	}
	sig, sealed := data[4:20], data[20:]
	msg := make([]byte, len(sealed))
	s.openRC4.XORKeyStream(msg, sealed)
	if !hmac.Equal(sig, s.checksum(s.openSign, s.openRC4, s.openSeq, msg)) {
		return nil, fmt.Errorf("signature mismatch at sequence %d", s.openSeq)
	}
	s.openSeq++
	if len(msg) != want {
		return nil, fmt.Errorf("%d bytes, OriginalContent says %d", len(msg), want)
	}
	return msg, nil
}

// seal wraps an answer.
func (s *sealer) seal(msg []byte) []byte {
	sealed := make([]byte, len(msg))
	s.sealRC4.XORKeyStream(sealed, msg)
	sig := s.checksum(s.sealSign, s.sealRC4, s.sealSeq, msg)
	s.sealSeq++
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n", boundary)
	fmt.Fprintf(&b, "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n", len(msg))
	fmt.Fprintf(&b, "%s\r\n\tContent-Type: application/octet-stream\r\n", boundary)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(sig))))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(boundary + "--\r\n")
	return b.Bytes()
}
