package facts

import (
	"fmt"
	"sort"
	"strconv"
)

// Kind is what a fact's values look like.
type Kind int

const (
	Text   Kind = iota // one free-form value
	List               // any number of free-form values (all: true in a playbook)
	Bool               // "true" or "false"
	Int                // a whole number
	Number             // a decimal number
	Enum               // one value out of Spec.Values
)

func (k Kind) String() string {
	return [...]string{"text", "list", "bool", "int", "number", "enum"}[k]
}

// Spec declares one fact: its name, the shape of its values and where it is
// not gathered. Playbooks may only emit declared facts; the catalogue is
// what a playbook author and a cause author agree on, so a fact renamed in
// one playbook fails at load time instead of silencing a rule.
type Spec struct {
	Name   string
	Kind   Kind
	Values []string // Enum: every value a playbook may emit
	// NotOn lists the OSes whose playbooks do not gather this fact (the
	// tool or the concept does not exist there). Every other playbook
	// must produce it; a test holds them to that.
	NotOn []string
	// Builtin facts are set by the evaluator, not by a playbook rule.
	Builtin bool
	Doc     string
}

// catalog is every fact a playbook may emit. It is read-only: nothing
// writes to it after package initialisation.
var catalog = indexSpecs([]Spec{
	// set by the evaluator itself
	{Name: "os.name", Kind: Text, Builtin: true, Doc: "the playbook's OS (linux, solaris, aix, windows)"},
	{Name: "os.kernel", Kind: Text, Builtin: true, Doc: "what the host said its OS is (uname -s)"},

	// setup: who we are and which manager the agent itself uses
	{Name: "priv.root", Kind: Bool, Doc: "the checks ran with root / Administrator rights"},
	{Name: "host.name", Kind: Text, Doc: "the host's own name (uname -n, COMPUTERNAME)"},
	{Name: "os.release", Kind: Text, Doc: "kernel release (uname -r; Windows version number)"},
	{Name: "os.version", Kind: Text, Doc: "OS version (uname -v; Windows caption)"},
	{Name: "agent.dsm_url", Kind: Text, Doc: "AgentStatus.dsmUrl as dsa_query printed it"},
	{Name: "agent.dsa", Kind: Bool, Doc: "dsa_query answered with the agent's status"},
	{Name: "agent.state", Kind: Text, Doc: "AgentStatus.agentState as dsa_query printed it (green, yellow, red when activated)"},
	{Name: "manager.host", Kind: Text, Doc: "the manager the checks used: the agent's dsmUrl host, else --manager"},
	{Name: "manager.port", Kind: Int, Doc: "the heartbeat port the checks used"},

	// the agent
	{Name: "agent.installed", Kind: Bool, Doc: "agent binary, package or service present"},
	{Name: "agent.version", Kind: Text, Doc: "installed agent version"},
	{Name: "agent.paths", Kind: List, Doc: "agent files found"},
	{Name: "agent.process", Kind: Bool, Doc: "the agent process is running"},
	{Name: "agent.pids", Kind: List, Doc: "process IDs of the running agent"},
	{Name: "agent.service", Kind: Enum, Values: []string{
		"running", "stopped", "failed", "absent", "unknown", "disabled",
		"offline", "maintenance", // Solaris SMF
		"inoperative", "stopping", // AIX SRC
		"start-pending", "stop-pending", "continue-pending", "pause-pending", // Windows SCM
	}, Doc: "the service manager's view of ds_agent"},
	{Name: "agent.service.tool", Kind: Text, Doc: "which service manager answered (systemctl, init.d, svcs, lssrc, scm, none)"},
	{Name: "agent.service.detail", Kind: List, Doc: "why the service is in its state (systemd result, svcs -x reason, SCM events)"},
	{Name: "agent.smf_state", Kind: Text, NotOn: []string{"linux", "aix", "windows"}, Doc: "the raw SMF state"},
	{Name: "agent.history", Kind: List, NotOn: []string{"linux", "aix", "windows"}, Doc: "agent versions from the package history"},
	{Name: "agent.history.source", Kind: Text, NotOn: []string{"linux", "aix", "windows"}, Doc: "where the package history came from"},
	{Name: "agent.package_status", Kind: Text, NotOn: []string{"windows"}, Doc: "pkginfo / pkg info status line"},
	{Name: "agent.listening", Kind: Bool, Doc: "something listens on the agent port"},

	// name resolution
	{Name: "dns.result", Kind: Enum, Values: []string{"ok", "fail", "timeout", "notfound", "literal", "unavailable"}, Doc: "resolving the manager's name on the host"},
	{Name: "dns.addresses", Kind: List, Doc: "addresses the host resolved the manager to"},
	{Name: "dns.tool", Kind: Text, Doc: "the resolver tool used"},
	{Name: "dns.servers", Kind: List, Doc: "the host's DNS servers"},

	// the heartbeat port and TLS
	{Name: "port.result", Kind: Enum, Values: []string{"open", "refused", "dns", "timeout", "unreachable", "error", "unavailable"}, Doc: "TCP from the host to the manager's heartbeat port"},
	{Name: "port.target", Kind: Text, Doc: "host:port the port check tried"},
	{Name: "port.via", Kind: Enum, Values: []string{"address"}, Doc: "set when the check fell back to the bastion's address for the manager"},
	{Name: "port.address_target", Kind: Text, Doc: "address:port of that fallback"},
	{Name: "port.tool", Kind: Text, Doc: "the tool that opened the connection"},
	{Name: "path.hops", Kind: List, Doc: `route trace to the manager, "N address" per hop`},
	{Name: "agent.proxy", Kind: List, Doc: `the agent's proxies from dsa_query, "manager URL" or "relay URL" (scheme, host and port only)`},
	{Name: "proxy.result", Kind: Enum, Values: []string{"none", "ok", "refused", "timeout", "unreachable", "dns", "denied", "upstream", "noanswer", "error", "unavailable", "unknown"},
		Doc: "the agent's manager proxy: TCP to it, then an HTTP CONNECT through it to the heartbeat port (none: no proxy; denied: a 4xx answer; upstream: a 5xx, the proxy could not reach the manager)"},
	{Name: "proxy.target", Kind: Text, Doc: "host:port of the manager proxy"},
	{Name: "proxy.status", Kind: Text, Doc: "the proxy's answer to the CONNECT (its status line)"},
	{Name: "proxy.tool", Kind: Text, Doc: "the tool that talked to the proxy"},
	{Name: "proxy.relay_result", Kind: Enum, Values: []string{"ok", "refused", "timeout", "unreachable", "dns", "error", "unavailable"}, Doc: "TCP from the host to the agent's relay proxy"},
	{Name: "proxy.relay_target", Kind: Text, Doc: "host:port of the relay proxy"},
	{Name: "tls.result", Kind: Enum, Values: []string{"ok", "timeout", "fail", "noconnect", "unavailable"}, Doc: "TLS handshake with the manager"},

	// clock and resources
	{Name: "clock.epoch", Kind: Int, Doc: "the host's clock, UTC seconds"},
	{Name: "cpu.count", Kind: Number, Doc: "online CPUs"},
	{Name: "load.1", Kind: Number, Doc: "1-minute load (Windows: processor queue length)"},
	{Name: "load.5", Kind: Number, NotOn: []string{"windows"}, Doc: "5-minute load average"},
	{Name: "mem.available_pct", Kind: Number, Doc: "available memory, percent"},
	{Name: "fs.used", Kind: List, Doc: `the agent's filesystems, "PCT where" each`},

	// logs
	{Name: "log.tls", Kind: List, Doc: "recent TLS/certificate error lines in the agent's logs"},
	{Name: "log.tls_found", Kind: Bool, Doc: "any such line"},
	{Name: "log.read", Kind: Text, Doc: "whether the agent's logs were found (read, none)"},
	{Name: "log.rule_update", Kind: Enum, Values: []string{"in-progress", "finished", "none", "unknown"}, Doc: "the last rule/security update in the agent's logs"},
	{Name: "log.rule_update_line", Kind: Text, Doc: "the log line that says so"},

	// network
	{Name: "fw.rules", Kind: List, Doc: "host firewall rules that may block the heartbeat port"},
	{Name: "net.addresses", Kind: List, Doc: "the host's addresses (CIDR where known)"},
	{Name: "net.default_route", Kind: Text, Doc: "the default route"},
	{Name: "net.dhcp", Kind: Bool, Doc: "addresses come from DHCP"},
})

