// Package ntlmwire holds the NTLM (MS-NLMP) primitives both ends of an
// exchange need: UTF-16LE strings, message fields, HMAC-MD5 and NTOWFv2.
// The protocol logic lives with each end (the WinRM client, the test
// server), so the test server stays an independent check of the client.
package ntlmwire

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"strings"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM is defined on MD4 (MS-NLMP NTOWFv1): no other hash will do
	"golang.org/x/crypto/md4"
)

// UTF16LE encodes s as NTLM's Unicode strings are.
func UTF16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// FromUTF16LE decodes a UTF-16LE string ("" when it has an odd length).
func FromUTF16LE(b []byte) string {
	if len(b)%2 != 0 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// Field reads the (length, max length, offset) field at byte at of an
// NTLM message; false when it points outside the message.
func Field(msg []byte, at int) ([]byte, bool) {
	if at < 0 || len(msg) < at+8 {
		return nil, false
	}
	l := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off < 0 || off+l > len(msg) {
		return nil, false
	}
	return msg[off : off+l], true
}

// HMACMD5 is HMAC-MD5 of the concatenated data.
func HMACMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// NTOWFv2 is the NTLMv2 response key of user in domain.
func NTOWFv2(user, domain, password string) []byte {
	h := md4.New()
	h.Write(UTF16LE(password))
	return HMACMD5(h.Sum(nil), UTF16LE(strings.ToUpper(user)+domain))
}
