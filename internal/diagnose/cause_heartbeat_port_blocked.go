package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

func init() {
	register(Cause{
		ID:    result.HeartbeatPortBlocked,
		Title: "Heartbeat port to the manager is blocked",
		Rank:  80,
		Needs: []string{"dns.result", "port.result"},
		Uses: []string{"port.via", "port.target", "port.address_target", "fw.rules", "path.hops",
			"dns.addresses", "manager.host", "manager.port", "agent.proxy", "proxy.result", "proxy.target", "proxy.status"},
		Rule: heartbeatPortBlocked,
		Remedy: `{{if .Via}}Allow TCP {{.Port}} from the agent's proxy {{.Via}} to {{.Manager}} (the proxy's
own network firewalls and its allowed CONNECT ports), or point the agent at a proxy that reaches
the manager.{{else}}Allow outbound TCP {{.Port}} from this host to {{.Manager}} (host firewall, network
firewalls, cloud security groups, and the policy's own firewall/IPS rules), and make sure
outbound ephemeral ports are not blocked.{{end}}{{if .Detail}} {{.Detail}}{{end}}`,
		RemedyOS: map[string]string{
			"windows": `{{if .Via}}Allow TCP {{.Port}} from the agent's proxy {{.Via}} to {{.Manager}} (the proxy's
own network firewalls and its allowed CONNECT ports), or point the agent at a proxy that reaches
the manager.{{else}}Allow outbound TCP {{.Port}} from this host to {{.Manager}} (Windows Firewall outbound
rules, network firewalls, security groups / NSGs, and the policy's own firewall/IPS
rules).{{end}}{{if .Detail}} {{.Detail}}{{end}}`,
		},
	})
}

// portHow says what a failed port check saw.
var portHow = map[string]string{
	"timeout":     "timed out (packets dropped)",
	"refused":     "was refused (rejected)",
	"unreachable": "failed: no route / unreachable",
}

func heartbeatPortBlocked(in *Input, o *Options) *Finding {
	if proxied, _ := viaProxy(in.Facts); proxied {
		return blockedBeyondProxy(in, o)
	}
	viaAddr := in.Facts.Is("port.via", "address")
	if dnsFailed(in.Facts) && !viaAddr {
		return nil
	}
	r := in.Facts.Get("port.result")
	how, ok := portHow[r]
	if !ok {
		return nil
	}
	target := in.Facts.Get("port.target")
	if target == "" {
		target = fmt.Sprintf("%s:%d", managerOf(in, o), portOf(in, o))
	}
	if t := in.Facts.Get("port.address_target"); viaAddr && t != "" {
		// the host could not resolve the name; the script tried the
		// address the bastion resolved it to
		target = t + " (the bastion's address for " + managerOf(in, o) + ")"
	}
	ev := []string{fmt.Sprintf("TCP from the host to %s %s", target, how)}
	conf := result.Confirmed
	rules := in.Facts.List("fw.rules")
	detail := ""
	if len(rules) > 0 {
		ev = append(ev, "host firewall: "+strings.Join(rules, " | "))
		detail = "Host firewall rule(s) that match: " + strings.Join(rules, " | ") + "."
	}
	if hop, addr, ok := lastHop(in.Facts.List("path.hops")); ok && r != "refused" {
		where := fmt.Sprintf("traceroute from the host: last answering hop %s (%s)", hop, addr)
		if containsAddr(in.Facts.List("dns.addresses"), addr) || addr == managerOf(in, o) {
			where += ", the manager itself: the route is fine, so the port is filtered on the host, by the policy or at the manager"
		} else {
			where += "; the path stops after it"
		}
		ev = append(ev, where)
		detail = strings.TrimSpace(detail + " " + strings.ToUpper(where[:1]) + where[1:] + ".")
	}
	if in.ManagerReachable != nil && !*in.ManagerReachable {
		// the manager may simply be down: see the fleet finding
		conf = result.Possible
		ev = append(ev, "the bastion cannot reach the manager either")
	} else if r == "refused" && len(rules) == 0 {
		conf = result.Likely // a REJECT somewhere on the path, or the manager's listener
	}
	return &Finding{Confidence: conf, Evidence: ev, Detail: detail}
}

// blockedBeyondProxy judges an agent that uses a proxy: its direct TCP
// result is not its path. The port is blocked for it only when the proxy
// itself answered the CONNECT with a server error — it could not reach
// the manager; an unreachable or refusing proxy is proxy-unreachable.
func blockedBeyondProxy(in *Input, o *Options) *Finding {
	if !in.Facts.Is("proxy.result", "upstream") {
		return nil
	}
	target := fmt.Sprintf("%s:%d", managerOf(in, o), portOf(in, o))
	ev := []string{fmt.Sprintf("the agent's proxy %s answered the CONNECT to %s with %q: the proxy cannot reach the manager",
		in.Facts.Get("proxy.target"), target, in.Facts.Get("proxy.status"))}
	return &Finding{Confidence: result.Likely, Evidence: ev, Via: in.Facts.Get("proxy.target"),
		Detail: "The block is between the proxy and the manager, not on this host."}
}

// lastHop is the last hop that answered a traceroute ("N address" facts).
func lastHop(hops []string) (string, string, bool) {
	for i := len(hops) - 1; i >= 0; i-- {
		n, addr, ok := strings.Cut(hops[i], " ")
		if ok && addr != "" && addr != "*" {
			return n, addr, true
		}
	}
	return "", "", false
}

func containsAddr(list []string, a string) bool {
	for _, x := range list {
		if normIP(x) == normIP(a) {
			return true
		}
	}
	return false
}
