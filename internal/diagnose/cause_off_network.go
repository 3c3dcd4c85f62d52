package diagnose

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

// off-network is judged only when the run was given --corporate-networks.
func init() {
	register(Cause{
		ID:      result.OffNetwork,
		Title:   "Host is outside the corporate networks (roaming)",
		Rank:    70,
		Needs:   []string{"net.addresses"},
		Applies: func(o *Options) bool { return len(o.CorporateNetworks) > 0 },
		Uses:    []string{"net.default_route"},
		Rule:    offNetwork,
		Remedy: `The host's addresses are outside the corporate networks ({{.Detail}}). A roaming endpoint
cannot reach an internal manager from guest Wi-Fi or NAT: connect it to the corporate
network or VPN, or publish the manager (or a relay) where roaming agents can reach it.`,
	})
}

func offNetwork(in *Input, o *Options) *Finding {
	if len(o.CorporateNetworks) == 0 {
		return nil
	}
	var addrs []string
	for _, a := range in.Facts.List("net.addresses") {
		p, err := netip.ParsePrefix(a)
		var ip netip.Addr
		if err == nil {
			ip = p.Addr()
		} else if ip, err = netip.ParseAddr(a); err != nil {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			continue
		}
		for _, n := range o.CorporateNetworks {
			if n.Contains(ip) {
				return nil
			}
		}
		addrs = append(addrs, ip.String())
	}
	if len(addrs) == 0 {
		return nil // no address reported: cannot tell
	}
	var nets []string
	for _, n := range o.CorporateNetworks {
		nets = append(nets, n.String())
	}
	ev := []string{fmt.Sprintf("host addresses %s are outside the corporate networks %s", strings.Join(addrs, ", "), strings.Join(nets, ", "))}
	if r := in.Facts.Get("net.default_route"); r != "" {
		ev = append(ev, "default route: "+r)
	}
	return &Finding{Confidence: result.Likely, Evidence: ev, Detail: strings.Join(addrs, ", ")}
}
