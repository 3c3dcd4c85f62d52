package run

import (
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/inventory"
)

// TestManagerFromConsole: with --from-manager and no --manager, agents
// are checked against the address they heartbeat to — a SaaS console's
// separate agents address on 443, never the console on 4120 — or the run
// asks for --manager, saying why.
func TestManagerFromConsole(t *testing.T) {
	for _, c := range []struct{ flag, console, want, err string }{
		{"", "https://workload.de-1.cloudone.trendmicro.com", "agents.workload.de-1.cloudone.trendmicro.com:443", ""},
		{"", "https://app.deepsecurity.trendmicro.com/", "agents.deepsecurity.trendmicro.com:443", ""},
		{"", "https://dsm.corp.example:4119", "dsm.corp.example:4120", ""},
		{"", "https://cloudone.example.trendmicro.com", "", "give the address agents heartbeat to with --manager"},
		{"relay.corp.example:4120", "https://workload.us-1.cloudone.trendmicro.com", "relay.corp.example:4120", ""},
	} {
		spec, _, err := Manager(c.flag, "agent-initiated", false, inventory.Manager{}, c.console)
		if spec != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %q, %v; want %q %q", c.console, spec, err, c.want, c.err)
		}
	}
}
