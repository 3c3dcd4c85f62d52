package playbook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/whyoffline/whyoffline/internal/frame"
)

// FuzzEvaluate: whatever a host prints, every playbook evaluates it
// without panicking and gives every check one result.
func FuzzEvaluate(f *testing.F) {
	outs, _ := filepath.Glob("../golden/testdata/*/*.out")
	for _, p := range outs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	set := loadEmbedded(f)
	f.Fuzz(func(t *testing.T, out []byte) {
		raw := frame.Split(out, "931dcd899a4f310f")
		for _, os := range []string{"linux", "solaris", "aix", "windows"} {
			p := set.ForOS(os)
			_, checks := p.Evaluate(raw)
			seen := map[string]bool{}
			for _, c := range checks {
				if seen[c.ID] {
					t.Fatalf("%s: check %s twice", os, c.ID)
				}
				seen[c.ID] = true
			}
		}
	})
}
