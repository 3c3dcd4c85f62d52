package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// TestSkippedHostsAreReported: an Ansible inventory's hosts whyoffline
// cannot reach the way Ansible would (a local or network_cli connection,
// become_method su) are not a reason to refuse the file: the rest is
// scanned, and every report format lists them with the reason, counted
// in the summary apart from the scanned hosts.
func TestSkippedHostsAreReported(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy"})
	dir := t.TempDir()
	skip := filepath.Join(dir, "more.ini")
	if err := os.WriteFile(skip, []byte("[ctl]\nlocalhost ansible_connection=local\n[net]\nrtr01 ansible_connection=ansible.netcommon.network_cli\n[db]\ndb09 ansible_become=true ansible_become_method=su\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := map[string]string{"HOME": dir}
	base := []string{"scan", "-i", inv, "-i", skip, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "10s"}

	r := runCLI(t, "", home, append(base, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (the one scanned host is healthy); stderr: %s", r.code, r.stderr)
	}
	checkSchema(t, "scan with skipped hosts -o json", r.stdout)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, sk := range run.Skipped {
		reasons[sk.Name] = sk.Reason + " @" + sk.Source
	}
	if run.Summary.Hosts != 1 || run.Summary.Skipped != 3 || len(reasons) != 3 ||
		!strings.Contains(reasons["localhost"], "ansible_connection=local") || !strings.Contains(reasons["db09"], "become_method=su") ||
		!strings.Contains(reasons["rtr01"], "more.ini:4") {
		t.Errorf("summary %+v, skipped %v", run.Summary, reasons)
	}
	if !strings.Contains(r.stderr, "3 inventory host(s) skipped") {
		t.Errorf("stderr does not say hosts were skipped: %s", r.stderr)
	}

	r = runCLI(t, "", home, append(base, "-o", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, row := range rows {
		if row[3] == "skipped" && row[6] != "" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("csv: %d skipped rows, want 3:\n%s", n, r.stdout)
	}

	r = runCLI(t, "", home, append(base, "-o", "table")...)
	if !strings.Contains(r.stdout, "Skipped (not scanned, not judged)") || !strings.Contains(r.stdout, "rtr01") || !strings.Contains(r.stdout, "(3 more skipped)") {
		t.Errorf("table:\n%s", r.stdout)
	}

	r = runCLI(t, "", home, append(base, "-o", "jsonl")...)
	if !strings.Contains(r.stdout, `"skipped":[{"name":"localhost"`) {
		t.Errorf("jsonl summary line lacks the skipped hosts:\n%s", r.stdout)
	}
	r = runCLI(t, "", home, append(base, "-o", "html")...)
	if !strings.Contains(r.stdout, `id="skipped"`) || !strings.Contains(r.stdout, "db09") {
		t.Errorf("html lacks the skipped hosts")
	}
}
