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
	"github.com/whyoffline/whyoffline/internal/secret"
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

// TestSecretThatIsAWordKeepsIdentifiers: a password that happens to be a
// word in a cause ID and the host name ("agent", of agent-not-running) is hidden in text
// but never in the IDs, statuses and names consumers key on: the run
// still validates against the schema and keeps its cause.
func TestSecretThatIsAWordKeepsIdentifiers(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"agent-stopped"})
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir(), "WHYOFFLINE_SSH_PASSWORD": "agent"}, "scan", "-i", inv,
		"--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkSchema(t, "scan with a word for a password", r.stdout)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || len(run.Hosts) != 1 {
		t.Fatalf("%v", err)
	}
	c := run.Hosts[0].Causes
	if len(c) == 0 || c[0].ID != "agent-not-running" || run.Hosts[0].Status != result.Diagnosed {
		t.Fatalf("identifiers changed: %s %+v", run.Hosts[0].Status, c)
	}
	// and the scrubber did run with it: the words are hidden elsewhere
	hidden := strings.Count(r.stdout, secret.Hidden)
	if hidden == 0 {
		t.Errorf("no text was hidden, so the test proves nothing about identifiers")
	}
	t.Logf("%d strings hidden, identifiers kept", hidden)
	if !strings.Contains(run.Hosts[0].Name, "agent") {
		t.Errorf("the host name lost its word: %q", run.Hosts[0].Name)
	}
}
