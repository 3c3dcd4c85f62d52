package diagnose

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
)

// contractIDs reads the cause IDs and fleet finding IDs that
// docs/contract.md fixes, so this test follows the contract instead of a
// hand-kept copy of it (which once missed proxy-unreachable and every
// fleet finding).
func contractIDs(t *testing.T) (hostCauses, fleetFindings []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	table := section(t, doc, "Cause IDs", "Every cause has")
	for _, line := range strings.Split(table, "\n") {
		if m := tableID.FindStringSubmatch(line); m != nil {
			hostCauses = append(hostCauses, m[1])
		}
	}
	for _, m := range backticked.FindAllStringSubmatch(section(t, doc, "Fleet findings (in `fleet`, each listing the hosts it explains):", ". A\nfinding has"), -1) {
		fleetFindings = append(fleetFindings, m[1])
	}
	if len(hostCauses) < 10 || len(fleetFindings) < 3 {
		t.Fatalf("docs/contract.md: found %d cause IDs and %d fleet findings; has the layout of its lists changed?", len(hostCauses), len(fleetFindings))
	}
	return hostCauses, fleetFindings
}

var (
	tableID    = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|")
	backticked = regexp.MustCompile("`([a-z0-9-]+)`")
)

func section(t *testing.T, doc, from, to string) string {
	t.Helper()
	i := strings.Index(doc, from)
	if i < 0 {
		t.Fatalf("docs/contract.md no longer has %q", from)
	}
	rest := doc[i+len(from):]
	j := strings.Index(rest, to)
	if j < 0 {
		t.Fatalf("docs/contract.md: %q is not followed by %q", from, to)
	}
	return rest[:j]
}

// TestRegistryMatchesTheContract: every ID the contract fixes is
// registered with the right kind (host cause or fleet finding), and
// nothing is registered that the contract does not name.
func TestRegistryMatchesTheContract(t *testing.T) {
	hostCauses, fleetFindings := contractIDs(t)
	want := map[string]bool{} // id -> fleet
	for _, id := range hostCauses {
		want[id] = false
	}
	for _, id := range fleetFindings {
		want[id] = true
	}
	for id, fleet := range want {
		c, ok := Lookup(id)
		switch {
		case !ok:
			t.Errorf("contract ID %s is not registered", id)
		case c.Fleet != fleet:
			t.Errorf("%s: the contract lists it as fleet=%v, the registry as fleet=%v", id, fleet, c.Fleet)
		}
	}
	for _, c := range Causes() {
		if _, ok := want[c.ID]; !ok {
			t.Errorf("%s is registered but docs/contract.md does not name it: add it to the contract's lists", c.ID)
		}
	}
}

func TestRegistryIsWellFormed(t *testing.T) {
	ranks := map[int]string{}
	for _, c := range Causes() {
		if other, dup := ranks[c.Rank]; dup {
			t.Errorf("%s and %s share rank %d: the primary cause must be unambiguous", c.ID, other, c.Rank)
		}
		ranks[c.Rank] = c.ID
		if c.Title == "" || strings.TrimSpace(c.Remedy) == "" {
			t.Errorf("%s: title and remedy are required", c.ID)
		}
		if c.Fleet != (c.FleetRule != nil) || (c.Fleet && c.Rule != nil) {
			t.Errorf("%s: a fleet finding has a FleetRule and no Rule; a host cause no FleetRule", c.ID)
		}
		if c.Rule != nil && len(c.Needs) == 0 {
			t.Errorf("%s: a rule must declare the facts it needs", c.ID)
		}
		for _, s := range c.Supersedes {
			if _, ok := Lookup(s); !ok {
				t.Errorf("%s supersedes unknown cause %s", c.ID, s)
			}
		}
		for _, name := range append(append([]string{}, c.Needs...), c.Uses...) {
			if _, ok := facts.Lookup(name); !ok {
				t.Errorf("%s reads %s, which the fact catalogue does not declare", c.ID, name)
			}
		}
	}
}

