package wsmantest

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/ntlmwire"
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
	target := ntlmwire.UTF16LE(Domain)
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	var info []byte
	info = append(info, av(2, ntlmwire.UTF16LE(Domain))...)
	info = append(info, av(1, ntlmwire.UTF16LE("WINHOST"))...)
	info = append(info, av(4, ntlmwire.UTF16LE("lab.test"))...)
	info = append(info, av(3, ntlmwire.UTF16LE("winhost.lab.test"))...)
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

// verifyNTLMv2 checks an AUTHENTICATE_MESSAGE (type 3): the user must be
// the configured one and NTProofStr = HMAC-MD5(NTOWFv2, challenge ‖ blob).
// It returns the session base key, or nil when the check fails.
func verifyNTLMv2(msg, serverChallenge []byte, wantUser, password string) []byte {
	nt, ok1 := ntlmwire.Field(msg, 20)
	domainB, ok2 := ntlmwire.Field(msg, 28)
	userB, ok3 := ntlmwire.Field(msg, 36)
	if !ok1 || !ok2 || !ok3 || len(nt) < 16+28 || len(msg) < 64 {
		return nil
	}
	user, domain := ntlmwire.FromUTF16LE(userB), ntlmwire.FromUTF16LE(domainB)
	want := wantUser
	if _, u, ok := strings.Cut(want, `\`); ok {
		want = u
	}
	if !strings.EqualFold(user, want) {
		return nil
	}
	ntowfv2 := ntlmwire.NTOWFv2(user, domain, password)
	proof := ntlmwire.HMACMD5(ntowfv2, serverChallenge, nt[16:])
	if !hmac.Equal(proof, nt[:16]) || !bytes.Equal(nt[16:18], []byte{1, 1}) {
		return nil
	}
	return ntlmwire.HMACMD5(ntowfv2, proof)
}
