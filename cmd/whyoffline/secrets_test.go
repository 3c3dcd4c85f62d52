package main

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
)

// TestEchoedSecretsHiddenEverywhere: a host echoes the run's password —
// as written, URL-encoded and as Basic auth's user:password — into a log
// line the scan quotes as evidence. Given that password (here the
// run-wide WHYOFFLINE_SSH_PASSWORD), no form of it reaches stdout,
// stderr, the report, the state directory's history or the --save-raw
// files, and the host's verdict is unchanged. Without it the same scan
// shows the echo, so the test sees what it claims to hide.
func TestEchoedSecretsHiddenEverywhere(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"echoes-secret"})
	forms := []string{fleetsim.EchoedSecret, strings.ToLower(fleetsim.EchoedSecret), url.QueryEscape(fleetsim.EchoedSecret),
		base64.StdEncoding.EncodeToString([]byte("demo:" + fleetsim.EchoedSecret))}
	scan := func(password string) (string, []byte) {
		dir := t.TempDir()
		vars := map[string]string{"HOME": t.TempDir()}
		if password != "" {
			vars["WHYOFFLINE_SSH_PASSWORD"] = password
		}
		r := runCLI(t, "", vars, "scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s",
			"--out", filepath.Join(dir, "run.json"), "--state-dir", filepath.Join(dir, "state"), "--save-raw", filepath.Join(dir, "raw"))
		if r.code != exitFindings {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		all := r.stdout + r.stderr
		files := 0
		err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			files++
			all += "\n" + string(b)
			return err
		})
		if err != nil || files < 4 {
			t.Fatalf("%d files written: %v", files, err)
		}
		run, err := os.ReadFile(filepath.Join(dir, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		return all, run
	}

	shown, _ := scan("")
	if !strings.Contains(shown, fleetsim.EchoedSecret) {
		t.Fatal("without the password the echo does not reach any file: the test would prove nothing")
	}
	hidden, runJSON := scan(fleetsim.EchoedSecret)
	for _, f := range forms {
		if strings.Contains(hidden, f) {
			t.Errorf("the password shows as %q", f)
		}
	}
	var run result.Run
	if err := json.Unmarshal(runJSON, &run); err != nil || len(run.Hosts) != 1 {
		t.Fatalf("run: %v", err)
	}
	h := run.Hosts[0]
	if h.Status != result.Diagnosed || len(h.Causes) == 0 || h.Causes[0].ID != "tls-failure" {
		t.Errorf("verdict changed: %s %+v", h.Status, h.Causes)
	}
	if !strings.Contains(h.Causes[0].Evidence, "[secret hidden]") {
		t.Errorf("evidence does not say what was hidden: %q", h.Causes[0].Evidence)
	}
}