// TestEveryCauseCanReadItsFactsWhereItApplies: for every OS a cause applies
// to, that OS's playbook produces every fact the cause reads — unless the
// catalogue marks the fact not gathered there, which a cause may accept
// only for facts it merely uses for evidence. Renaming a fact in one OS's
// YAML fails here (or at load), never silently.
func TestEveryCauseCanReadItsFactsWhereItApplies(t *testing.T) {
	set, err := playbook.Load(playbooksFS(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Causes() {
		if c.Rule == nil {
			continue
		}
		for _, os := range set.Names() {
			if !c.AppliesTo(os) {
				continue
			}
			pb := set.ForOS(os)
			for _, name := range c.Needs {
				spec, _ := facts.Lookup(name)
				if !spec.AppliesTo(os) {
					t.Errorf("%s applies on %s but needs %s, which is not gathered there: limit the cause's OS list or gather the fact", c.ID, os, name)
				} else if !pb.Produces(name) {
					t.Errorf("%s needs %s, which the %s playbook does not produce", c.ID, name, os)
				}
			}
			for _, name := range c.Uses {
				spec, _ := facts.Lookup(name)
				if spec.AppliesTo(os) && !pb.Produces(name) {
					t.Errorf("%s uses %s, which the %s playbook does not produce (mark it NotOn %s in the catalogue if that is meant)", c.ID, name, os, os)
				}
			}
		}
	}
}

// recorder is a facts.Reader that notes every fact name read.
type recorder struct {
	f    facts.Facts
	read map[string]bool
}

func (r *recorder) note(n string) { r.read[n] = true }
func (r *recorder) Has(n string) bool {
	r.note(n)
	return r.f.Has(n)
}
func (r *recorder) Get(n string) string {
	r.note(n)
	return r.f.Get(n)
}
func (r *recorder) List(n string) []string {
	r.note(n)
	return r.f.List(n)
}
func (r *recorder) Is(n string, w ...string) bool {
	r.note(n)
	return r.f.Is(n, w...)
}
func (r *recorder) Bool(n string) (bool, bool) {
	r.note(n)
	return r.f.Bool(n)
}
func (r *recorder) Float(n string) (float64, bool) {
	r.note(n)
	return r.f.Float(n)
}
func (r *recorder) Int(n string) (int64, bool) {
	r.note(n)
	return r.f.Int(n)
}

// TestRulesReadOnlyWhatTheyDeclare runs every rule over facts that take
// every value the catalogue allows, one fact at a time, and checks that
// it reads no fact outside its Needs and Uses — so the declarations that
// completeness and the playbook tests rely on are true.
func TestRulesReadOnlyWhatTheyDeclare(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	base := healthyFacts(now)
	base.Set("os.release", "5.11")
	base.Set("agent.version", "11.0.0-1")
	base["agent.history"] = []string{"9.0.0-1000"}
	base["log.tls"] = []string{"SSL error"}
	base.Set("log.tls_found", "true")
	base["path.hops"] = []string{"1 10.0.0.1", "2 *"}
	base["fw.rules"] = []string{"-A OUTPUT -p tcp --dport 4120 -j DROP"}
	var variants []facts.Facts
	for _, spec := range facts.Catalog() {
		vals := spec.Values
		if spec.Kind == facts.Bool {
			vals = []string{"true", "false"}
		}
		for _, v := range append(vals, "") {
			f := facts.Facts{}
			for k, x := range base {
				f[k] = x
			}
			if v == "" {
				delete(f, spec.Name)
			} else {
				f.Set(spec.Name, v)
			}
			variants = append(variants, f)
		}
	}
	no := false
	opts := []*Options{
		{Manager: "dsm", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", MaxClockSkew: time.Minute},
		{Manager: "dsm", Port: 4120, AgentPort: 4118, Mode: "bidirectional", MaxClockSkew: time.Minute,
			CorporateNetworks: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}},
	}
	for _, c := range Causes() {
		if c.Rule == nil {
			continue
		}
		declared := map[string]bool{}
		for _, n := range append(append([]string{}, c.Needs...), c.Uses...) {
			declared[n] = true
		}
		extra := map[string]bool{}
		for _, f := range variants {
			for _, o := range opts {
				for _, os := range []string{"linux", "solaris", "aix", "windows"} {
					for _, inbound := range []string{"", "open", "timeout"} {
						r := &recorder{f: f, read: map[string]bool{}}
						in := &Input{Name: "h", OS: os, Facts: r, BastionAddrs: []string{"10.9.9.9"}, ManagerReachable: &no,
							AgentPortFromManager: inbound, AgentPortProbedFrom: "the bastion"}
						in.Window.Start, in.Window.End = now.Add(-time.Hour), now.Add(-time.Hour)
						c.Rule(in, o)
						for n := range r.read {
							if !declared[n] {
								extra[n] = true
							}
						}
					}
				}
			}
		}
		if len(extra) > 0 {
			var names []string
			for n := range extra {
				names = append(names, n)
			}
			sort.Strings(names)
			t.Errorf("%s reads %v without declaring them in Needs or Uses", c.ID, names)
		}
	}
}

// TestSupersededCauseIsDropped: the Solaris upgrade trap explains the
// stopped agent, so only the trap is reported.
func TestSupersededCauseIsDropped(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	f := healthyFacts(now)
	f.Set("os.release", "5.11")
	f.Set("agent.version", "11.0.0-1234")
	f["agent.history"] = []string{"9.0.0-5000", "11.0.0-1234"}
	f.Set("agent.process", "false")
	in := &Input{Name: "s", OS: "solaris", Facts: f}
	in.Window.Start, in.Window.End = now, now
	o := &Options{Manager: "dsm", Port: 4120, Thresholds: playbook.Thresholds{LoadPerCPU: 4, MemAvailablePct: 5, FSUsedPct: 98}}
	got := Host(in, o)
	if len(got) != 1 || got[0].ID != result.SolarisAgentUpgrade {
		t.Errorf("causes %+v, want only %s", got, result.SolarisAgentUpgrade)
	}
	in.OS = "linux" // the trap is Solaris-only: a Linux host is just stopped
	got = Host(in, o)
	if len(got) != 1 || got[0].ID != result.AgentNotRunning {
		t.Errorf("linux: causes %+v, want only %s", got, result.AgentNotRunning)
	}
}

// TestSiteOverlayRemedies: a causes.yaml overlay rewords one cause and
// keeps the rest; naming an unknown cause or emptying a remedy is an error
// with file:line.
func TestSiteOverlayRemedies(t *testing.T) {
	cases := []struct {
		name, yaml, want, err string
	}{
		{"reword one", "causes:\n  agent-not-running:\n    remedy: Call UNIX-OPS about {{.Host}}.\n", "Call UNIX-OPS about h.", ""},
		{"unknown cause", "causes:\n  agent-on-fire:\n    remedy: run\n", "", "causes.yaml:2: agent-on-fire: no such cause"},
		{"empty remedy", "causes:\n  agent-not-running:\n    remedy: \"\"\n", "", "causes.yaml:2: agent-not-running: remedy: is empty"},
		{"bad template", "causes:\n  agent-not-running:\n    remedy: \"{{.Nope}}\"\n", "", "can't evaluate field Nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir+"/causes.yaml", c.yaml)
			set, err := playbook.Load(playbooksFS(), dir)
			if err != nil {
				t.Fatal(err)
			}
			rem, err := NewRemedies(set.Causes)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := RemedyVars{Manager: "dsm", Port: 4120, Host: "h"}
			if got := rem.Render("agent-not-running", "solaris", v); got != c.want {
				t.Errorf("overridden remedy = %q, want %q (a site's one wording replaces the per-OS ones)", got, c.want)
			}
			if got := rem.Render("clock-skew", "linux", v); !strings.Contains(got, "chronyd") {
				t.Errorf("untouched cause lost its built-in remedy: %q", got)
			}
		})
	}
}

// An agent proxy makes its test decisive: without its verdict the host is
// not called healthy; without a proxy the test is no verdict's concern.
func TestDecisiveFollowsTheAgentProxy(t *testing.T) {
	o := &Options{Mode: "agent-initiated"}
	has := func(list []string, name string) bool {
		for _, n := range list {
			if n == name {
				return true
			}
		}
		return false
	}
	none := facts.Facts{}
	if d := Decisive("linux", o, none); has(d, "proxy.result") || !has(d, "agent.proxy") {
		t.Errorf("no proxy: decisive %v, want agent.proxy and not proxy.result", d)
	}
	withProxy := facts.Facts{"agent.proxy": {"manager dsm_proxy://10.1.0.9:3128/", "relay relay_proxy://10.1.0.8:3128/"}}
	if d := Decisive("linux", o, withProxy); !has(d, "proxy.result") || !has(d, "proxy.relay_result") {
		t.Errorf("with proxies: decisive %v, want proxy.result and proxy.relay_result", d)
	}
}
