package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

func init() {
	register(Cause{
		ID:    result.DNSUnresolvable,
		Title: "Host cannot resolve the manager's name",
		Rank:  50,
		Needs: []string{"dns.result"},
		Uses:  []string{"manager.host", "dns.tool", "dns.servers", "net.dhcp"},
		Rule:  dnsUnresolvable,
		Remedy: `Fix name resolution for {{.Manager}} on the host (/etc/resolv.conf, /etc/hosts,
nsswitch.conf); internal names are not resolvable by public resolvers. DHCP hosts whose
policy blocks DNS need "Force Allow DHCP DNS" in the policy's firewall settings. Or point
the agent at an address it can resolve.{{if .Detail}} {{.Detail}}{{end}}`,
		RemedyOS: map[string]string{
			"windows": `Fix name resolution for {{.Manager}} on the host (adapter DNS servers, hosts file);
internal names are not resolvable by public resolvers. DHCP hosts whose policy blocks DNS
need "Force Allow DHCP DNS" in the policy's firewall settings.{{if .Detail}} {{.Detail}}{{end}}`,
		},
	})
}

func dnsUnresolvable(in *Input, o *Options) *Finding {
	if !dnsFailed(in.Facts) {
		return nil
	}
	r := in.Facts.Get("dns.result")
	tool := in.Facts.Get("dns.tool")
	if tool == "" {
		tool = "lookup"
	}
	how := "failed"
	if r == "timeout" {
		how = "timed out (no DNS server answered)"
	} else if r == "notfound" {
		how = "returned no such name"
	}
	ev := []string{fmt.Sprintf("%s %s on the host %s", tool, managerOf(in, o), how)}
	if servers := in.Facts.List("dns.servers"); len(servers) > 0 {
		ev = append(ev, "its resolv.conf servers: "+strings.Join(servers, ", "))
	}
	conf := result.Confirmed
	detail := ""
	if dhcp, _ := in.Facts.Bool("net.dhcp"); dhcp {
		ev = append(ev, "the host is configured by DHCP")
		detail = "This host takes its address (and DNS servers) from DHCP: if its policy's firewall is on, enable \"Force Allow DHCP DNS\" so DNS and DHCP replies are not blocked."
	}
	if len(in.BastionAddrs) > 0 {
		ev = append(ev, "the bastion resolves it to "+strings.Join(in.BastionAddrs, ", "))
	} else if in.BastionResolveErr != "" {
		// the name may simply not exist anywhere: still the host's problem,
		// but the --manager value deserves a look first
		ev = append(ev, "the bastion cannot resolve it either")
		conf = result.Likely
	}
	return &Finding{Confidence: conf, Evidence: ev, Detail: detail}
}
