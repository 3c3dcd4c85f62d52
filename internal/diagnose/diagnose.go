// Package diagnose turns a host's facts and the bastion's probes into the
// contract's causes, each with confidence, evidence and remedy. It is pure:
// no I/O, no clock — the same facts always give the same causes, so saved
// runs and simulated hosts are judged exactly like live ones.
package diagnose

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// Remedies renders remedy text (playbook.Causes implements it).
type Remedies interface {
	Remedy(id, os string, v playbook.RemedyVars) string
}

// Options are the run-wide settings rules depend on.
type Options struct {
	Manager           string // --manager host (the default when the agent does not say)
	Port              int
	AgentPort         int
	Mode              string // agent-initiated | manager-initiated | bidirectional
	MaxClockSkew      time.Duration
	CorporateNetworks []netip.Prefix
	Thresholds        playbook.Thresholds
	Remedies          Remedies
}

// Input is everything known about one host.
type Input struct {
	Name  string
	OS    string
	Facts facts.Facts
	// Window brackets the script run on the bastion's clock.
	Window struct{ Start, End time.Time }
	// BastionAddrs is the bastion's resolution of the manager name this
	// host uses (nil: not resolved); BastionResolveErr when that failed.
	BastionAddrs      []string
	BastionResolveErr string
	// ManagerReachable: the bastion itself reached the manager's port.
	ManagerReachable *bool
	// AgentPortFromManager is how the agent port looked from the manager
	// side ("" = not probed): open, refused, timeout, unreachable.
	AgentPortFromManager string
	// AgentPortProbedFrom names where that probe ran ("bastion" or a host).
	AgentPortProbedFrom string
}

// Evidence strings are short: one line, capped.
const maxEvidence = 400

// rule is one cause detector.
type rule func(in *Input, o *Options) *finding

type finding struct {
	id         string
	confidence result.Confidence
	evidence   []string
	detail     string // goes into the remedy template
}

var rules = []rule{
	agentNotInstalled, solarisAgentUpgrade, agentNotRunning, dnsUnresolvable, dnsMismatch,
	offNetwork, heartbeatPortBlocked, pmtuBlackhole, oneWayCommunication, clockSkew,
	tlsFailure, ruleUpdateInProgress, resourcePressure,
}

// Host returns the causes for one host, primary first.
func Host(in *Input, o *Options) []result.Cause {
	var out []result.Cause
	for _, r := range rules {
		f := r(in, o)
		if f == nil {
			continue
		}
		out = append(out, result.Cause{
			ID:         f.id,
			Confidence: f.confidence,
			Evidence:   textsafe.Line(strings.Join(f.evidence, "; "), maxEvidence),
			Remedy:     remedy(o, f.id, in.OS, managerOf(in, o), portOf(in, o), in.Name, f.detail),
		})
	}
	Order(out)
	return out
}

// Order sorts causes into the contract's precedence, confirmed before
// likely before possible for causes of equal rank.
func Order(cs []result.Cause) {
	rank := map[string]int{}
	for i, id := range result.CauseOrder {
		rank[id] = i
	}
	conf := map[result.Confidence]int{result.Confirmed: 0, result.Likely: 1, result.Possible: 2}
	sort.SliceStable(cs, func(i, j int) bool {
		// A confirmed cause outranks a merely possible one above it.
		ci, cj := conf[cs[i].Confidence], conf[cs[j].Confidence]
		if (ci == 2) != (cj == 2) {
			return ci < cj
		}
		return rank[cs[i].ID] < rank[cs[j].ID]
	})
}

func remedy(o *Options, id, os, manager string, port int, host, detail string) string {
	if o.Remedies == nil {
		return ""
	}
	if manager == "" {
		manager = "the manager"
	}
	return textsafe.Line(o.Remedies.Remedy(id, os, playbook.RemedyVars{
		Manager: manager, Port: port, AgentPort: o.AgentPort, Host: host, Detail: detail,
	}), 1200)
}

