package playbook

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/playbooks"
)

// TestEveryPlaybookGathersTheCatalogue holds every playbook to the fact
// catalogue: a fact is produced on every OS it is not marked NotOn, and not
// produced where it is marked NotOn (a stale mark would hide a gap).
func TestEveryPlaybookGathersTheCatalogue(t *testing.T) {
	set := loadEmbedded(t)
	for _, os := range set.Names() {
		pb := set.ForOS(os)
		for _, spec := range facts.Catalog() {
			if spec.Builtin {
				continue
			}
			got := pb.Produces(spec.Name)
			switch {
			case spec.AppliesTo(os) && !got:
				t.Errorf("%s playbook: no rule produces fact %s; gather it or mark it NotOn %q in internal/facts/catalog.go", os, spec.Name, os)
			case !spec.AppliesTo(os) && got:
				t.Errorf("%s playbook produces fact %s, which the catalogue marks NotOn %q", os, spec.Name, os)
			}
		}
	}
}

// TestLoadRejectsFactsOutsideTheCatalogue: a renamed fact, a list fact
// without all:, and a value outside an enum are load errors naming the
// file and line.
func TestLoadRejectsFactsOutsideTheCatalogue(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"renamed fact", "checks.yaml", "{name: dns.result, from: kv, key: result}", "{name: dns.outcome, from: kv, key: result}", "no such fact in the catalogue"},
		{"list without all", "checks.yaml", "{name: fs.used, from: kv, key: fs, all: true, max: 10}", "{name: fs.used, from: kv, key: fs, max: 10}", "set all: true"},
		{"enum default", "checks.yaml", "{name: agent.service, from: kv, key: state, default: unknown}", "{name: agent.service, from: kv, key: state, default: gone}", "takes one of"},
		{"bool map", "checks.yaml", `map: {"yes": "true", "no": "false"}}`, `map: {"yes": "true", "no": "nope"}}`, "neither true nor false"},
		{"pass_if on a fact the check lacks", "checks.yaml", "pass_if: {port.result: \"open\"}", "pass_if: {port.outcome: \"open\"}", "has no fact rule for port.outcome"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadReplacing(t, c.file, c.old, c.new)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			// file:line, so the author can jump to it
			if !regexp.MustCompile(`^\(embedded\)/[a-z]+\.yaml:\d+: `).MatchString(err.Error()) {
				t.Errorf("error %q does not name file:line", err)
			}
		})
	}
}

// TestEvaluateDropsValuesOutsideTheCatalogue: an enum value no rule expects
// is not recorded, and the check says so, so no rule can misjudge it.
func TestEvaluateDropsValuesOutsideTheCatalogue(t *testing.T) {
	set := loadEmbedded(t)
	pb := set.ForOS("linux")
	raw := &frame.Raw{OS: "Linux", Playbook: "linux", Done: true, Sections: map[string]*frame.Section{
		"dns.resolve": {Output: "name=dsm\nresult=maybe\n", Complete: true},
	}}
	f, checks := pb.Evaluate(raw)
	if f.Has("dns.result") {
		t.Errorf("dns.result = %q recorded, want it dropped", f.Get("dns.result"))
	}
	for _, c := range checks {
		if c.ID == "dns.resolve" && (c.Result != "error" || !strings.Contains(c.Output, "unexpected output")) {
			t.Errorf("dns.resolve = %s %q, want error naming the unexpected output", c.Result, c.Output)
		}
	}
}

// loadReplacing loads the embedded playbooks with one text replaced in one
// file (the test fails if the text is not there: the test is stale).
func loadReplacing(t *testing.T, file, old, new string) (*Set, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	found := false
	err := fs.WalkDir(playbooks.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(playbooks.FS, path)
		if err != nil {
			return err
		}
		if path == file {
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s no longer has %q: update the test", file, old)
			}
			b = []byte(strings.Replace(string(b), old, new, 1))
			found = true
		}
		fsys[path] = &fstest.MapFile{Data: b, Mode: 0o644}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no embedded %s", file)
	}
	return Load(fsys, "")
}
