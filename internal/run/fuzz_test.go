package run

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
)

// shardRun is a seed: shard k of 2 of one small fleet.
func shardRun(k int, names ...string) []byte {
	r := result.Run{Schema: result.Schema, Started: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), Fleet: []result.Finding{},
		Manager: &result.Manager{Host: "dsm.example", Port: 4120, Mode: "agent-initiated"},
		Shard:   &result.Shard{Index: k, Count: 2, Fleet: 4, Digest: "d1"}}
	for _, n := range names {
		r.Hosts = append(r.Hosts, result.Host{Name: n, Status: result.Healthy, Causes: []result.Cause{}, Checks: []result.Check{}})
	}
	b, _ := json.Marshal(&r)
	return b
}

// FuzzMerge: shard files are untrusted (edited, stale, forged). Whatever
// two of them hold, merge refuses them or gives every host exactly once,
// sorted, with a summary that counts each — never a panic, never a host
// twice, never a count that claims more than it holds.
func FuzzMerge(f *testing.F) {
	f.Add(shardRun(1, "web01", "web02"), shardRun(2, "db01", "db02"))
	f.Add(shardRun(1, "web01"), shardRun(2, "WEB01"))
	f.Add(shardRun(1, "a"), shardRun(1, "b"))
	f.Add(shardRun(1, "a"), []byte(`{"schema":"whyoffline/v1","shard":{"index":2,"count":50000000,"fleet":4,"digest":"d1"},"hosts":[]}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var runs []*result.Run
		for _, data := range [][]byte{a, b} {
			r, err := report.Read(bytes.NewReader(data))
			if err != nil {
				return
			}
			runs = append(runs, r)
		}
		merged, err := Merge(runs, true)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\x1b\r") {
				t.Fatalf("error carries control characters: %q", err)
			}
			return
		}
		if want := len(runs[0].Hosts) + len(runs[1].Hosts); len(merged.Hosts) != want {
			t.Fatalf("%d hosts merged from %d", len(merged.Hosts), want)
		}
		seen := map[string]bool{}
		for _, h := range merged.Hosts {
			if seen[strings.ToLower(h.Name)] {
				t.Fatalf("host %q twice", h.Name)
			}
			seen[strings.ToLower(h.Name)] = true
		}
		if !sort.SliceIsSorted(merged.Hosts, func(i, j int) bool { return merged.Hosts[i].Name < merged.Hosts[j].Name }) {
			t.Fatal("hosts not sorted")
		}
		s := merged.Summary
		if s.Hosts != len(merged.Hosts) || s.Healthy+s.Diagnosed+s.Unreachable+s.Error != len(merged.Hosts) || s.Skipped != len(merged.Skipped) {
			t.Fatalf("summary %+v for %d hosts, %d skipped", s, len(merged.Hosts), len(merged.Skipped))
		}
	})
}
