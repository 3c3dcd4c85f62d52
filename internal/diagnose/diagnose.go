// Package diagnose turns a host's facts and the bastion's probes into the
// contract's causes, each with confidence, evidence and remedy. Every cause
// lives in a cause_*.go file of its own that registers it (registry.go):
// its rank, the facts it reads, its rule and its remedy. This file only
// runs the registry over one host.
//
// The package is pure: no I/O, no clock — the same facts always give the
// same causes, so saved runs and simulated hosts are judged exactly like
// live ones.
package diagnose

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// Options are the run-wide settings rules depend on.
type Options struct {
	Manager           string // --manager host (the default when the agent does not say)
	Port              int
	AgentPort         int
	Mode              string // agent-initiated | manager-initiated | bidirectional
	MaxClockSkew      time.Duration
	CorporateNetworks []netip.Prefix
	Thresholds        playbook.Thresholds
	Remedies          *Remedies // nil: causes carry no remedy text
}

// Input is everything known about one host.
type Input struct {
	Name  string
	OS    string
	Facts facts.Reader
	// Window brackets the script run on the bastion's clock.
	Window struct{ Start, End time.Time }
	// BastionAddrs is the bastion's resolution of the manager name this
	// host uses (nil: not resolved); BastionResolveErr when that failed.
	BastionAddrs      []string
	BastionResolveErr string
	// ManagerReachable: the bastion itself reached the manager's port.
	ManagerReachable *bool
	// AgentPortFromManager is how the agent port looked from the manager
	// side ("" = not probed): open, refused, timeout, unreachable.
	AgentPortFromManager string
	// AgentPortProbedFrom names where that probe ran ("bastion" or a host).
	AgentPortProbedFrom string
}

// Evidence strings are short: one line, capped.
const maxEvidence = 400

// Host returns the causes for one host, primary first.
func Host(in *Input, o *Options) []result.Cause {
	found := map[string]*Finding{}
	for _, c := range Causes() {
		if c.Rule == nil || !c.AppliesTo(in.OS) {
			continue
		}
		if f := c.Rule(in, o); f != nil {
			found[c.ID] = f
		}
	}
	for id := range found {
		for _, s := range registry[id].Supersedes {
			delete(found, s)
		}
	}
	out := make([]result.Cause, 0, len(found))
	for _, c := range Causes() {
		f := found[c.ID]
		if f == nil {
			continue
		}
		out = append(out, result.Cause{
			ID:         c.ID,
			Confidence: f.Confidence,
			Evidence:   textsafe.Line(strings.Join(f.Evidence, "; "), maxEvidence),
			Remedy: o.remedy(c.ID, in.OS, RemedyVars{
				Manager: o.managerName(managerOf(in, o)), Port: portOf(in, o), Host: in.Name, Detail: f.Detail, Via: f.Via,
			}),
		})
	}
	Order(out)
	return out
}

// Order sorts causes into rank order, a confirmed or likely cause before a
// merely possible one ranked above it.
func Order(cs []result.Cause) {
	sort.SliceStable(cs, func(i, j int) bool {
		pi, pj := cs[i].Confidence == result.Possible, cs[j].Confidence == result.Possible
		if pi != pj {
			return pj
		}
		return Rank(cs[i].ID) < Rank(cs[j].ID)
	})
}

// remedy renders cause id's remedy for os, in one capped line.
func (o *Options) remedy(id, os string, v RemedyVars) string {
	if o.Remedies == nil {
		return ""
	}
	if v.AgentPort == 0 {
		v.AgentPort = o.AgentPort
	}
	return textsafe.Line(o.Remedies.Render(id, os, v), 1200)
}

// managerName is what a remedy calls the manager.
func (o *Options) managerName(m string) string {
	if m == "" {
		m = o.Manager
	}
	if m == "" {
		return "the manager"
	}
	return m
}

// managerOf is the manager this host talks to: the agent's own dsmUrl
// (reported by the playbook as manager.host) or --manager. A name the host
// reports is host text: it is used only if it is a host name or address.
func managerOf(in *Input, o *Options) string {
	if m := in.Facts.Get("manager.host"); m != "" && textsafe.HostName(m) {
		return m
	}
	return o.Manager
}

func portOf(in *Input, o *Options) int {
	if p, ok := in.Facts.Int("manager.port"); ok && p > 0 && p < 65536 {
		return int(p)
	}
	return o.Port
}

func installed(f facts.Reader) (bool, bool) { return f.Bool("agent.installed") }

func running(f facts.Reader) (bool, bool) {
	if p, known := f.Bool("agent.process"); known {
		return p, true
	}
	if f.Is("agent.service", "running") {
		return true, true
	}
	return false, false
}

// dnsFailed: the host could not resolve the manager, so its port and TLS
// checks never had an address to try — they say nothing about the port.
func dnsFailed(f facts.Reader) bool { return f.Is("dns.result", "fail", "timeout", "notfound") }

func normIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

// InputFrom is the Input for a host from what its scan observed: the same
// for a live scan and for a saved run judged again.
func InputFrom(name, os string, o *result.Observed) *Input {
	in := &Input{
		Name: name, OS: os, Facts: facts.Facts(o.Facts),
		BastionAddrs: o.BastionAddrs, BastionResolveErr: o.BastionResolveErr,
		ManagerReachable:     o.ManagerReachable,
		AgentPortFromManager: o.AgentPortFromManager, AgentPortProbedFrom: o.AgentPortProbedFrom,
	}
	in.Window.Start, in.Window.End = o.Started, o.Finished
	return in
}
