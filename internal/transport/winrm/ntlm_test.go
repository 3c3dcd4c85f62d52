package winrm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/ntlmwire"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNTLMSpecVectors checks the client against the worked NTLMv2 example
// of MS-NLMP section 4.2.4: user "User", domain "Domain", password
// "Password", server challenge 0123456789abcdef, client challenge aa…,
// time 0, random session key 55…, and the sealed "Plaintext" of 4.2.4.4.
func TestNTLMSpecVectors(t *testing.T) {
	av := func(id uint16, v string) []byte {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint16(b, id)
		u := ntlmwire.UTF16LE(v)
		binary.LittleEndian.PutUint16(b[2:], uint16(len(u)))
		return append(b, u...)
	}
	info := append(append(av(2, "Domain"), av(1, "Server")...), 0, 0, 0, 0)
	target := ntlmwire.UTF16LE("Domain")
	ch := make([]byte, 56)
	copy(ch, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(ch[8:], 2)
	binary.LittleEndian.PutUint16(ch[12:], uint16(len(target)))
	binary.LittleEndian.PutUint16(ch[14:], uint16(len(target)))
	binary.LittleEndian.PutUint32(ch[16:], 56)
	binary.LittleEndian.PutUint32(ch[20:], 0xe28a8233)
	copy(ch[24:], unhex(t, "0123456789abcdef"))
	binary.LittleEndian.PutUint16(ch[40:], uint16(len(info)))
	binary.LittleEndian.PutUint16(ch[42:], uint16(len(info)))
	binary.LittleEndian.PutUint32(ch[44:], uint32(56+len(target)))
	ch = append(append(ch, target...), info...)

	n := newNTLMSession(`Domain\User`, "Password")
	n.clientChallenge = bytes.Repeat([]byte{0xaa}, 8)
	n.exportedKey = bytes.Repeat([]byte{0x55}, 16)
	n.now = func() time.Time { return time.Unix(-11644473600, 0) } // FILETIME 0
	if got := hex.EncodeToString(ntlmwire.NTOWFv2("User", "Domain", "Password")); got != "0c868a403bfd7a93a3001ef22ef02e3f" {
		t.Errorf("NTOWFv2 = %s", got)
	}
	msg, err := n.authenticate(ch)
	if err != nil {
		t.Fatal(err)
	}
	lm, _ := ntlmwire.Field(msg, 12)
	nt, _ := ntlmwire.Field(msg, 20)
	key, _ := ntlmwire.Field(msg, 52)
	for _, c := range []struct{ what, got, want string }{
		{"LMv2 response", hex.EncodeToString(lm), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"},
		{"NTProofStr", hex.EncodeToString(nt[:16]), "68cd0ab851e51c96aabc927bebef6a1c"},
		{"encrypted session key", hex.EncodeToString(key), "c5dad2544fc9799094ce1ce90bc9d03e"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
	sig, sealed := n.seal(ntlmwire.UTF16LE("Plaintext"))
	if got := hex.EncodeToString(sealed); got != "54e50165bf1936dc996020c1811b0f06fb5f" {
		t.Errorf("sealed = %s", got)
	}
	if got := hex.EncodeToString(sig); got != "010000007fb38ec5c55d497600000000" {
		t.Errorf("signature = %s", got)
	}
}

// TestSealRoundTrip: what one side seals the other opens, in order; a
// flipped byte or a message out of sequence is refused.
func TestSealRoundTrip(t *testing.T) {
	pair := func() (client, server *ntlmSession) {
		exported := bytes.Repeat([]byte{0x42}, 16)
		client, server = newNTLMSession("u", "p"), newNTLMSession("u", "p")
		client.keys(exported)
		server.keys(exported)
		// the server's view: what the client sends, it receives
		server.recvSeal, server.recvSign, server.sendSeal, server.sendSign = server.sendSeal, server.sendSign, server.recvSeal, server.recvSign
		return client, server
	}
	client, server := pair()
	for i, m := range []string{"<s:Envelope>first</s:Envelope>", "", "<s:Envelope>third, longer than the first</s:Envelope>"} {
		sig, sealed := client.seal([]byte(m))
		if m != "" && bytes.Contains(sealed, []byte(m[:10])) {
			t.Fatalf("message %d travels in clear", i)
		}
		got, err := server.unseal(sig, sealed)
		if err != nil || string(got) != m {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
	}
	sig, sealed := client.seal([]byte("tampered"))
	sealed[0] ^= 1
	if _, err := server.unseal(sig, sealed); err == nil {
		t.Error("a flipped byte was accepted")
	}

	client, server = pair()
	_, _ = client.seal([]byte("lost on the way"))
	sig, sealed = client.seal([]byte("the next one"))
	if _, err := server.unseal(sig, sealed); err == nil {
		t.Error("a message out of sequence was accepted")
	}
}
