package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/playbook"
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

// Fleet returns the run-wide findings: the bastion cannot reach the
// manager, and manager hosts under resource pressure.
func Fleet(mp *ManagerProbe, hosts []result.Host, o *Options) []result.Finding {
	out := []result.Finding{}
	if mp != nil && (mp.ResolveErr != "" || mp.PortState != "open") {
		var detail string
		if mp.ResolveErr != "" {
			detail = "cannot resolve " + mp.Host + ": " + mp.ResolveErr
		} else {
			detail = fmt.Sprintf("TCP to %s:%d (%s) %s", mp.Host, mp.Port, strings.Join(mp.Addresses, ", "), describePort(mp.PortState))
		}
		detail = textsafe.Line(detail, maxEvidence)
		out = append(out, result.Finding{
			ID: result.FleetManagerUnreach, Evidence: detail,
			Remedy: fleetRemedy(o, result.FleetManagerUnreach, mp.Host, mp.Port, "", detail),
		})
	}
	for i := range hosts {
		h := &hosts[i]
		if h.Role != "manager" {
			continue
		}
		for _, c := range h.Causes {
			if c.ID == result.ResourcePressure {
				ev := textsafe.Line(h.Name+": "+c.Evidence, maxEvidence)
				out = append(out, result.Finding{
					ID: result.FleetManagerOverload, Evidence: ev,
					Remedy: fleetRemedy(o, result.FleetManagerOverload, o.Manager, o.Port, h.Name, c.Evidence),
				})
			}
		}
	}
	return out
}

func describePort(s string) string {
	switch s {
	case "refused":
		return "was refused: nothing listens there (manager service down or wrong port?)"
	case "timeout":
		return "timed out"
	case "unreachable":
		return "failed: no route"
	case "dns":
		return "failed: name not resolvable"
	}
	return "failed"
}

func fleetRemedy(o *Options, id, manager string, port int, host, detail string) string {
	if o.Remedies == nil {
		return ""
	}
	return textsafe.Line(o.Remedies.Remedy(id, "", playbook.RemedyVars{Manager: manager, Port: port, AgentPort: o.AgentPort, Host: host, Detail: detail}), 1200)
}

// Unreachable is the cause for a host the bastion could not reach at all.
func Unreachable(name, evidence string, o *Options) result.Cause {
	return result.Cause{
		ID: result.HostUnreachable, Confidence: result.Confirmed,
		Evidence: textsafe.Line(evidence, maxEvidence),
		Remedy:   remedy(o, result.HostUnreachable, "", o.Manager, o.Port, name, ""),
	}
}
