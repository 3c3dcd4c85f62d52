package playbook

import (
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/facts"
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
	linux, err := playbooks.FS.ReadFile("linux.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"renamed fact", "{name: dns.result, from: kv, key: result}", "{name: dns.outcome, from: kv, key: result}", "no such fact in the catalogue"},
		{"list without all", "{name: fs.used, from: kv, key: fs, all: true, max: 10}", "{name: fs.used, from: kv, key: fs, max: 10}", "set all: true"},
		{"enum default", "{name: agent.service, from: kv, key: state, default: unknown}", "{name: agent.service, from: kv, key: state, default: gone}", "takes one of"},
		{"bool map", `map: {"yes": "true", "no": "false"}}`, `map: {"yes": "true", "no": "nope"}}`, "neither true nor false"},
		{"pass_if on a fact the check lacks", "pass_if: {port.result: \"open\"}", "pass_if: {port.outcome: \"open\"}", "has no fact rule for port.outcome"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := string(linux)
			if !strings.Contains(text, c.old) {
				t.Fatalf("linux.yaml no longer has %q: update the test", c.old)
			}
			text = strings.Replace(text, c.old, c.new, 1)
			_, err := parsePlaybook("linux.yaml", []byte(text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			// file:line, so the author can jump to it
			if !strings.HasPrefix(err.Error(), "linux.yaml:") || !strings.Contains(err.Error()[len("linux.yaml:"):], ":") {
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
	raw := &Raw{OS: "Linux", Playbook: "linux", Done: true, Sections: map[string]*Section{
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
