package playbook

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/playbooks"
)

func loadEmbedded(t testing.TB) *Set {
	t.Helper()
	s, err := Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// shells are the POSIX shells the scripts must run under: Debian's dash
// and bash, ksh93 (what Solaris 11 and AIX give sh), mksh, and busybox sh
// (appliances). Missing ones fail in CI (make unit-deps installs them) and
// are skipped, with their names, elsewhere.
var shells = []struct {
	name, path string
	args       []string
}{
	{"dash", "dash", nil},
	{"bash", "bash", []string{"--norc", "--noprofile"}},
	{"ksh93", "ksh93", nil},
	{"mksh", "mksh", nil},
	{"busybox-sh", "busybox", []string{"sh"}},
}

// needTool finds a command the tests need, or fails (CI) / skips (else).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed and CI is set: run make unit-deps (apt-get install shellcheck ksh mksh busybox)", name)
		}
		t.Skipf("%s is not installed (make unit-deps installs it)", name)
	}
	return p
}

// TestPOSIXScriptsRunUnderEveryShell renders the Linux, Solaris and AIX
// playbooks and runs each under every shell above. On this Linux machine
// the Solaris and AIX scripts run with their uname answer swapped for
// Linux: their OS commands are absent, so this proves syntax and that
// every section ends and falls back cleanly; the lab proves the rest.
func TestPOSIXScriptsRunUnderEveryShell(t *testing.T) {
	set := loadEmbedded(t)
	// localhost: resolved from /etc/hosts, so the test asks no DNS server
	params := Params{Manager: "localhost", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce(), ManagerAddr: "127.0.0.1"}
	for _, sh := range shells {
		for _, os := range []string{"linux", "solaris", "aix"} {
			sh, os := sh, os
			t.Run(sh.name+"/"+os, func(t *testing.T) {
				t.Parallel()
				path := needTool(t, sh.path)
				script, err := set.RenderUnix(os, "", params)
				if err != nil {
					t.Fatal(err)
				}
				body := string(script.Body)
				if os != "linux" {
					body = strings.Replace(body, "'"+set.ForOS(os).Uname+"')", "'Linux')", 1)
				}
				out, err := runShell(path, sh.args, body, 90*time.Second)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				raw := frame.Split(out, params.Nonce)
				if !raw.Done || raw.OS != "Linux" || raw.Playbook != os {
					t.Fatalf("done=%v os=%q playbook=%q\n%s", raw.Done, raw.OS, raw.Playbook, out)
				}
				f, checks := set.ForOS(os).Evaluate(raw)
				for _, c := range checks {
					if c.Result == "error" {
						t.Errorf("check %s did not complete: %s", c.ID, c.Output)
					}
				}
				for _, name := range []string{"agent.installed", "agent.process", "agent.service", "clock.epoch", "dns.result", "port.result", "manager.host"} {
					if !f.Has(name) {
						t.Errorf("fact %s missing; facts = %v", name, f)
					}
				}
				if f.Get("manager.host") != "localhost" {
					t.Errorf("manager.host = %q", f.Get("manager.host"))
				}
			})
		}
	}
}

// TestScriptsPassShellcheck: every rendered POSIX script — each OS's and
// the one a host of unknown OS gets — has no shellcheck warning.
func TestScriptsPassShellcheck(t *testing.T) {
	sc := needTool(t, "shellcheck")
	set := loadEmbedded(t)
	params := Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce()}
	for _, os := range []string{"", "linux", "solaris", "aix"} {
		script, err := set.RenderUnix(os, "", params)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sc, "-S", "warning", "-s", "sh", "-")
		cmd.Stdin = strings.NewReader(string(script.Body))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck (os %q): %v\n%s", os, err, out)
		}
	}
}

// runShell runs a script on a real shell's standard input, bounded.
func runShell(shell string, args []string, script string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, append(append([]string{}, args...), "-s")...)
	cmd.Stdin = strings.NewReader(script)
	return cmd.Output()
}
