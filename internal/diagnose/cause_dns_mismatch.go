package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

func init() {
	register(Cause{
		ID:    result.DNSMismatch,
		Title: "Host resolves the manager to other addresses than the bastion",
		Rank:  60,
		Needs: []string{"dns.result", "dns.addresses"},
		Uses:  []string{"port.result", "manager.host"},
		Rule:  dnsMismatch,
		Remedy: `The host resolves {{.Manager}} to different addresses than the bastion does ({{.Detail}}).
Check for stale /etc/hosts entries or a split-horizon DNS view that hands out an old or
unreachable manager address.`,
	})
}

func dnsMismatch(in *Input, o *Options) *Finding {
	if !in.Facts.Is("dns.result", "ok") || len(in.BastionAddrs) == 0 {
		return nil
	}
	hostAddrs := in.Facts.List("dns.addresses")
	if len(hostAddrs) == 0 {
		return nil
	}
	bastion := map[string]bool{}
	for _, a := range in.BastionAddrs {
		bastion[normIP(a)] = true
	}
	for _, a := range hostAddrs {
		if bastion[normIP(a)] {
			return nil // overlapping answers (round robin) are not a mismatch
		}
	}
	conf := result.Likely
	if r := in.Facts.Get("port.result"); r != "" && r != "open" {
		conf = result.Confirmed // and the address it gets does not answer
	}
	det := fmt.Sprintf("host: %s; bastion: %s", strings.Join(hostAddrs, ", "), strings.Join(in.BastionAddrs, ", "))
	return &Finding{Confidence: conf,
		Evidence: []string{fmt.Sprintf("%s resolves to %s on the host but to %s on the bastion", managerOf(in, o), strings.Join(hostAddrs, ", "), strings.Join(in.BastionAddrs, ", "))},
		Detail:   det}
}
