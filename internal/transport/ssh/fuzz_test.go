package ssh

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	xssh "golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/result"
)

// FuzzRewriteMatch: an ssh_config is the operator's, but copied from
// anywhere. The Match rewrite keeps every line where it was (so the
// parser's and our file:line point at the same line), turns each Match
// into a Host line and nothing else, names only lines that exist, and the
// result never panics the parser.
func FuzzRewriteMatch(f *testing.F) {
	f.Add("Host web*\n  User ops\nMatch user root host db*\n  Port 2222\n", "root")
	f.Add("Match exec \"true\"\n  ProxyCommand nc %h %p\nMatch=all\nmatch !localuser x,y\n", "ops")
	f.Add("Match host\nMatch User\tadmin,!guest # comment\n  IdentityFile ~/.ssh/x\n", "admin")
	f.Fuzz(func(t *testing.T, text, remoteUser string) {
		out, warnings := rewriteMatch(text, remoteUser, "local", "cfg")
		in, got := strings.Split(text, "\n"), strings.Split(out, "\n")
		if len(in) != len(got) {
			t.Fatalf("%d lines became %d", len(in), len(got))
		}
		for i := range in {
			kw, _ := splitKeyword(strings.TrimSpace(in[i]))
			isMatch := strings.EqualFold(kw, "match")
			if isMatch && !strings.HasPrefix(got[i], "Host ") {
				t.Fatalf("line %d %q became %q", i+1, in[i], got[i])
			}
			if !isMatch && got[i] != in[i] {
				t.Fatalf("line %d %q, no Match, was changed to %q", i+1, in[i], got[i])
			}
		}
		for _, w := range warnings {
			var line int
			if _, err := fmt.Sscanf(strings.TrimPrefix(w, "ssh config cfg:"), "%d", &line); err != nil || line < 1 || line > len(in) {
				t.Fatalf("warning names no line of the file: %q", w)
			}
		}
		if len(out) < 1<<16 {
			_, _ = newSSHConfig("cfg", text)
		}
	})
}

// FuzzKnownHosts: under the strict policy no known_hosts content, however
// odd (markers, hashes, patterns, negations, broken lines), makes the
// verifier accept a key that no line of the file holds; and a refusal is
// always one of the contract's host-key kinds.
func FuzzKnownHosts(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	pub, _ := xssh.NewPublicKey(seed.Public())
	line := string(bytes.TrimSpace(xssh.MarshalAuthorizedKey(pub)))
	f.Add("web01 "+line+"\n", "web01", true)
	f.Add("[web01]:2222,10.0.0.1 "+line+"\n", "[web01]:2222", true)
	f.Add("*.example,!bad.example "+line+"\n", "bad.example", true)
	f.Add("@revoked * "+line+"\n", "web01", true)
	f.Add("@cert-authority *.example "+line+"\n|1|abc=|def= "+line+"\n", "a.example", false)
	f.Fuzz(func(t *testing.T, content, hostname string, sameKey bool) {
		file := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		hk, err := newHostKeys([]string{file}, Strict)
		if err != nil {
			return
		}
		key := pub
		if !sameKey {
			other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
			key, _ = xssh.NewPublicKey(other.Public())
		}
		var kind result.ErrorKind
		err = hk.callback(&kind)(hostname, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}, key)
		if err == nil {
			if !fileHolds(content, key) {
				t.Fatalf("accepted a key no line holds, for %q", hostname)
			}
			return
		}
		switch kind {
		case result.HostKeyUnknown, result.HostKeyMismatch, result.CertificateInvalid:
		default:
			t.Fatalf("refusal of kind %q: %v", kind, err)
		}
	})
}

// fileHolds reports whether any line of a known_hosts text carries key.
func fileHolds(content string, key xssh.PublicKey) bool {
	data := []byte(content)
	for len(data) > 0 {
		_, _, k, _, rest, err := xssh.ParseKnownHosts(data)
		if err != nil {
			// skip the line the parser stopped at
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				return false
			}
			data = data[i+1:]
			continue
		}
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return true
		}
		data = rest
	}
	return false
}
