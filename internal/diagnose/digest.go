package diagnose

import (
	"net/netip"
	"strings"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/result"
)

// Digest is what fleet rules need of one host, a few dozen bytes, kept
// for every host of a sweep even when its report streams.
type Digest struct {
	Name    string
	Status  result.Status
	Subnet  netip.Prefix // the host's own network, from its address and prefix
	Port    string       // port.result: open, timeout, refused, ...
	Target  string       // port.target: the manager's host:port the host tried
	LastHop string       // the last hop of the trace that answered
	// HopIsManager: that hop is an address the host resolved the manager
	// to — the route reaches the manager, the port is filtered
	HopIsManager bool
	DNS          string // dns.result
	Server       string // the host's first resolver
	Manager      string // manager.host: the name the host resolved
	// TLSErrors: the agent's log shows TLS or certificate errors.
	TLSErrors bool
}

// DigestOf reads a host's digest from its facts (zero fields when the
// checks did not run).
func DigestOf(h *result.Host) Digest {
	d := Digest{Name: h.Name, Status: h.Status}
	if h.Observed == nil {
		return d
	}
	f := facts.Facts(h.Observed.Facts)
	d.Port, d.Target, d.DNS, d.Server, d.Manager = f.Get("port.result"), f.Get("port.target"), f.Get("dns.result"), f.Get("dns.servers"), f.Get("manager.host")
	if agentProxy(f, "manager") {
		// the agent goes through a proxy: its direct TCP result says
		// nothing of its subnet's way to the manager
		d.Port, d.Target = "", ""
	}
	for _, c := range h.Causes {
		if c.ID == result.TLSFailure {
			d.TLSErrors = true
		}
	}
	if hops := f["path.hops"]; len(hops) > 0 {
		// "N address": the address of the last hop that answered
		if _, addr, ok := strings.Cut(hops[len(hops)-1], " "); ok {
			d.LastHop = strings.TrimSpace(addr)
			d.HopIsManager = containsAddr(f["dns.addresses"], d.LastHop) || d.LastHop == d.Manager
		}
	}
	d.Subnet = subnetOf(h, f["net.addresses"])
	return d
}

// subnetOf places a host by what the bastion knows, never by the host's
// claim alone (a compromised host could claim an address in another
// subnet and hide that subnet's finding): the address the bastion reached
// it at, else its inventory address. The host's own prefix length is used
// only when it claims that very address; otherwise the subnet is the
// address's /24.
func subnetOf(h *result.Host, claimed []string) netip.Prefix {
	addr, err := netip.ParseAddr(h.Observed.ConnectedAddr)
	if err != nil {
		if addr, err = netip.ParseAddr(strings.Trim(h.Address, "[]")); err != nil {
			return netip.Prefix{}
		}
	}
	addr = addr.Unmap()
	if !addr.Is4() || addr.IsLinkLocalUnicast() {
		return netip.Prefix{}
	}
	bits := 24
	for _, a := range claimed {
		p, err := netip.ParsePrefix(strings.TrimSpace(a))
		if err == nil && p.Addr().Unmap() == addr && p.Bits() >= 8 && p.Bits() < 32 {
			bits = p.Bits()
			break
		}
	}
	p, _ := addr.Prefix(bits)
	return p
}
