package history

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
)

// FuzzHistory: the state directory's files are read back on the next
// run — a run (gzip'd JSON) and its statuses sidecar — and may be edited,
// truncated or planted. Any bytes read as a previous run or an error and
// a sidecar as statuses; what they tell the new run (each host's change,
// the previous problems shown in every report, the statuses the rules
// read across runs) is one of the contract's values, with no control
// character.
func FuzzHistory(f *testing.F) {
	prev := result.Run{Schema: "whyoffline/v1", Started: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Hosts: []result.Host{
		host("web01", result.Healthy), host("db01", result.Diagnosed, "agent-not-running", "clock-skew"),
		host("Win01", result.Error), host("gone", result.Unreachable, "host-unreachable"),
	}}
	prev.Hosts[2].Error = &result.HostError{Kind: result.Timeout, Message: "deadline"}
	b, _ := json.Marshal(prev)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(b)
	_ = zw.Close()
	sidecar := []byte("healthy\tweb01\ndiagnosed\tdb01\nerror\tWin01\nunreachable\tgone\n")
	f.Add(gz.Bytes(), sidecar)
	f.Add(b, []byte("bogus\tx\nhealthy\t\n\tname\nhealthy\tA\x1b[2J\n"))
	f.Fuzz(func(t *testing.T, saved, side []byte) {
		for name, st := range parseStatuses(side) {
			switch st {
			case result.Healthy, result.Diagnosed, result.Unreachable, result.Error:
			default:
				t.Fatalf("status %q for %q", st, name)
			}
			if name == "" || strings.ToLower(name) != name {
				t.Fatalf("name %q is not a lower-cased host name", name)
			}
		}
		run, err := report.Read(bytes.NewReader(saved))
		if err != nil {
			return
		}
		p := Index(run)
		now := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
		// today's hosts: every saved one in each state, and a new one
		cur := []result.Host{host("new-host", result.Healthy)}
		for i := range run.Hosts {
			if i == 20 {
				break
			}
			cur = append(cur, host(run.Hosts[i].Name, result.Healthy), host(run.Hosts[i].Name, result.Diagnosed, "dns-unresolvable"))
		}
		for i := range cur {
			h := &cur[i]
			p.Annotate(h, now)
			c := h.Change
			if c == nil {
				t.Fatalf("%s: no change", h.Name)
			}
			switch c.Kind {
			case result.ChangeNew, result.ChangeFixed, result.ChangeStill, result.ChangeDifferent, result.ChangeSame, result.ChangeFirst:
			default:
				t.Fatalf("%s: change kind %q", h.Name, c.Kind)
			}
			if strings.IndexFunc(c.Previous, unicode.IsControl) >= 0 {
				t.Fatalf("%s: previous %q", h.Name, c.Previous)
			}
		}
	})
}