// managerOf is the manager this host talks to: the agent's own dsmUrl
// (reported by the playbook as manager.host) or --manager.
func managerOf(in *Input, o *Options) string {
	if m := in.Facts.Get("manager.host"); m != "" {
		return m
	}
	return o.Manager
}

func portOf(in *Input, o *Options) int {
	if p, ok := in.Facts.Int("manager.port"); ok && p > 0 && p < 65536 {
		return int(p)
	}
	return o.Port
}

func installed(f facts.Facts) (bool, bool) { return f.Bool("agent.installed") }

func running(f facts.Facts) (bool, bool) {
	if p, known := f.Bool("agent.process"); known {
		return p, true
	}
	if f.Is("agent.service", "running") {
		return true, true
	}
	return false, false
}

func agentNotInstalled(in *Input, o *Options) *finding {
	inst, known := installed(in.Facts)
	run, _ := running(in.Facts)
	if !known || inst || run {
		return nil
	}
	ev := []string{"no agent binary or package (" + agentWhere(in.OS) + ")"}
	if in.Facts.Is("agent.service", "absent") {
		ev = append(ev, "no ds_agent service")
	}
	return &finding{id: result.AgentNotInstalled, confidence: result.Confirmed, evidence: ev}
}

func agentWhere(os string) string {
	if os == "windows" {
		return `service ds_agent, C:\Program Files\Trend Micro\Deep Security Agent`
	}
	return "/opt/ds_agent/ds_agent, package ds_agent/ds-agent"
}

func agentNotRunning(in *Input, o *Options) *finding {
	inst, known := installed(in.Facts)
	run, runKnown := running(in.Facts)
	if !runKnown || run || (known && !inst) {
		return nil
	}
	if solarisUpgradeTrap(in) != nil {
		return nil // the more specific cause explains it
	}
	ev := []string{"no ds_agent process"}
	svc := in.Facts.Get("agent.service")
	if svc != "" && svc != "unknown" {
		s := "service ds_agent: " + svc
		if tool := in.Facts.Get("agent.service.tool"); tool != "" && tool != "none" {
			s += " (" + tool + ")"
		}
		ev = append(ev, s)
	}
	if d := in.Facts.List("agent.service.detail"); len(d) > 0 {
		ev = append(ev, strings.Join(d, " "))
	}
	detail := ""
	switch svc {
	case "disabled":
		detail = "The service is disabled: enable it so it starts at boot."
	case "offline":
		detail = "SMF holds it offline while it waits for a dependency: svcs -x names the one that is not online."
	case "maintenance":
		detail = "SMF put it in maintenance after its start method failed: read the service log svcs -x points to, fix the cause, then svcadm clear."
	}
	return &finding{id: result.AgentNotRunning, confidence: result.Confirmed, evidence: ev, detail: detail}
}

func dnsUnresolvable(in *Input, o *Options) *finding {
	r := in.Facts.Get("dns.result")
	if r != "fail" && r != "timeout" && r != "notfound" {
		return nil
	}
	name := managerOf(in, o)
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
	ev := []string{fmt.Sprintf("%s %s on the host %s", tool, name, how)}
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
	return &finding{id: result.DNSUnresolvable, confidence: conf, evidence: ev, detail: detail}
}

func dnsMismatch(in *Input, o *Options) *finding {
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
	return &finding{id: result.DNSMismatch, confidence: conf,
		evidence: []string{fmt.Sprintf("%s resolves to %s on the host but to %s on the bastion", managerOf(in, o), strings.Join(hostAddrs, ", "), strings.Join(in.BastionAddrs, ", "))},
		detail:   det}
}

func normIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

// dnsFailed: the host could not resolve the manager, so its port and TLS
// checks never had an address to try — they say nothing about the port.
func dnsFailed(f facts.Facts) bool { return f.Is("dns.result", "fail", "timeout", "notfound") }

