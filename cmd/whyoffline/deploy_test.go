package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkWhyofflineCalls checks every whyoffline call in a shell script:
// the command exists, so does each --flag, and no secret is on the line.
func checkWhyofflineCalls(t *testing.T, script string) {
	t.Helper()
	root := newRoot(&env{getenv: func(string) string { return "" }})
	flags := regexp.MustCompile(`(?:^|\s)(--[a-z-]+)`)
	calls := 0
	for _, part := range regexp.MustCompile(`;|&&|\|\|`).Split(script, -1) {
		f := strings.Fields(strings.TrimSpace(part))
		for len(f) > 0 && (f[0] == "exec" || strings.Contains(f[0], "=")) {
			f = f[1:]
		}
		if len(f) < 2 || !strings.HasSuffix(f[0], "whyoffline") {
			continue
		}
		calls++
		cmd, _, err := root.Find(f[1:2])
		if err != nil || cmd == root {
			t.Errorf("no whyoffline command %q", f[1])
			continue
		}
		for _, m := range flags.FindAllStringSubmatch(part, -1) {
			name := strings.TrimPrefix(m[1], "--")
			if cmd.Flags().Lookup(name) == nil && root.PersistentFlags().Lookup(name) == nil {
				t.Errorf("whyoffline %s has no flag %s", cmd.Name(), m[1])
			}
			if strings.Contains(name, "password") || strings.Contains(name, "key") && !strings.HasSuffix(name, "-file") {
				t.Errorf("a secret on a command line: %s", m[1])
			}
		}
	}
	if calls == 0 {
		t.Errorf("no whyoffline call found in %q", script)
	}
}

// TestSystemdUnits: the service and timer pass systemd-analyze verify
// (with the binary's path pointed at an executable that exists here), the
// service is hardened and sandboxed, and its and the cron example's
// whyoffline calls use flags that exist.
func TestSystemdUnits(t *testing.T) {
	svc, err := os.ReadFile("../../deploy/systemd/whyoffline-sweep.service")
	if err != nil {
		t.Fatal(err)
	}
	timer, err := os.ReadFile("../../deploy/systemd/whyoffline-sweep.timer")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=whyoffline", "LoadCredential=", "NoNewPrivileges=yes", "SuccessExitStatus=1"} {
		if !strings.Contains(string(svc), want) {
			t.Errorf("the service lacks %s", want)
		}
	}
	var lines []string
	for _, l := range strings.Split(string(svc), "\n") {
		if strings.HasPrefix(l, "ExecStart") {
			lines = append(lines, strings.SplitN(l, "=", 2)[1])
		}
	}
	checkWhyofflineCalls(t, strings.Join(lines, " ; "))
	cron, err := os.ReadFile("../../deploy/cron/whyoffline.cron")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(cron), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "MAILTO") {
			checkWhyofflineCalls(t, l)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing and CI is set: make unit-deps installs systemd")
		}
		t.Skip("systemd-analyze is missing (make unit-deps installs systemd)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whyoffline-sweep.service"), []byte(strings.ReplaceAll(string(svc), "/usr/local/bin/whyoffline", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "whyoffline-sweep.timer"), timer, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", filepath.Join(dir, "whyoffline-sweep.service"), filepath.Join(dir, "whyoffline-sweep.timer")).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
