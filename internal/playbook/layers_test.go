package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/become"
	"github.com/whyoffline/whyoffline/playbooks"
)

// TestPOSIXPlaybooksExtendTheBase: linux, solaris and aix get the base's
// shared checks and settings, their own overrides win, and the base itself
// is not a playbook a host can get.
func TestPOSIXPlaybooksExtendTheBase(t *testing.T) {
	set := loadEmbedded(t)
	if set.ForOS("") != nil || set.Playbooks["posix"] != nil {
		t.Fatalf("the abstract base must not be a playbook: %v", set.Names())
	}
	linux, solaris, aix := set.ForOS("linux"), set.ForOS("solaris"), set.ForOS("aix")
	for _, p := range []*Playbook{linux, solaris, aix} {
		if p.Exec == "" || len(p.DeniedPatterns) == 0 {
			t.Errorf("%s did not inherit exec/denied_patterns", p.ID)
		}
		// a command for every method the inventory accepts (internal/become)
		for _, m := range become.Names() {
			if !strings.Contains(p.Become[m], m+" ") {
				t.Errorf("%s has no become command for %s: %q", p.ID, m, p.Become[m])
			}
		}
		if p.checkIndex("logs.tls") < 0 || p.checkIndex("setup") != 0 {
			t.Errorf("%s: shared checks missing or out of order", p.ID)
		}
	}
	if solaris.Params["tcp_tools"] != "perl nc bash" || linux.Params["tcp_tools"] != "bash nc curl perl" || solaris.Params["dns_timeout"] != "12" {
		t.Errorf("params: linux %v, solaris %v", linux.Params, solaris.Params)
	}
	svc := solaris.Checks[solaris.checkIndex("agent.service")]
	if !strings.Contains(svc.Run, "svcs") || !svc.produces("agent.smf_state") || svc.PassIf["agent.service"] == "" {
		t.Errorf("solaris agent.service override lost its run, facts or inherited pass_if: %+v", svc)
	}
	if solaris.checkIndex("agent.history") < 0 || linux.checkIndex("agent.history") >= 0 {
		t.Error("agent.history belongs to solaris only")
	}
	// the params reach the script as shell words, per OS
	sc, err := set.RenderUnix("", "", Params{Manager: "m", Port: 4120, AgentPort: 4118, Nonce: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sc.Body), "WO_TCP_TOOLS='perl nc bash'") || !strings.Contains(string(sc.Body), "WO_TCP_TOOLS='bash nc curl perl'") {
		t.Error("params not rendered per OS")
	}
}

