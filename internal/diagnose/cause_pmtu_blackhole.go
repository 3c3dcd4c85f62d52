package diagnose

import (
	"fmt"

	"github.com/whyoffline/whyoffline/internal/result"
)

// pmtu-blackhole: from the host the dropped ICMP "fragmentation needed"
// cannot be seen, only its effect — TCP connects, the handshake's large
// packets never arrive — so it is never more than likely.
func init() {
	register(Cause{
		ID:    result.PMTUBlackhole,
		Title: "Large packets to the manager are dropped (ICMP fragmentation-needed blocked)",
		Rank:  90,
		Needs: []string{"dns.result", "port.result", "tls.result"},
		Uses:  []string{"manager.host", "manager.port"},
		Rule:  pmtuBlackhole,
		Remedy: `TCP to {{.Manager}}:{{.Port}} connects but the TLS handshake stalls: path-MTU discovery is
broken. Allow ICMP type 3 code 4 (fragmentation needed) back to this host — the policy's
"Force Allow ICMP type3 code4" firewall setting, the cloud security group / network ACL —
or lower the interface MTU.`,
	})
}

func pmtuBlackhole(in *Input, o *Options) *Finding {
	if dnsFailed(in.Facts) || !in.Facts.Is("port.result", "open") || !in.Facts.Is("tls.result", "timeout") {
		return nil
	}
	return &Finding{Confidence: result.Likely, Evidence: []string{
		fmt.Sprintf("TCP to %s:%d connects but the TLS handshake stalls (no answer to the large handshake packets)", managerOf(in, o), portOf(in, o)),
	}}
}
