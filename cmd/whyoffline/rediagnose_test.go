package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// TestReportRediagnose: a saved run keeps what each host's checks
// observed, so report --rediagnose judges it again with other rules — here
// a site threshold that makes the agent's filesystems count as full — and
// the hosts whose checks never ran keep their result.
func TestReportRediagnose(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "refused"})
	dir := t.TempDir()
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, "scan", "-i", inv, "--known-hosts", kh,
		"--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "10s", "-o", "json", "--save-raw", filepath.Join(dir, "raw"))
	if r.code != exitFindings {
		t.Fatalf("scan exit %d: %s", r.code, r.stderr)
	}
	saved := filepath.Join(dir, "run.json")
	if err := os.WriteFile(saved, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	var before result.Run
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatal(err)
	}
	if before.Hosts[0].Observed == nil || len(before.Hosts[0].Observed.Facts["fs.used"]) == 0 || before.Settings == nil {
		t.Fatalf("the saved run lacks what its verdicts came from: %+v %+v", before.Hosts[0].Observed, before.Settings)
	}
	// the same rules give the same verdicts
	same := runCLI(t, "", nil, "report", "--rediagnose", saved, "-o", "json")
	if same.code != 0 || !strings.Contains(same.stderr, "0 host(s) changed") {
		t.Fatalf("rediagnose with the same rules: exit %d, %s", same.code, same.stderr)
	}
	// a site overlay: any use of the agent's filesystems is "full"
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "causes.yaml"), []byte("thresholds:\n  fs_used_pct: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := runCLI(t, "", nil, "report", "--rediagnose", saved, "--playbooks", site, "-o", "json")
	if again.code != 0 {
		t.Fatalf("rediagnose: exit %d: %s", again.code, again.stderr)
	}
	var after result.Run
	if err := json.Unmarshal([]byte(again.stdout), &after); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range after.Hosts {
		got[h.Name] = string(h.Status) + ":" + strings.Join(causeList(&h), ",")
	}
	for name, want := range map[string]string{
		"healthy-001":       "diagnosed:resource-pressure",
		"agent-stopped-001": "diagnosed:agent-not-running,resource-pressure",
		"refused-001":       "error:",
	} {
		if got[name] != want {
			t.Errorf("%s: %s, want %s", name, got[name], want)
		}
	}
	// --save-raw kept each host's output and context, owner-only
	st, err := os.Stat(filepath.Join(dir, "raw", "healthy-001.out"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("raw output: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "raw", "healthy-001.json")); err != nil {
		t.Error(err)
	}
}

func causeList(h *result.Host) []string {
	var ids []string
	for _, c := range h.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestHostileHostTextStaysItsOwn: a host that reports a manager name with
// a shell command in it changes neither its own remedy nor another host's,
// and the "What to do" section shows each remedy only next to the hosts
// whose verdict produced it.
func TestHostileHostTextStaysItsOwn(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"agent-stopped", "hostile-manager"})
	for _, format := range []string{"json", "table", "csv"} { // (html also shows each check's raw output, escaped, as the host printed it)
		r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, "scan", "-i", inv, "--known-hosts", kh,
			"--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "10s", "-o", format)
		if r.code != exitFindings {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		for _, bad := range []string{"curl", "sudo sh", "evil.example/ ;"} {
			if strings.Contains(r.stdout, bad) && !strings.Contains(format, "json") {
				t.Errorf("-o %s shows the host's text %q", format, bad)
			}
		}
		if format != "json" {
			continue
		}
		var run result.Run
		if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
			t.Fatal(err)
		}
		for _, h := range run.Hosts {
			for _, c := range h.Causes {
				if strings.Contains(c.Remedy, "curl") || strings.Contains(c.Remedy, "evil") || strings.Contains(c.Evidence, "curl") {
					t.Errorf("%s: %s carries the hostile host's text: %q / %q", h.Name, c.ID, c.Evidence, c.Remedy)
				}
			}
		}
	}
}
