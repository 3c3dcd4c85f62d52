package playbook

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strconv"
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
// the one a host of unknown OS gets — has no shellcheck warning. A finding
// is reported at the playbook file and line it comes from (Script.Origin),
// not at a line of the rendered script nobody edits.
func TestScriptsPassShellcheck(t *testing.T) {
	sc := needTool(t, "shellcheck")
	set := loadEmbedded(t)
	params := Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce()}
	for _, os := range []string{"", "linux", "solaris", "aix"} {
		script, err := set.RenderUnix(os, "", params)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sc, "-S", "warning", "-s", "sh", "-f", "gcc", "-")
		cmd.Stdin = strings.NewReader(string(script.Body))
		out, err := cmd.CombinedOutput()
		if err == nil {
			continue
		}
		for _, finding := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			t.Errorf("shellcheck (os %q): %s", os, placeFinding(script, finding))
		}
	}
}

// placeFinding rewrites shellcheck's "-:LINE:COL: level: message" to the
// playbook file and line the rendered line comes from.
func placeFinding(s *Script, finding string) string {
	parts := strings.SplitN(finding, ":", 4)
	if len(parts) < 4 || parts[0] != "-" {
		return finding
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return finding
	}
	file, line, check, ok := s.Origin(n)
	if !ok {
		return fmt.Sprintf("rendered script line %d (written by the renderer):%s:%s", n, parts[2], parts[3])
	}
	return fmt.Sprintf("%s:%d:%s:%s (check %s; rendered line %d)", file, line, parts[2], parts[3], check, n)
}

// TestScriptOriginNamesTheEditedLine: every check's run: text, found in
// the rendered script, maps back to the very line of its playbook file —
// checked by reading that line there.
func TestScriptOriginNamesTheEditedLine(t *testing.T) {
	set := loadEmbedded(t)
	params := Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce()}
	posix, err := set.RenderUnix("", "", params)
	if err != nil {
		t.Fatal(err)
	}
	windows, err := set.RenderPowerShell(params)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for name, script := range map[string]*Script{"posix": posix, "windows": windows} {
		rendered := strings.Split(string(script.Body), "\n")
		mapped := 0
		for n := 1; n <= len(rendered); n++ {
			file, line, check, ok := script.Origin(n)
			if !ok {
				continue
			}
			if files[file] == nil {
				b, err := fs.ReadFile(playbooks.FS, strings.TrimPrefix(file, "(embedded)/"))
				if err != nil {
					t.Fatalf("check %s: origin %s: %v", check, file, err)
				}
				files[file] = strings.Split(string(b), "\n")
			}
			src := files[file]
			if line < 1 || line > len(src) || strings.TrimSpace(src[line-1]) != strings.TrimSpace(rendered[n-1]) {
				got := ""
				if line >= 1 && line <= len(src) {
					got = src[line-1]
				}
				t.Fatalf("%s: rendered line %d %q maps to %s:%d %q (check %s)", name, n, rendered[n-1], file, line, got, check)
			}
			mapped++
		}
		if mapped < len(rendered)/2 {
			t.Errorf("%s: only %d of %d rendered lines map to a playbook line", name, mapped, len(rendered))
		}
		t.Logf("%s: %d of %d rendered lines map to their playbook line", name, mapped, len(rendered))
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

// TestScriptsHaveNoHereDocuments: bash before 5.1 (/bin/sh on RHEL 7 and
// 8) writes a here-document to a file in $TMPDIR before reading it — a
// write on a host the checks promise to leave alone. The POSIX scripts
// read text with the shell (wo_next) instead; none may bring one back.
func TestScriptsHaveNoHereDocuments(t *testing.T) {
	set := loadEmbedded(t)
	heredoc := regexp.MustCompile(`(?m)<<-?[ \t]*['"]?[A-Za-z_][A-Za-z0-9_]*['"]?[ \t]*$`)
	for _, os := range []string{"", "linux", "solaris", "aix"} {
		script, err := set.RenderUnix(os, "sudo", Params{Manager: "m", Port: 4120, Nonce: "0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range heredoc.FindAllIndex(script.Body, -1) {
			n := strings.Count(string(script.Body[:loc[0]]), "\n") + 1
			file, line, check, _ := script.Origin(n)
			t.Errorf("os %q: a here-document at %s:%d (check %s): %q", os, file, line, check, script.Body[loc[0]:loc[1]])
		}
	}
}
