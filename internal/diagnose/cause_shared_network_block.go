package diagnose

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// shared-network-block (fleet): the hosts of one subnet fail the
// heartbeat port the same way (dropped or refused, same manager
// address:port) while hosts in other subnets reach it — one path problem
// (a zone's egress firewall, a routing gap), not many host problems. The
// subnet is the hosts' own address and prefix, not a guessed /24.
func init() {
	register(Cause{
		ID:        result.FleetSharedNetwork,
		Title:     "A subnet cannot reach the manager's heartbeat port",
		Rank:      1020,
		Fleet:     true,
		FleetRule: sharedNetworkBlock,
		Remedy: `{{.Detail}}: what the subnet's hosts share blocks TCP {{.Port}} to {{.Manager}}. Check the subnet's
egress firewall, security group or router ACL (and the hop named, if any), and a host firewall policy they
all get alike (each host's own evidence says whether its firewall has a matching rule), before working
host by host.`,
	})
}

func sharedMin(o *Options) int {
	if n := int(o.Thresholds.SharedMinHosts); n >= 2 {
		return n
	}
	return 3
}

func sharedNetworkBlock(in *FleetInput, o *Options) []result.Finding {
	type key struct {
		subnet netip.Prefix
		way    string
		target string
	}
	failing := map[key][]string{}
	hops := map[key]map[string]int{}
	toManager := map[key]int{} // hosts whose trace reached the manager itself
	openIn := map[string]int{} // subnet|target → hosts that reached it
	openTo := map[string]int{} // target → hosts that reached it
	for _, d := range in.Digests {
		if !d.Subnet.IsValid() || d.Target == "" {
			continue
		}
		switch d.Port {
		case "timeout", "refused":
			k := key{d.Subnet, d.Port, d.Target}
			failing[k] = append(failing[k], d.Name)
			if hops[k] == nil {
				hops[k] = map[string]int{}
			}
			if d.LastHop != "" && !d.HopIsManager {
				hops[k][d.LastHop]++
			}
			if d.HopIsManager {
				toManager[k]++
			}
		case "open":
			openIn[d.Subnet.String()+"|"+d.Target]++
			openTo[d.Target]++
		}
	}
	keys := make([]key, 0, len(failing))
	for k := range failing {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].subnet != keys[j].subnet {
			return keys[i].subnet.String() < keys[j].subnet.String()
		}
		return keys[i].way+keys[i].target < keys[j].way+keys[j].target
	})
	var out []result.Finding
	for _, k := range keys {
		names := failing[k]
		inside := openIn[k.subnet.String()+"|"+k.target]
		elsewhere := openTo[k.target] - inside
		// a subnet some of whose hosts get through is not blocked as a
		// subnet; with nobody reaching the manager anywhere, the manager
		// side is the suspect (manager-unreachable), not this subnet
		if len(names) < sharedMin(o) || inside > 0 || elsewhere == 0 {
			continue
		}
		way := "dropped"
		if k.way == "refused" {
			way = "refused"
		}
		at := ""
		if hop, n := commonest(hops[k]); n*2 >= len(names) {
			at = " at hop " + hop
		} else if toManager[k]*2 >= len(names) {
			// the route is there: a filter on the port, not a routing gap
			at = "; a traceroute from them reaches the manager itself"
		}
		sort.Strings(names)
		detail := fmt.Sprintf("%d hosts in %s cannot reach %s (%s%s); %d hosts in other subnets can", len(names), k.subnet, k.target, way, at, elsewhere)
		out = append(out, result.Finding{
			ID: result.FleetSharedNetwork, Evidence: textsafe.Line(detail, maxEvidence),
			Remedy: o.remedy(result.FleetSharedNetwork, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, Detail: detail}),
			Ref:    result.FleetSharedNetwork + ":" + k.subnet.String() + ":" + way,
			Hosts:  names,
		})
	}
	return out
}

// commonest is the value counted most (ties: the smallest), and its count.
func commonest(counts map[string]int) (string, int) {
	best, n := "", 0
	for v, c := range counts {
		if c > n || c == n && v < best {
			best, n = v, c
		}
	}
	return best, n
}
