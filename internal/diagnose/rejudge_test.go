package diagnose

import (
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/secret"
)

// TestRejudgeKeepsHostsWithHiddenFacts: a run whose password equalled a
// fact's value ("timeout") was saved with that fact hidden. Judged again,
// the placeholder is no port result at all, and the blocked port would
// read as healthy — a wrong "healthy" from a saved run. Such a host keeps
// its verdict, and is counted; its twin with the fact intact is judged
// again.
func TestRejudgeKeepsHostsWithHiddenFacts(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	opts := &Options{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated",
		MaxClockSkew: 2 * time.Minute, Thresholds: playbook.Thresholds{LoadPerCPU: 4, MemAvailablePct: 5, FSUsedPct: 98}}
	observed := func(port string) *result.Observed {
		f := healthyFacts(now)
		f.Set("port.result", port)
		f.Set("tls.result", "noconnect")
		return &result.Observed{Facts: f, Started: now, Finished: now}
	}
	blocked := []result.Cause{{ID: "heartbeat-port-blocked", Confidence: result.Confirmed}}
	run := &result.Run{Hosts: []result.Host{
		{Name: "intact", OS: "linux", Status: result.Diagnosed, Causes: blocked, Observed: observed("timeout")},
		{Name: "hidden", OS: "linux", Status: result.Diagnosed, Causes: blocked, Observed: observed(secret.Hidden)},
	}}
	// what judging the hidden host would say: not the blocked port
	if got := Host(InputFrom("hidden", "linux", run.Hosts[1].Observed), opts); len(got) > 0 && got[0].ID == "heartbeat-port-blocked" {
		t.Fatalf("the test is stale: a hidden port result still reads as blocked (%v)", got)
	}
	r := Rejudge(run, opts)
	if r.Hidden != 1 || r.Changed != 0 {
		t.Errorf("rejudged = %+v, want 1 hidden and 0 changed", r)
	}
	for _, h := range run.Hosts {
		if h.Status != result.Diagnosed || h.PrimaryCause() != "heartbeat-port-blocked" {
			t.Errorf("%s: %s %v, want diagnosed heartbeat-port-blocked", h.Name, h.Status, h.Causes)
		}
	}
}

// TestRefindKeepsShardFindingsWithHiddenFacts: merging shards finds the
// host-decided fleet findings again over the whole fleet — unless a
// host's facts had a secret hidden in them, when the shards' findings
// stay as they were, and that is counted.
func TestRefindKeepsShardFindingsWithHiddenFacts(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	opts := &Options{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", MaxClockSkew: 2 * time.Minute}
	shardFinding := result.Finding{ID: result.FleetSharedNetwork, Evidence: "from a shard", Ref: result.FleetSharedNetwork + ":10.1.2.0/24"}
	f := healthyFacts(now)
	f.Set("port.result", secret.Hidden)
	run := &result.Run{
		Hosts: []result.Host{{Name: "a", OS: "linux", Status: result.Healthy, Observed: &result.Observed{Facts: f}}},
		Fleet: []result.Finding{shardFinding},
	}
	if n := RefindFromHosts(run, opts); n != 1 {
		t.Errorf("hidden = %d, want 1", n)
	}
	if len(run.Fleet) != 1 || run.Fleet[0].Evidence != "from a shard" {
		t.Errorf("fleet = %+v, want the shard's finding kept", run.Fleet)
	}
	// the same run without the hidden fact: found again from the hosts
	// (one host decides no shared block: the shard's finding goes)
	run.Hosts[0].Observed.Facts = healthyFacts(now)
	if n := RefindFromHosts(run, opts); n != 0 || len(run.Fleet) != 0 {
		t.Errorf("hidden = %d, fleet = %+v; want the finding found again (none)", n, run.Fleet)
	}
}