func indexSpecs(specs []Spec) map[string]Spec {
	m := make(map[string]Spec, len(specs))
	for _, s := range specs {
		if _, dup := m[s.Name]; dup {
			panic("facts: " + s.Name + " declared twice") // a programming error in this file, caught by any test
		}
		m[s.Name] = s
	}
	return m
}

// Lookup returns the declaration of a fact.
func Lookup(name string) (Spec, bool) {
	s, ok := catalog[name]
	return s, ok
}

// Catalog returns every declared fact, sorted by name.
func Catalog() []Spec {
	out := make([]Spec, 0, len(catalog))
	for _, s := range catalog {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AppliesTo reports whether the fact is gathered on os.
func (s Spec) AppliesTo(os string) bool {
	for _, n := range s.NotOn {
		if n == os {
			return false
		}
	}
	return true
}

// Check reports whether v is a valid value of the fact.
func (s Spec) Check(v string) error {
	switch s.Kind {
	case Bool:
		if v != "true" && v != "false" {
			return fmt.Errorf("%s is a bool fact: %q is neither true nor false", s.Name, v)
		}
	case Int:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s is an int fact: %q is not a whole number", s.Name, v)
		}
	case Number:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%s is a number fact: %q is not a number", s.Name, v)
		}
	case Enum:
		for _, w := range s.Values {
			if v == w {
				return nil
			}
		}
		return fmt.Errorf("%s takes one of %v: %q is none of them", s.Name, s.Values, v)
	}
	return nil
}