// TestSiteOverlay: a --playbooks file changes only what it names; naming a
// check the built-in playbook lacks, or changing a playbook's os, is an
// error with file:line.
func TestSiteOverlay(t *testing.T) {
	cases := []struct {
		name, file, text, err string
		check                 func(t *testing.T, s *Set)
		also                  map[string]string // more files of the site
	}{
		{"one param for every POSIX OS", "posix.yaml", "params:\n  port_timeout: \"3\"\n", "", func(t *testing.T, s *Set) {
			for _, os := range []string{"linux", "solaris", "aix"} {
				if s.ForOS(os).Params["port_timeout"] != "3" || s.ForOS(os).Params["tls_timeout"] != "10" {
					t.Errorf("%s params %v", os, s.ForOS(os).Params)
				}
			}
		}, nil},
		{"one check's snippet on one OS", "aix.yaml", "checks:\n  - id: clock\n    run: echo epoch=1\n", "", func(t *testing.T, s *Set) {
			aix, linux := s.ForOS("aix"), s.ForOS("linux")
			c := aix.Checks[aix.checkIndex("clock")]
			if strings.TrimSpace(c.Run) != "echo epoch=1" || !c.produces("clock.epoch") {
				t.Errorf("aix clock = %+v", c)
			}
			if strings.Contains(linux.Checks[linux.checkIndex("clock")].Run, "epoch=1\n") {
				t.Error("linux clock changed too")
			}
		}, nil},
		{"one check's code as a file, on one OS", "linux/clock.sh", "echo epoch=2\n", "", func(t *testing.T, s *Set) {
			linux, aix := s.ForOS("linux"), s.ForOS("aix")
			c := linux.Checks[linux.checkIndex("clock")]
			if c.Run != "echo epoch=2\n" || !strings.HasSuffix(c.runFile, "linux/clock.sh") || c.runLine != 1 || !c.produces("clock.epoch") {
				t.Errorf("linux clock = %q from %s:%d", c.Run, c.runFile, c.runLine)
			}
			if strings.Contains(aix.Checks[aix.checkIndex("clock")].Run, "epoch=2") {
				t.Error("aix clock changed too")
			}
		}, nil},
		{"a site's POSIX code, where no OS file replaces it", "posix/clock.sh", "echo epoch=3\n", "", func(t *testing.T, s *Set) {
			for _, os := range []string{"linux", "solaris", "aix"} {
				if c := s.ForOS(os).Checks[s.ForOS(os).checkIndex("clock")]; c.Run != "echo epoch=3\n" {
					t.Errorf("%s clock = %q", os, c.Run)
				}
			}
		}, nil},
		{"an OS's own file beats a site's POSIX one", "posix/agent.service.sh", "echo state=running\n", "", func(t *testing.T, s *Set) {
			for _, p := range []*Playbook{s.ForOS("linux"), s.ForOS("solaris")} {
				if c := p.Checks[p.checkIndex("agent.service")]; c.Run == "echo state=running\n" {
					t.Errorf("%s: the site's POSIX agent.service replaced the OS's own", p.ID)
				}
			}
		}, nil},
		{"code for a check no playbook has", "linux/agent.magic.sh", "echo\n", `linux/agent.magic.sh: no playbook with scripts: linux has a check "agent.magic"`, nil, nil},
		{"code given twice", "linux.yaml", "checks:\n  - id: clock\n    run: echo epoch=4\n", "both give its code: keep one", nil, map[string]string{"linux/clock.sh": "echo epoch=5\n"}},
		{"unknown check", "linux.yaml", "checks:\n  - id: agent.magic\n    run: echo\n", "linux.yaml:2: check \"agent.magic\": the built-in linux playbook has no such check", nil, nil},
		{"os cannot change", "linux.yaml", "os: aix\n", "linux.yaml:1: os:", nil, nil},
		{"unknown key", "linux.yaml", "chekcs: []\n", "field chekcs not found", nil, nil},
		{"exec differs between POSIX playbooks", "solaris.yaml", "exec: exec /bin/ksh -s\n", "exec and become must be the same in every POSIX playbook", nil, nil},
		{"a fact outside the catalogue", "linux.yaml", "checks:\n  - id: clock\n    facts:\n      - {name: clock.epoc, from: kv, key: epoch}\n", "linux.yaml:4: check \"clock\": fact \"clock.epoc\": no such fact", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{c.file: c.text}
			for k, v := range c.also {
				files[k] = v
			}
			for name, text := range files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(playbooks.FS, dir)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, s)
		})
	}
}

// TestPlaybookDirRefusesNonRegularFiles: a FIFO named like a playbook is
// refused by name instead of blocking the load.
func TestPlaybookDirRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if err := mkfifo(filepath.Join(dir, "linux.yaml")); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	_, err := Load(playbooks.FS, dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
	big := t.TempDir()
	if err := os.WriteFile(filepath.Join(big, "linux.yaml"), make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(playbooks.FS, big); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("oversize file: err = %v", err)
	}
}

// TestProbeTimeoutsFitTheBudget: a host with a short deadline gets probe
// timeouts scaled to it; the default deadline keeps the playbook's.
func TestProbeTimeoutsFitTheBudget(t *testing.T) {
	set := loadEmbedded(t)
	for _, c := range []struct {
		budget time.Duration
		want   []string
	}{
		{0, []string{"WO_PORT_TIMEOUT='6'", "WO_TLS_TIMEOUT='10'", "WO_TRACE_TIMEOUT='14'", "WO_DNS_TIMEOUT='12'"}},
		{60 * time.Second, []string{"WO_PORT_TIMEOUT='6'", "WO_TRACE_TIMEOUT='14'"}},
		{8 * time.Second, []string{"WO_PORT_TIMEOUT='1'", "WO_TLS_TIMEOUT='1'", "WO_TRACE_TIMEOUT='1'", "WO_DNS_TIMEOUT='1'", "WO_DSA_TIMEOUT='2'", "WO_TCP_TOOLS='bash nc curl perl'"}},
		{30 * time.Second, []string{"WO_PORT_TIMEOUT='3'", "WO_TLS_TIMEOUT='5'", "WO_TRACE_TIMEOUT='7'"}},
	} {
		sc, err := set.RenderUnix("linux", "", Params{Manager: "m", Port: 4120, Nonce: "0123456789abcdef", Budget: c.budget})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(sc.Body), w) {
				t.Errorf("budget %s: script lacks %s", c.budget, w)
			}
		}
	}
}
