package diagnose

import (
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// ManagerProbe is what the bastion found when it tried the manager.
type ManagerProbe struct {
	Host       string
	Port       int
	Addresses  []string
	ResolveErr string // "" when it resolved
	PortState  string // open, refused, timeout, unreachable
	ConnectErr string
}

// FleetInput is everything a fleet rule may look at: the bastion's probe of
// the manager and every host's result.
type FleetInput struct {
	Probe *ManagerProbe
	Hosts []result.Host
}

// Fleet returns the run-wide findings of every registered fleet cause, in
// rank order.
func Fleet(mp *ManagerProbe, hosts []result.Host, o *Options) []result.Finding {
	out := []result.Finding{}
	in := &FleetInput{Probe: mp, Hosts: hosts}
	for _, c := range Causes() {
		if c.FleetRule != nil {
			out = append(out, c.FleetRule(in, o)...)
		}
	}
	return out
}

// Unreachable is the cause for a host the bastion could not reach at all.
func Unreachable(name, evidence string, o *Options) result.Cause {
	return result.Cause{
		ID: result.HostUnreachable, Confidence: result.Confirmed,
		Evidence: textsafe.Line(evidence, maxEvidence),
		Remedy:   o.remedy(result.HostUnreachable, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, AgentPort: o.AgentPort, Host: name}),
	}
}
