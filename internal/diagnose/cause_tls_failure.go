package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

// tls-failure is read from the agent's own logs: likely, since only the
// manager's side could confirm which handshake failed and why.
func init() {
	register(Cause{
		ID:    result.TLSFailure,
		Title: "TLS or certificate errors talking to the manager",
		Rank:  120,
		Needs: []string{"log.tls_found"},
		Uses:  []string{"log.tls"},
		Rule:  tlsFailure,
		Remedy: `The agent logs TLS/certificate errors: check the host's clock, then whether the manager's
certificate was replaced (see "Replace the Deep Security Manager TLS certificate"); if the
agent's certificate was revoked or the computer re-created, reset and reactivate the agent
(dsa_control -r, then dsa_control -a dsm://{{.Manager}}:{{.Port}}/).`,
		RemedyOS: map[string]string{
			"windows": `The agent logs TLS/certificate errors: check the host's clock, then whether the manager's
certificate was replaced; if the agent's certificate was revoked, reset and reactivate
the agent (dsa_control -r, then dsa_control -a dsm://{{.Manager}}:{{.Port}}/).`,
		},
	})
}

func tlsFailure(in *Input, o *Options) *Finding {
	if found, known := in.Facts.Bool("log.tls_found"); known && !found {
		return nil
	}
	lines := in.Facts.List("log.tls")
	if len(lines) == 0 {
		return nil
	}
	show := lines
	if len(show) > 2 {
		show = show[len(show)-2:]
	}
	ev := []string{fmt.Sprintf("%d TLS/certificate error line(s) in the agent log, latest: %s", len(lines), strings.Join(show, " | "))}
	return &Finding{Confidence: result.Likely, Evidence: ev}
}
