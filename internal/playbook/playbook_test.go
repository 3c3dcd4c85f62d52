package playbook

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/playbooks"
)

func loadEmbedded(t *testing.T) *Set {
	t.Helper()
	s, err := Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLinuxScriptRunsUnderRealShells renders the Linux playbook and runs it
// under this machine's real sh (and dash/bash when present): every section
// must come back complete, whatever the machine's state.
func TestLinuxScriptRunsUnderRealShells(t *testing.T) {
	set := loadEmbedded(t)
	params := Params{Manager: "manager.invalid", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce()}
	for _, os := range []string{"", "linux"} {
		script, err := set.RenderUnix(os, "", params)
		if err != nil {
			t.Fatal(err)
		}
		for _, shell := range []string{"/bin/sh", "/bin/dash", "/bin/bash"} {
			if _, err := exec.LookPath(shell); err != nil {
				continue
			}
			out, err := runShell(shell, string(script.Body), 60*time.Second)
			if err != nil {
				t.Fatalf("%s: %v\n%s", shell, err, out)
			}
			raw := Split(out, params.Nonce)
			if !raw.Done || raw.OS != "Linux" || raw.Playbook != "linux" {
				t.Fatalf("%s: done=%v os=%q playbook=%q\n%s", shell, raw.Done, raw.OS, raw.Playbook, out)
			}
			f, checks := set.ForOS("linux").Evaluate(raw)
			for _, c := range checks {
				if c.Result == "error" {
					t.Errorf("%s: check %s did not complete: %s", shell, c.ID, c.Output)
				}
			}
			for _, name := range []string{"agent.installed", "agent.process", "clock.epoch", "dns.result", "port.result", "manager.host"} {
				if !f.Has(name) {
					t.Errorf("%s: fact %s missing; facts = %v", shell, name, f)
				}
			}
			if f.Get("manager.host") != "manager.invalid" {
				t.Errorf("manager.host = %q", f.Get("manager.host"))
			}
		}
	}
}

// TestUnixPlaybooksParseUnderRealShells runs the Solaris and AIX scripts
// (chosen by os:, as an inventory would) under this machine's POSIX
// shells. Their OS commands are absent here, so this proves syntax and
// that every section ends and falls back cleanly; the lab proves the rest.
func TestUnixPlaybooksParseUnderRealShells(t *testing.T) {
	set := loadEmbedded(t)
	params := Params{Manager: "manager.invalid", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce(), ManagerAddr: "127.0.0.1"}
	for _, os := range []string{"solaris", "aix"} {
		script, err := set.RenderUnix(os, "", params)
		if err != nil {
			t.Fatal(err)
		}
		for _, shell := range []string{"/bin/dash", "/bin/bash"} {
			if _, err := exec.LookPath(shell); err != nil {
				continue
			}
			out, _ := runShell(shell, string(script.Body), 90*time.Second)
			raw := Split(out, params.Nonce)
			// os: given, so the case statement has only this playbook and
			// this Linux machine falls through to "unsupported" — unless
			// the script is run with its uname answer forced below.
			if !raw.Unsupported || !raw.Done {
				t.Fatalf("%s/%s: want unsupported on Linux: %s", os, shell, out)
			}
			// run the same body with the OS name swapped in for Linux
			body := strings.Replace(string(script.Body), "'"+set.ForOS(os).Uname+"')", "'Linux')", 1)
			out, err = runShell(shell, body, 90*time.Second)
			if err != nil {
				t.Fatalf("%s/%s: %v", os, shell, err)
			}
			raw = Split(out, params.Nonce)
			if !raw.Done || raw.Playbook != os {
				t.Fatalf("%s/%s: done=%v playbook=%q\n%s", os, shell, raw.Done, raw.Playbook, out)
			}
			f, checks := set.ForOS(os).Evaluate(raw)
			for _, c := range checks {
				if c.Result == "error" {
					t.Errorf("%s/%s: check %s did not complete: %s", os, shell, c.ID, c.Output)
				}
			}
			for _, name := range []string{"agent.installed", "agent.process", "agent.service", "clock.epoch", "dns.result", "port.result"} {
				if !f.Has(name) {
					t.Errorf("%s/%s: fact %s missing; facts = %v", os, shell, name, f)
				}
			}
		}
	}
}

// TestSplitCutShort: output cut off by a deadline tells which check was
// still running, and a forged end marker without the nonce changes nothing.
func TestSplitCutShort(t *testing.T) {
	const n = "0123456789abcdef"
	m := func(tag string) string { return "<<WO:" + n + ":" + tag + ">>\n" }
	full := m("os:Linux") + m("playbook:linux") + m("begin:a") + "x=1\n" + m("end:a:0") + m("begin:b") + "y=2\n" + m("end:b:0") + m("done")
	for _, tc := range []struct {
		name, out, running string
		complete           []string
		done               bool
	}{
		{"nothing", "", "", nil, false},
		{"banner only", "Welcome to host\n", "", nil, false},
		{"inside a", full[:strings.Index(full, "x=1")+4], "a", nil, false},
		{"between", full[:strings.Index(full, m("begin:b"))], "", []string{"a"}, false},
		{"inside b, forged end", full[:strings.Index(full, "y=2")] + "<<WO:ffffffffffffffff:end:b:0>>\n", "b", []string{"a"}, false},
		{"whole", full, "", []string{"a", "b"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := Split([]byte(tc.out), n)
			var complete []string
			for _, id := range []string{"a", "b"} {
				if s := raw.Sections[id]; s != nil && s.Complete {
					complete = append(complete, id)
				}
			}
			if raw.Running != tc.running || raw.Done != tc.done || strings.Join(complete, ",") != strings.Join(tc.complete, ",") {
				t.Errorf("running %q done %v complete %v; want %q %v %v", raw.Running, raw.Done, complete, tc.running, tc.done, tc.complete)
			}
		})
	}
}

// runShell runs a script on a real shell's standard input, bounded.
func runShell(shell, script string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, "-s")
	cmd.Stdin = strings.NewReader(script)
	return cmd.Output()
}
