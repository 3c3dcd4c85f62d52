package lab

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/history"
	"github.com/whyoffline/whyoffline/internal/result"
)

// TestLabFleetFindings is the lab of issue 13: root causes only the fleet
// view shows, each with a twin that must not trigger — a zone whose
// router drops 4120 beside two zones that are fine (and the same fault
// spread over three subnets), agents behind a proxy that is down, wants
// credentials, cannot reach the manager or works while the direct path is
// blocked, a manager whose certificate expired, one whose certificate
// changed between two runs, and hosts off every night in a simulated
// history.
func TestLabFleetFindings(t *testing.T) {
	requireLab(t)
	zoneA := &Router{DropHeartbeat: true}
	zoneB, zoneC := &Router{}, &Router{}
	in := func(r *Router, name string, faults ...Fault) *Host {
		return &Host{Name: name, Router: r, Setup: faults}
	}
	h := func(name string, faults ...Fault) *Host { return &Host{Name: name, Setup: faults} }
	blocked := []string{result.HeartbeatPortBlocked}
	proxyDown := []string{result.ProxyUnreachable}
	sc := []scenario{
		// one zone's egress drops the heartbeat: one finding, its hosts
		{host: in(zoneA, "zone-a1"), status: result.Diagnosed, want: blocked},
		{host: in(zoneA, "zone-a2"), status: result.Diagnosed, want: blocked},
		{host: in(zoneA, "zone-a3"), status: result.Diagnosed, want: blocked},
		{host: in(zoneB, "zone-b1"), status: result.Healthy},
		{host: in(zoneB, "zone-b2"), status: result.Healthy},
		{host: in(zoneC, "zone-c1"), status: result.Healthy},
		{host: h("bridge-ok"), status: result.Healthy},
		// twin: as many hosts dropping 4120, one in each subnet
		{host: in(zoneB, "spread-b", PortDropped), status: result.Diagnosed, want: blocked},
		{host: in(zoneC, "spread-c", PortDropped), status: result.Diagnosed, want: blocked},
		{host: h("spread-bridge", PortDropped), status: result.Diagnosed, want: blocked},
		// agents that talk to the manager through a proxy
		{host: h("proxy-down", AgentProxy("manager", ManagerIP+":3130")), status: result.Diagnosed, want: proxyDown},
		{host: h("proxy-wants-auth", AgentProxy("manager", AuthProxyAddr)), status: result.Diagnosed, want: proxyDown},
		{host: h("relay-proxy-down", AgentProxy("relay", ManagerIP+":3131")), status: result.Diagnosed, want: proxyDown},
		{host: h("proxy-ok", AgentProxy("manager", ProxyAddr)), status: result.Healthy},
		// twin: the direct path is blocked, the agent's path (the proxy) works
		{host: h("proxy-ok-direct-dropped", AgentProxy("manager", ProxyAddr), PortDropped), status: result.Healthy},
		// the proxy is up but cannot reach the manager the agent names
		{host: h("proxy-upstream", AgentProxy("manager", ProxyAddr), func(_ *Host, b *HostBuild) { b.DSMURL = "https://10.77.0.3:4120/" }),
			status: result.Diagnosed, want: blocked},
		// a resolver that is dead for the hosts that use it, and its twin:
		// one that is slow but answers
		{host: h("dns-dead-1", DNSServerDown), status: result.Diagnosed, want: []string{result.DNSUnresolvable}},
		{host: h("dns-dead-2", DNSServerDown), status: result.Diagnosed, want: []string{result.DNSUnresolvable}},
		{host: h("dns-dead-3", DNSServerDown), status: result.Diagnosed, want: []string{result.DNSUnresolvable}},
		{host: h("dns-slow-1", SlowResolver), status: result.Healthy},
		{host: h("dns-slow-2", SlowResolver), status: result.Healthy},
		{host: h("dns-slow-3", SlowResolver), status: result.Healthy},
		// checked by the certificate and history scans below
		{host: h("cert-tls-errors", TLSErrorsInLog), status: result.Diagnosed, want: []string{result.TLSFailure}},
		{host: h("desk-nightly"), status: result.Healthy},
		{host: h("desk-always-on"), status: result.Healthy},
		{host: &Host{Name: "desk-gone", NoSSHD: true}, status: result.Unreachable, want: []string{result.HostUnreachable}},
	}
	var hosts []*Host
	for _, s := range sc {
		hosts = append(hosts, s.host)
	}
	l := startLab(t, hosts, nil)
	inv, kh := writeInventory(t, l, sc)
	const nMain = 22 // the scenarios of the main scan
	var main []string
	for _, s := range sc[:nMain] {
		main = append(main, s.host.Name)
	}

	var rows strings.Builder
	fmt.Fprintf(&rows, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")
	run, _, saved := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "-l", strings.Join(main, ","),
		"-f", "22", "--timeout", "50s", "--connect-timeout", "4s")
	// the reports lead with the fleet's findings: "22 offline" reads as
	// a handful of problems first
	table := render(t, saved, "table")
	if i, j := strings.Index(table, result.FleetSharedNetwork), strings.Index(table, "zone-b1"); i < 0 || j < 0 || i > j {
		t.Errorf("the table should lead with the fleet findings:\n%s", table)
	}
	html := render(t, saved, "html")
	if i, j := strings.Index(html, "<h2>Fleet findings</h2>"), strings.Index(html, "<h2>Hosts</h2>"); i < 0 || i > j || !strings.Contains(html, result.FleetSharedDNS) {
		t.Errorf("the HTML report should lead with the fleet findings")
	}
	t.Logf("the main scan as a table:\n%s", table)
	checkScenarios(t, run, sc[:nMain], &rows)
	byName := hostsByName(run)
	fleet := map[string][]result.Finding{}
	for _, f := range run.Fleet {
		fleet[f.ID] = append(fleet[f.ID], f)
	}
	// exactly one subnet finding, naming zone A's hosts, its subnet and
	// the hosts elsewhere that get through
	subnet := fmt.Sprintf("10.77.%d.0/24", 200+zoneA.k)
	if nb := fleet[result.FleetSharedNetwork]; len(nb) != 1 || strings.Join(nb[0].Hosts, ",") != "zone-a1,zone-a2,zone-a3" ||
		!strings.Contains(nb[0].Evidence, subnet) || !strings.Contains(nb[0].Evidence, "dropped") {
		t.Errorf("shared-network-block = %+v, want one finding for %s with zone-a1..3", nb, subnet)
	}
	for _, name := range []string{"zone-a1", "zone-a2", "zone-a3"} {
		if c := firstCause(byName[name]); c == nil || c.FleetRef == "" || c.Evidence == "" {
			t.Errorf("%s: its own cause should stay, linked to the finding: %+v", name, c)
		}
	}
	for _, name := range []string{"spread-b", "spread-c", "spread-bridge"} {
		if c := firstCause(byName[name]); c == nil || c.FleetRef != "" {
			t.Errorf("%s: a host blocked on its own is no subnet's finding: %+v", name, c)
		}
	}
	// one resolver finding: the dead one and exactly its hosts, not the
	// slow one
	if dns := fleet[result.FleetSharedDNS]; len(dns) != 1 || strings.Join(dns[0].Hosts, ",") != "dns-dead-1,dns-dead-2,dns-dead-3" ||
		!strings.Contains(dns[0].Evidence, "10.77.0.99") || strings.Contains(dns[0].Evidence, SlowResolverIP) {
		t.Errorf("shared-dns-failure = %+v, want one finding for 10.77.0.99 with dns-dead-1..3", dns)
	}
	if len(run.Fleet) != 2 {
		t.Errorf("fleet = %+v, want only the subnet and the resolver findings", run.Fleet)
	}
	for name, want := range map[string]string{
		"proxy-down":       "refused the TCP connection",
		"proxy-wants-auth": "407",
		"relay-proxy-down": "relay proxy " + ManagerIP + ":3131",
		"proxy-upstream":   "502",
	} {
		if c := firstCause(byName[name]); c == nil || !strings.Contains(c.Evidence, want) {
			t.Errorf("%s: evidence should say %q: %+v", name, want, c)
		}
	}
	if c := firstCause(byName["proxy-down"]); c == nil || c.Confidence != result.Confirmed || !strings.Contains(c.Remedy, ManagerIP+":3130") {
		t.Errorf("proxy-down: want confirmed, the remedy naming the proxy: %+v", c)
	}

	// a manager whose certificate expired (a second manager instance):
	// the finding lists the hosts whose agents log TLS errors
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stopExpired, err := l.ServeManager(ctx, "10.77.0.5", "tls-expired")
	if err != nil {
		t.Fatal(err)
	}
	defer stopExpired()
	certScan := func(manager string, more ...string) (*result.Run, string) {
		r, _, _ := scan(t, l, append([]string{"-i", inv, "--known-hosts", kh, "--manager", manager, "-l", "cert-tls-errors,zone-b1",
			"--timeout", "40s", "--connect-timeout", "4s"}, more...)...)
		for _, f := range r.Fleet {
			if f.ID == result.FleetManagerCert {
				return r, f.Evidence + " hosts=" + strings.Join(f.Hosts, ",")
			}
		}
		return r, ""
	}
	r, got := certScan("10.77.0.5")
	t.Logf("expired manager certificate: %s", got)
	if !strings.Contains(got, "expired on") || !strings.HasSuffix(got, "hosts=cert-tls-errors") {
		t.Errorf("expired manager certificate: finding %q, want expired listing cert-tls-errors", got)
	}
	checkScenarios(t, r, []scenario{*scenarioOf(sc, "cert-tls-errors"), *scenarioOf(sc, "zone-b1")}, &rows)
	// twin: the lab's own manager, valid and unchanged
	if _, got := certScan(ManagerName); got != "" {
		t.Errorf("valid manager certificate: finding %q", got)
	}
	// a certificate that changes between runs (--state-dir)
	state := filepath.Join(l.Dir, "state-cert")
	stopRot, err := l.ServeManager(ctx, "10.77.0.6", "tls")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, got := certScan("10.77.0.6", "--state-dir", state); got != "" {
			t.Errorf("run %d, certificate unchanged: finding %q", i+1, got)
		}
	}
	stopRot()
	stopRot, err = l.ServeManager(ctx, "10.77.0.6", "tls")
	if err != nil {
		t.Fatal(err)
	}
	defer stopRot()
	if _, got := certScan("10.77.0.6", "--state-dir", state); !strings.Contains(got, "changed since the last run") {
		t.Errorf("certificate replaced between runs: finding %q", got)
	} else {
		t.Logf("replaced manager certificate: %s", got)
	}

	testScheduledDowntime(ctx, t, l, inv, kh, scenarioOf(sc, "desk-nightly").host)
	t.Log(rows.String())
}

