package scan

import (
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/playbooks"
)

// TestEveryHostGetsItsOwnNonce: scripts are rendered once per kind of
// host, but each host's copy carries a nonce of its own, in its header and
// every marker, and nothing of the stand-in.
func TestEveryHostGetsItsOwnNonce(t *testing.T) {
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &scanner{opt: Options{Playbooks: set, Params: playbook.Params{Manager: "dsm", Port: 4120, AgentPort: 4118}}}
	a, _, err := s.script(&inventory.Host{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.script(&inventory.Host{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Nonce == b.Nonce {
		t.Fatalf("two hosts share nonce %s", a.Nonce)
	}
	for _, sc := range []*playbook.Script{a, b} {
		body := string(sc.Body)
		if strings.Contains(body, s.stamp) || !strings.Contains(body, sc.Nonce+":done>>") {
			t.Errorf("script for nonce %s: stand-in left or nonce missing", sc.Nonce)
		}
		h, err := frame.ParseHeader(body)
		if err != nil || h.Nonce != sc.Nonce {
			t.Errorf("header %+v, %v; want nonce %s", h, err, sc.Nonce)
		}
	}
}
