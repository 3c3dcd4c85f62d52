package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
)

// TestStateDirReportsChanges: two nightly runs with a changed fault set;
// the second says per host what changed — in JSON, CSV, the table and
// HTML — and diff --state-dir compares the two without file names.
func TestStateDirReportsChanges(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	home := map[string]string{"HOME": t.TempDir()}
	night := func(profiles map[string]string, args ...string) runResult {
		t.Helper()
		var specs []fleetsim.Spec
		for _, name := range []string{"web01", "web02", "web03", "web04"} {
			specs = append(specs, fleetsim.Spec{Profile: profiles[name], Count: 1, Name: name})
		}
		_, inv, kh := startFleet(t, nil, specs...)
		return runCLI(t, "", home, append([]string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none",
			"--connect-timeout", "2s", "--timeout", "20s", "--state-dir", state}, args...)...)
	}
	first := night(map[string]string{"web01": "healthy", "web02": "agent-stopped", "web03": "dns-broken", "web04": "agent-stopped"}, "-o", "json")
	if first.code != exitFindings {
		t.Fatalf("first night: exit %d: %s", first.code, first.stderr)
	}
	var run1 result.Run
	if err := json.Unmarshal([]byte(first.stdout), &run1); err != nil {
		t.Fatal(err)
	}
	for _, h := range run1.Hosts {
		if h.Change != nil {
			t.Errorf("first run: %s has a change %+v with nothing before it", h.Name, h.Change)
		}
	}
	second := map[string]string{"web01": "agent-stopped", "web02": "healthy", "web03": "dns-broken", "web04": "port-dropped"}
	want := map[string]string{"web01": "new", "web02": "fixed", "web03": "still", "web04": "changed"}
	r := night(second, "-o", "json")
	var run2 result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run2); err != nil {
		t.Fatalf("second night: %v: %s", err, r.stderr)
	}
	for _, h := range run2.Hosts {
		if h.Change == nil || h.Change.Kind != want[h.Name] {
			t.Errorf("json: %s change %+v, want %s", h.Name, h.Change, want[h.Name])
		}
		if h.Name == "web03" && (h.Change == nil || h.Change.Since == nil || !h.Change.Since.Equal(run1.Started)) {
			t.Errorf("web03 is still offline since the first night (%s), got %+v", run1.Started, h.Change)
		}
	}
	// the same nights again in the other formats: each run is a night
	r = night(second, "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 5 || rows[0][len(rows[0])-1] != "change" {
		t.Fatalf("csv: %v %v", err, rows)
	}
	for _, row := range rows[1:] {
		if got := row[len(row)-1]; row[0] == "web03" && !strings.HasPrefix(got, "still since ") || row[0] == "web02" && got != "unchanged" {
			t.Errorf("csv: %s change %q", row[0], got)
		}
	}
	r = night(map[string]string{"web01": "healthy", "web02": "healthy", "web03": "dns-broken", "web04": "port-dropped"}, "-o", "table")
	if !strings.Contains(r.stdout, "CHANGE") || !strings.Contains(r.stdout, "fixed (was diagnosed: agent-not-running)") || !strings.Contains(r.stdout, "still since") {
		t.Errorf("table shows no changes (exit %d, %s):\n%s", r.code, r.stderr, r.stdout)
	}
	out := filepath.Join(t.TempDir(), "sweep.html")
	r = night(map[string]string{"web01": "healthy", "web02": "agent-stopped", "web03": "dns-broken", "web04": "port-dropped"}, "--out", out)
	html, _ := os.ReadFile(out)
	if !strings.Contains(string(html), `class="change"`) || !strings.Contains(string(html), "new") {
		t.Errorf("html shows no changes (exit %d)", r.code)
	}
	runs, _ := filepath.Glob(filepath.Join(state, "runs", "run-*.json.gz"))
	if len(runs) != 5 {
		t.Errorf("%d runs kept, want 5", len(runs))
	}
	d := runCLI(t, "", home, "diff", "--state-dir", state, "-o", "json")
	if d.code != exitFindings || !strings.Contains(d.stdout, `"host": "web02"`) {
		t.Errorf("diff --state-dir: exit %d %s %s", d.code, d.stdout, d.stderr)
	}
	// retention by count
	r = night(second, "-o", "json", "--keep-runs", "2")
	runs, _ = filepath.Glob(filepath.Join(state, "runs", "run-*.json.gz"))
	if len(runs) != 2 {
		t.Errorf("--keep-runs 2 left %d runs", len(runs))
	}
}
