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
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			cmd := exec.CommandContext(ctx, shell, "-s")
			cmd.Stdin = strings.NewReader(string(script.Body))
			out, err := cmd.Output()
			cancel()
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
