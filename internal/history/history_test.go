package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

func record(t *testing.T, s *Store, at time.Time, hosts ...result.Host) {
	t.Helper()
	rec, err := s.Record(at)
	if err != nil {
		t.Fatal(err)
	}
	run := &result.Run{Schema: result.Schema, Started: at, Finished: at, Fleet: []result.Finding{}}
	for i := range hosts {
		if err := rec.Host(i, &hosts[i]); err != nil {
			t.Fatal(err)
		}
		run.Summary.Add(&hosts[i])
	}
	if err := rec.End(run); err != nil {
		t.Fatal(err)
	}
	if err := rec.Commit(); err != nil {
		t.Fatal(err)
	}
}

func host(name string, st result.Status, causes ...string) result.Host {
	h := result.Host{Name: name, Status: st, Causes: []result.Cause{}, Checks: []result.Check{}}
	for _, c := range causes {
		h.Causes = append(h.Causes, result.Cause{ID: c})
	}
	return h
}

// TestChangesAcrossRuns: new, fixed, still (since the first run that saw
// it, carried over runs), changed, unchanged and first-seen.
func TestChangesAcrossRuns(t *testing.T) {
	s, err := Open(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	d1 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	record(t, s, d1, host("a", result.Healthy), host("b", result.Diagnosed, "agent-not-running"), host("c", result.Diagnosed, "dns-unresolvable"), host("d", result.Diagnosed, "clock-skew"))
	last, _ := s.Latest()
	d2 := d1.Add(24 * time.Hour)
	second := []result.Host{host("a", result.Diagnosed, "agent-not-running"), host("b", result.Healthy), host("c", result.Diagnosed, "dns-unresolvable"),
		host("d", result.Diagnosed, "tls-failure"), host("e", result.Unreachable, "host-unreachable")}
	p := Index(last)
	for i := range second {
		p.Annotate(&second[i], d2)
	}
	record(t, s, d2, second...)
	// a third run: c still has the same problem; since stays the first day
	last, _ = s.Latest()
	third := []result.Host{host("c", result.Diagnosed, "dns-unresolvable"), host("a", result.Diagnosed, "agent-not-running")}
	Index(last).Annotate(&third[0], d2.Add(24*time.Hour))
	Index(last).Annotate(&third[1], d2.Add(24*time.Hour))
	want := map[string]string{"a": "new since 2026-11-21 was healthy", "b": "fixed was diagnosed: agent-not-running",
		"c": "still since 2026-11-20 was diagnosed: dns-unresolvable", "d": "changed since 2026-11-21 was diagnosed: clock-skew", "e": "first-seen since 2026-11-21"}
	for _, h := range second {
		if got := describe(h.Change); got != want[h.Name] {
			t.Errorf("%s: %q, want %q", h.Name, got, want[h.Name])
		}
	}
	if got := describe(third[0].Change); got != "still since 2026-11-20 was diagnosed: dns-unresolvable" {
		t.Errorf("third run c: %q (since must carry over)", got)
	}
	if got := describe(third[1].Change); got != "still since 2026-11-21 was diagnosed: agent-not-running" {
		t.Errorf("third run a: %q", got)
	}
	var nothing *Previous
	h := host("x", result.Healthy)
	nothing.Annotate(&h, d2)
	if h.Change != nil {
		t.Error("no history, yet a change")
	}
}

func describe(c *result.Change) string {
	if c == nil {
		return "<nil>"
	}
	s := c.Kind
	if c.Since != nil {
		s += " since " + c.Since.Format("2006-01-02")
	}
	if c.Previous != "" {
		s += " was " + c.Previous
	}
	return s
}

// TestStateDirIsSafe: a newer schema is refused, an aborted run leaves
// nothing behind, and pruning keeps the newest runs by count and age.
func TestStateDirIsSafe(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Record(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := host("a", result.Healthy)
	_ = rec.Host(0, &h)
	rec.Abort()
	ents, _ := os.ReadDir(filepath.Join(dir, "runs"))
	if len(ents) != 0 {
		t.Errorf("an aborted run left %d file(s)", len(ents))
	}
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		record(t, s, now.Add(-time.Duration(5-i)*24*time.Hour), host("a", result.Healthy))
	}
	if n, err := s.Prune(4, 0, now); err != nil || n != 2 {
		t.Errorf("prune by count dropped %d (%v), want 2", n, err)
	}
	if n, err := s.Prune(0, 36*time.Hour, now); err != nil || n != 2 {
		t.Errorf("prune by age dropped %d (%v), want 2 (runs 3 and 2 days old)", n, err)
	}
	if n, _ := s.Prune(1, time.Nanosecond, now.Add(100*24*time.Hour)); n != 1 {
		t.Errorf("prune dropped %d, want all but the newest", n)
	}
	runs, _ := s.Runs()
	if len(runs) != 1 {
		t.Errorf("%d runs left, want the newest only", len(runs))
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"schema": 99, "writer": "whyoffline 9.0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "test"); err == nil || !strings.Contains(err.Error(), "newer whyoffline") {
		t.Errorf("a newer state dir was not refused: %v", err)
	}
}

// TestRecentStatuses: each kept run leaves a small sidecar of its hosts'
// statuses, read back newest-n, oldest first, and pruned with its run.
func TestRecentStatuses(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := 0; i < 4; i++ {
		record(t, s, t0.Add(time.Duration(i)*12*time.Hour), host("Desk1", result.Unreachable), host("srv", result.Healthy))
	}
	got, err := s.Recent(3)
	if err != nil || len(got) != 3 || !got[0].At.Equal(t0.Add(12*time.Hour)) || got[2].Status["desk1"] != result.Unreachable || got[2].Status["srv"] != result.Healthy {
		t.Fatalf("recent: %v %+v", err, got)
	}
	if _, err := s.Prune(1, 0, t0); err != nil {
		t.Fatal(err)
	}
	side, _ := filepath.Glob(filepath.Join(dir, "runs", "*.status"))
	if len(side) != 1 {
		t.Errorf("%d sidecars left after pruning to one run", len(side))
	}
}