// render re-renders a saved run with the real binary (whyoffline report).
func render(t *testing.T, saved, format string) string {
	t.Helper()
	out, err := exec.Command(binary, "report", saved, "-o", format).Output()
	if err != nil {
		t.Fatalf("whyoffline report %s -o %s: %v", saved, format, err)
	}
	return string(out)
}

func scenarioOf(sc []scenario, name string) *scenario {
	for i := range sc {
		if sc[i].host.Name == name {
			return &sc[i]
		}
	}
	panic("no scenario " + name) // a typo in this file
}

// testScheduledDowntime simulates the history (two night runs and two day
// runs: desk-nightly off at night, desk-always-on up in all, desk-gone off
// in all, as it is now) and runs the real scan now — night or day on this clock, the
// nightly desk made unreachable for real when it is night.
func testScheduledDowntime(ctx context.Context, t *testing.T, l *Lab, inv, kh string, nightly *Host) {
	now := time.Now()
	for h := now.Hour(); (h == 18 || h == 6) && now.Minute() >= 58; h = now.Hour() {
		time.Sleep(time.Minute) // not across the 19:00 / 07:00 line mid-test
		now = time.Now()
	}
	isNight := func(t time.Time) bool { h := t.Hour(); return h >= 19 || h < 7 }
	state := filepath.Join(l.Dir, "state-downtime")
	store, err := history.Open(state, "lab")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int, hour int) time.Time {
		y, m, dd := now.AddDate(0, 0, -d).Date()
		return time.Date(y, m, dd, hour, 0, 0, 0, time.Local)
	}
	for _, past := range []time.Time{day(2, 2), day(2, 13), day(1, 2), day(1, 13)} {
		off := result.Healthy
		if isNight(past) {
			off = result.Unreachable
		}
		record(t, store, past, map[string]result.Status{"desk-nightly": off, "desk-always-on": result.Healthy, "desk-gone": result.Unreachable})
	}
	if isNight(now) {
		// the desk is switched off for tonight: nothing answers on 22
		if out, err := l.Exec(ctx, nightly, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	run, _, _ := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "-l", "desk-nightly,desk-always-on,desk-gone",
		"--state-dir", state, "--timeout", "40s", "--connect-timeout", "4s")
	var got []string
	for _, f := range run.Fleet {
		if f.ID == result.FleetDowntime {
			got = append(got, f.Hosts...)
		}
	}
	sort.Strings(got)
	t.Logf("scheduled-downtime (night now: %v): %v", isNight(now), got)
	if strings.Join(got, ",") != "desk-nightly" {
		t.Errorf("scheduled-downtime hosts %v (night now: %v), want [desk-nightly]; fleet %+v", got, isNight(now), run.Fleet)
	}
}

// record writes one simulated past run into a state directory.
func record(t *testing.T, s *history.Store, at time.Time, statuses map[string]result.Status) {
	t.Helper()
	rec, err := s.Record(at)
	if err != nil {
		t.Fatal(err)
	}
	run := &result.Run{Schema: result.Schema, Started: at, Finished: at, Fleet: []result.Finding{}}
	names := make([]string, 0, len(statuses))
	for n := range statuses {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		h := result.Host{Name: n, Status: statuses[n], Causes: []result.Cause{}, Checks: []result.Check{}}
		if err := rec.Host(i, &h); err != nil {
			t.Fatal(err)
		}
		run.Summary.Add(&h)
	}
	if err := rec.End(run); err != nil {
		t.Fatal(err)
	}
	if err := rec.Commit(); err != nil {
		t.Fatal(err)
	}
}
