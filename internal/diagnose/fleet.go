package diagnose

import (
	"time"

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
	// Cert is the certificate the manager presented (nil: no handshake);
	// PreviousCert the one the previous run saw (nil: no history).
	Cert, PreviousCert *result.CertInfo
	Now                time.Time // when the certificate was seen
}

// FleetInput is everything a fleet rule may look at: the bastion's probe of
// the manager, the hosts a sweep kept whole (all of them, or only role:
// manager ones when the report streams) and every host's digest.
type FleetInput struct {
	Probe   *ManagerProbe
	Hosts   []result.Host
	Digests []Digest
	// Past are the statuses of the runs before this one (--state-dir),
	// oldest first; Now is when this run started.
	Past []PastRun
	Now  time.Time
}

// PastRun is one earlier run's host statuses, by lower-cased name.
type PastRun struct {
	At     time.Time
	Status map[string]result.Status
}

// Fleet returns the run-wide findings of every registered fleet cause, in
// rank order, for a run that holds every host.
func Fleet(mp *ManagerProbe, hosts []result.Host, o *Options) []result.Finding {
	digests := make([]Digest, len(hosts))
	for i := range hosts {
		digests[i] = DigestOf(&hosts[i])
	}
	return FleetOf(&FleetInput{Probe: mp, Hosts: hosts, Digests: digests}, o)
}

// FleetOf returns the findings of every registered fleet cause for in.
func FleetOf(in *FleetInput, o *Options) []result.Finding {
	out := []result.Finding{}
	for _, c := range Causes() {
		if c.FleetRule != nil {
			out = append(out, c.FleetRule(in, o)...)
		}
	}
	for i := range out {
		out[i].Explains = explains[out[i].ID]
	}
	return out
}

// explains says which per-host cause a fleet finding accounts for.
var explains = map[string]string{
	result.FleetSharedNetwork: result.HeartbeatPortBlocked,
	result.FleetSharedDNS:     result.DNSUnresolvable,
	result.FleetManagerCert:   result.TLSFailure,
	result.FleetDowntime:      result.HostUnreachable,
}

// LinkFleet marks, on each host a finding lists, the cause the finding
// explains with the finding's ref; the host keeps its own cause and
// evidence.
func LinkFleet(hosts []result.Host, findings []result.Finding) {
	refs := result.FleetRefs(findings)
	if refs == nil {
		return
	}
	for i := range hosts {
		result.LinkFleet(&hosts[i], refs)
	}
}

// Unreachable is the cause for a host the bastion could not reach at all.
func Unreachable(name, evidence string, o *Options) result.Cause {
	return result.Cause{
		ID: result.HostUnreachable, Confidence: result.Confirmed,
		Evidence: textsafe.Line(evidence, maxEvidence),
		Remedy:   o.remedy(result.HostUnreachable, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, AgentPort: o.AgentPort, Host: name}),
	}
}
