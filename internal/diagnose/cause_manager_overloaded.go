package diagnose

import (
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// manager-overloaded (fleet): a host with role: manager in the inventory
// shows resource-pressure.
func init() {
	register(Cause{
		ID:        result.FleetManagerOverload,
		Title:     "The manager host is under resource pressure",
		Rank:      1010,
		Fleet:     true,
		FleetRule: managerOverloaded,
		Remedy: `The manager host {{.Host}} is under resource pressure ({{.Detail}}): an overloaded manager
misses heartbeats from healthy agents. Add resources to the manager or its database before
chasing individual agents.`,
	})
}

func managerOverloaded(in *FleetInput, o *Options) []result.Finding {
	var out []result.Finding
	for i := range in.Hosts {
		h := &in.Hosts[i]
		if h.Role != "manager" {
			continue
		}
		for _, c := range h.Causes {
			if c.ID == result.ResourcePressure {
				out = append(out, result.Finding{
					ID: result.FleetManagerOverload, Evidence: textsafe.Line(h.Name+": "+c.Evidence, maxEvidence),
					Remedy: o.remedy(result.FleetManagerOverload, "", RemedyVars{Manager: o.Manager, Port: o.Port, Host: h.Name, Detail: c.Evidence}),
				})
			}
		}
	}
	return out
}
