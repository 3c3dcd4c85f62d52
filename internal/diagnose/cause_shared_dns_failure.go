package diagnose

import (
	"fmt"
	"sort"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// shared-dns-failure (fleet): the hosts that cannot resolve the manager
// share a resolver (their first DNS server) that fails, while hosts using
// other resolvers resolve it — one resolver to fix, not many hosts.
func init() {
	register(Cause{
		ID:        result.FleetSharedDNS,
		Title:     "A resolver used by many hosts cannot resolve the manager",
		Rank:      1030,
		Fleet:     true,
		FleetRule: sharedDNSFailure,
		Remedy: `{{.Detail}}: fix that resolver (is it up, does it forward or hold the zone of {{.Manager}}?), or point
its clients at a resolver that answers, instead of working host by host.`,
	})
}

func sharedDNSFailure(in *FleetInput, o *Options) []result.Finding {
	failing := map[string][]string{}
	outcome := map[string]map[string]int{}
	ok := map[string]int{}
	okAll := 0
	for _, d := range in.Digests {
		if d.Server == "" {
			continue
		}
		switch d.DNS {
		case "timeout", "fail", "notfound":
			failing[d.Server] = append(failing[d.Server], d.Name)
			if outcome[d.Server] == nil {
				outcome[d.Server] = map[string]int{}
			}
			outcome[d.Server][d.DNS]++
		case "ok":
			ok[d.Server]++
			okAll++
		}
	}
	servers := make([]string, 0, len(failing))
	for s := range failing {
		servers = append(servers, s)
	}
	sort.Strings(servers)
	var out []result.Finding
	for _, s := range servers {
		names := failing[s]
		others := okAll - ok[s]
		// a resolver that answers some of its clients is not the shared
		// failure; with no resolver answering anywhere the name itself is
		// the suspect
		if len(names) < sharedMin(o) || ok[s] > 0 || others == 0 {
			continue
		}
		how, _ := commonest(outcome[s])
		sort.Strings(names)
		detail := fmt.Sprintf("%d hosts using resolver %s cannot resolve the manager (%s); %d hosts using other resolvers can", len(names), s, how, others)
		out = append(out, result.Finding{
			ID: result.FleetSharedDNS, Evidence: textsafe.Line(detail, maxEvidence),
			Remedy: o.remedy(result.FleetSharedDNS, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, Detail: detail}),
			Ref:    result.FleetSharedDNS + ":" + s,
			Hosts:  names,
		})
	}
	return out
}