func heartbeatPortBlocked(in *Input, o *Options) *finding {
	viaAddr := in.Facts.Is("port.via", "address")
	if dnsFailed(in.Facts) && !viaAddr {
		return nil
	}
	r := in.Facts.Get("port.result")
	var how string
	switch r {
	case "timeout":
		how = "timed out (packets dropped)"
	case "refused":
		how = "was refused (rejected)"
	case "unreachable":
		how = "failed: no route / unreachable"
	default:
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
	return &finding{id: result.HeartbeatPortBlocked, confidence: conf, evidence: ev, detail: detail}
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

func pmtuBlackhole(in *Input, o *Options) *finding {
	if dnsFailed(in.Facts) || !in.Facts.Is("port.result", "open") || !in.Facts.Is("tls.result", "timeout") {
		return nil
	}
	return &finding{id: result.PMTUBlackhole, confidence: result.Likely, evidence: []string{
		fmt.Sprintf("TCP to %s:%d connects but the TLS handshake stalls (no answer to the large handshake packets)", managerOf(in, o), portOf(in, o)),
	}}
}

func oneWayCommunication(in *Input, o *Options) *finding {
	if o.Mode == "" || o.Mode == "agent-initiated" || in.AgentPortFromManager == "" {
		return nil
	}
	outbound := in.Facts.Get("port.result")
	inbound := in.AgentPortFromManager
	from := in.AgentPortProbedFrom
	if from == "" {
		from = "the bastion"
	}
	conf := result.Likely
	if from != "the bastion" {
		conf = result.Confirmed
	}
	switch {
	case outbound == "open" && inbound != "open":
		ev := []string{fmt.Sprintf("agent → manager TCP %d works; manager → agent TCP %d from %s: %s", portOf(in, o), o.AgentPort, from, inbound)}
		if l, known := in.Facts.Bool("agent.listening"); known && !l {
			ev = append(ev, fmt.Sprintf("nothing listens on %d on the host", o.AgentPort))
		}
		return &finding{id: result.OneWayCommunication, confidence: conf, evidence: ev,
			detail: fmt.Sprintf("Here the agent reaches the manager but the manager cannot reach the agent on %d.", o.AgentPort)}
	case inbound == "open" && outbound != "" && outbound != "open" && outbound != "unavailable":
		return &finding{id: result.OneWayCommunication, confidence: conf,
			evidence: []string{fmt.Sprintf("manager → agent TCP %d works from %s; agent → manager TCP %d: %s", o.AgentPort, from, portOf(in, o), outbound)},
			detail:   "Here the manager reaches the agent but the agent cannot reach the manager."}
	}
	return nil
}

func offNetwork(in *Input, o *Options) *finding {
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
	return &finding{id: result.OffNetwork, confidence: result.Likely, evidence: ev, detail: strings.Join(addrs, ", ")}
}

func clockSkew(in *Input, o *Options) *finding {
	epoch, ok := in.Facts.Int("clock.epoch")
	if !ok || in.Window.Start.IsZero() || o.MaxClockSkew <= 0 {
		return nil
	}
	host := time.Unix(epoch, 0).UTC()
	// The host read its clock somewhere between Start and End on ours;
	// only what lies outside that window (±1s for whole seconds) is skew.
	var skew time.Duration
	switch {
	case host.Before(in.Window.Start.Add(-time.Second)):
		skew = host.Sub(in.Window.Start)
	case host.After(in.Window.End.Add(time.Second)):
		skew = host.Sub(in.Window.End)
	}
	if abs(skew) <= o.MaxClockSkew {
		return nil
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	ev := fmt.Sprintf("host clock %s is %s %s the bastion's (%s; limit %s)",
		host.Format(time.RFC3339), abs(skew).Round(time.Second), dir, in.Window.Start.UTC().Format(time.RFC3339), o.MaxClockSkew)
	return &finding{id: result.ClockSkew, confidence: result.Confirmed, evidence: []string{ev},
		detail: fmt.Sprintf("The host is %s %s the bastion.", abs(skew).Round(time.Second), dir)}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func tlsFailure(in *Input, o *Options) *finding {
	lines := in.Facts.List("log.tls")
	if len(lines) == 0 {
		return nil
	}
	show := lines
	if len(show) > 2 {
		show = show[len(show)-2:]
	}
	ev := []string{fmt.Sprintf("%d TLS/certificate error line(s) in the agent log, latest: %s", len(lines), strings.Join(show, " | "))}
	return &finding{id: result.TLSFailure, confidence: result.Likely, evidence: ev}
}

func ruleUpdateInProgress(in *Input, o *Options) *finding {
	if !in.Facts.Is("log.rule_update", "in-progress") {
		return nil
	}
	ev := []string{"the agent log shows an update started and not finished"}
	if l := in.Facts.Get("log.rule_update_line"); l != "" {
		ev = append(ev, "last: "+l)
	}
	return &finding{id: result.RuleUpdateInProgress, confidence: result.Likely, evidence: ev}
}

func resourcePressure(in *Input, o *Options) *finding {
	f := ResourceFigures(in.Facts, o.Thresholds)
	if len(f) == 0 {
		return nil
	}
	return &finding{id: result.ResourcePressure, confidence: result.Confirmed, evidence: f, detail: strings.Join(f, ", ")}
}

// ResourceFigures lists the resource figures over their thresholds.
func ResourceFigures(f facts.Facts, t playbook.Thresholds) []string {
	var out []string
	load, okL := f.Float("load.5")
	if !okL {
		load, okL = f.Float("load.1")
	}
	cpus, okC := f.Float("cpu.count")
	if okL && okC && cpus > 0 && load/cpus >= t.LoadPerCPU {
		out = append(out, fmt.Sprintf("load %.2f on %d CPUs = %.1f per CPU (limit %g)", load, int(cpus), load/cpus, t.LoadPerCPU))
	}
	if m, ok := f.Float("mem.available_pct"); ok && m < t.MemAvailablePct {
		out = append(out, fmt.Sprintf("available memory %.1f%% (limit %g%%)", m, t.MemAvailablePct))
	}
	for _, fs := range f.List("fs.used") {
		pctStr, where, _ := strings.Cut(fs, " ")
		pct, err := strconv.ParseFloat(pctStr, 64)
		if err == nil && pct >= t.FSUsedPct {
			out = append(out, fmt.Sprintf("%s %g%% full (limit %g%%)", where, pct, t.FSUsedPct))
		}
	}
	return out
}

// solarisAgentUpgrade: Solaris 11, agent 11.x installed, not running, and
// (for confirmation) a 9.0 build before 9.0.0-5616 in the package history.
func solarisAgentUpgrade(in *Input, o *Options) *finding { return solarisUpgradeTrap(in) }

func solarisUpgradeTrap(in *Input) *finding {
	if in.OS != "solaris" || in.Facts.Get("os.release") != "5.11" {
		return nil
	}
	run, known := running(in.Facts)
	if !known || run {
		return nil
	}
	ver := in.Facts.Get("agent.version")
	if !strings.HasPrefix(ver, "11.") {
		return nil
	}
	var old []string
	for _, h := range in.Facts.List("agent.history") {
		if isBefore5616(h) {
			old = append(old, h)
		}
	}
	ev := []string{"SunOS 5.11", "installed agent " + ver + ", not running"}
	if len(old) > 0 {
		ev = append(ev, "package history shows 9.0 build(s) before 9.0.0-5616: "+strings.Join(old, ", "))
		return &finding{id: result.SolarisAgentUpgrade, confidence: result.Confirmed, evidence: ev}
	}
	if len(in.Facts.List("agent.history")) > 0 {
		return nil // history is known and shows no early 9.0 build
	}
	ev = append(ev, "no package history to tell whether it came from an early 9.0 build")
	return &finding{id: result.SolarisAgentUpgrade, confidence: result.Possible, evidence: ev}
}

// isBefore5616 reports a 9.0 version below build 5616 (9.0.0-1234, 9.0.0.1234).
func isBefore5616(v string) bool {
	if !strings.HasPrefix(v, "9.0") {
		return false
	}
	i := strings.LastIndexAny(v, "-.")
	if i < 0 {
		return false
	}
	b, err := strconv.Atoi(strings.TrimSpace(v[i+1:]))
	return err == nil && b < 5616 && b > 0
}
