package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	xssh "golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// TestPlainIndexAgreesWithTheGeneralMatcher: the fast index is used only
// for plain files and answers known / unknown / changed like the matcher.
func TestPlainIndexAgreesWithTheGeneralMatcher(t *testing.T) {
	key := func() xssh.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := xssh.NewPublicKey(pub)
		return k
	}
	k1, k2, other := key(), key(), key()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain", "# comment\n"+xknownhosts.Line([]string{"10.0.0.1"}, k1)+"\n"+xknownhosts.Line([]string{"[10.0.0.2]:2222"}, k2)+"\n")
	hashed := write("hashed", xknownhosts.Line([]string{xknownhosts.HashHostname("10.0.0.1")}, k1)+"\n")
	wild := write("wild", xknownhosts.Line([]string{"10.0.0.*"}, k1)+"\n")
	if plainIndex([]string{plain}) == nil {
		t.Fatal("plain file not indexed")
	}
	if plainIndex([]string{hashed}) != nil || plainIndex([]string{wild}) != nil {
		t.Fatal("hashed or wildcard lines must use the general matcher")
	}
	hk, err := newHostKeys([]string{plain}, Strict)
	if err != nil {
		t.Fatal(err)
	}
	var ke *xknownhosts.KeyError
	cases := []struct {
		host    string
		key     xssh.PublicKey
		wantErr bool
		changed bool
	}{
		{"10.0.0.1:22", k1, false, false},
		{"10.0.0.2:2222", k2, false, false},
		{"10.0.0.2:22", k2, true, false}, // another port is another host
		{"10.0.0.1:22", other, true, true},
		{"10.0.0.9:22", k1, true, false},
	}
	for _, c := range cases {
		err := hk.check(c.host, c.key)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err %v", c.host, err)
			continue
		}
		if err != nil && (!errors.As(err, &ke) || (len(ke.Want) > 0) != c.changed) {
			t.Errorf("%s: %v, changed want %v", c.host, err, c.changed)
		}
	}
}
