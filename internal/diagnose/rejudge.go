package diagnose

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/secret"
)

// OptionsForRun rebuilds the options a saved run was judged with, from its
// manager and settings, with today's thresholds and remedies.
func OptionsForRun(run *result.Run, t playbook.Thresholds, r *Remedies) (*Options, error) {
	o := &Options{Port: 4120, AgentPort: 4118, Mode: "agent-initiated", MaxClockSkew: 2 * time.Minute, Thresholds: t, Remedies: r}
	if m := run.Manager; m != nil {
		o.Manager, o.Mode = m.Host, m.Mode
		if m.Port > 0 {
			o.Port = m.Port
		}
	}
	if s := run.Settings; s != nil {
		if s.AgentPort > 0 {
			o.AgentPort = s.AgentPort
		}
		if s.MaxClockSkew != "" {
			d, err := time.ParseDuration(s.MaxClockSkew)
			if err != nil {
				return nil, fmt.Errorf("settings.max_clock_skew %q: %v", s.MaxClockSkew, err)
			}
			o.MaxClockSkew = d
		}
		for _, c := range s.CorporateNetworks {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("settings.corporate_networks %q: %v", c, err)
			}
			o.CorporateNetworks = append(o.CorporateNetworks, p)
		}
	}
	return o, nil
}

// Rejudged says what Rejudge did.
type Rejudged struct {
	Changed int // hosts whose verdict changed
	// Hidden are the hosts kept as they were because a fact they were
	// judged by was hidden as a secret (its value equalled a password):
	// judged again, the placeholder would read as an unknown value and
	// could turn a finding into "healthy".
	Hidden int
}

// Rejudge judges a saved run's hosts again with today's rules: every host
// whose checks ran and that was healthy or diagnosed gets its causes and
// status anew from what was observed; hosts that could not be scanned, or
// whose facts had a secret hidden in them, keep their result. The fleet
// findings that rest on hosts are recomputed too — unless a host's facts
// were hidden, when they stay as the scan found them, for the same
// reason.
func Rejudge(run *result.Run, o *Options) Rejudged {
	var r Rejudged
	for i := range run.Hosts {
		h := &run.Hosts[i]
		if h.Observed == nil || (h.Status != result.Healthy && h.Status != result.Diagnosed) {
			continue
		}
		if hasHidden(h.Observed) {
			r.Hidden++
			continue
		}
		causes := Host(InputFrom(h.Name, h.OS, h.Observed), o)
		status := result.Healthy
		if len(causes) > 0 {
			status = result.Diagnosed
		}
		if status != h.Status || !sameCauses(causes, h.Causes) {
			r.Changed++
		}
		h.Causes, h.Status = causes, status
	}
	if r.Hidden == 0 {
		var kept []result.Finding
		for _, f := range run.Fleet {
			if c, ok := Lookup(f.ID); !ok || !c.Fleet || f.ID == result.FleetManagerUnreach {
				kept = append(kept, f) // needs the bastion's probe, which was not saved
			}
		}
		run.Fleet = append(kept, Fleet(nil, run.Hosts, o)...)
		LinkFleet(run.Hosts, run.Fleet)
	}
	run.Summary = result.Summary{}
	for i := range run.Hosts {
		run.Summary.Add(&run.Hosts[i])
	}
	return r
}

// hasHidden: a fact value of the observation was hidden as a secret.
func hasHidden(o *result.Observed) bool {
	for _, vs := range o.Facts {
		for _, v := range vs {
			if strings.Contains(v, secret.Hidden) {
				return true
			}
		}
	}
	return false
}

func sameCauses(a, b []result.Cause) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Confidence != b[i].Confidence {
			return false
		}
	}
	return true
}

// RunContext is the part of the options a saved run keeps: the manager it
// was checked against and the settings its verdicts depended on.
func (o *Options) RunContext() (*result.Manager, *result.Settings) {
	var m *result.Manager
	if o.Manager != "" {
		m = &result.Manager{Host: o.Manager, Port: o.Port, Mode: o.Mode}
	}
	s := &result.Settings{AgentPort: o.AgentPort}
	if o.MaxClockSkew > 0 {
		s.MaxClockSkew = o.MaxClockSkew.String()
	}
	for _, p := range o.CorporateNetworks {
		s.CorporateNetworks = append(s.CorporateNetworks, p.String())
	}
	return m, s
}

// fromHosts are the fleet findings a run's hosts alone decide — no probe
// of the manager, no history — so a merge of shards can find them again
// over the whole fleet (each shard saw only its part of every subnet).
var fromHosts = map[string]bool{
	result.FleetSharedNetwork:   true,
	result.FleetSharedDNS:       true,
	result.FleetManagerOverload: true,
}

// RefindFromHosts replaces a merged run's host-decided fleet findings
// with those of its whole host set, and relinks the causes they explain;
// findings that needed the manager probe or the history stay as the
// shards found them.
//
// A host whose facts had a secret hidden in them (see Rejudged) would
// read as having no such fact, so with one among the hosts the shards'
// findings stay as they found them; the number of such hosts is returned.
func RefindFromHosts(run *result.Run, o *Options) (hidden int) {
	for i := range run.Hosts {
		if h := &run.Hosts[i]; h.Observed != nil && hasHidden(h.Observed) {
			hidden++
		}
	}
	if hidden > 0 {
		return hidden
	}
	kept := make([]result.Finding, 0, len(run.Fleet))
	for _, f := range run.Fleet {
		if !fromHosts[f.ID] {
			kept = append(kept, f)
		}
	}
	for i := range run.Hosts {
		for j := range run.Hosts[i].Causes {
			c := &run.Hosts[i].Causes[j]
			id, _, _ := strings.Cut(c.FleetRef, ":")
			if fromHosts[id] {
				c.FleetRef = ""
			}
		}
	}
	var found []result.Finding
	for _, f := range Fleet(nil, run.Hosts, o) {
		if fromHosts[f.ID] {
			found = append(found, f)
		}
	}
	LinkFleet(run.Hosts, found)
	run.Fleet = append(kept, found...)
	sort.SliceStable(run.Fleet, func(i, j int) bool { return rankOf(run.Fleet[i].ID) < rankOf(run.Fleet[j].ID) })
	return 0
}

func rankOf(id string) int {
	if c, ok := registry[id]; ok {
		return c.Rank
	}
	return 1 << 30
}
