package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// TestLabCauses is the lab of issue 4: every cause in the contract on
// Linux, Solaris 10 and 11 and AIX (fake uname/svcs/pkginfo/pkg/lssrc/lslpp
// over real processes, files and network), multi-fault hosts, healthy
// twins, a legacy-only and a PAM-only sshd, pfexec, a router namespace
// that black-holes the manager's large packets, a roaming host and a
// manager host that tests agent ports from its side.
func TestLabCauses(t *testing.T) {
	requireLab(t)
	h := func(name string, faults ...Fault) *Host { return &Host{Name: name, Setup: faults} }
	sol11 := func(smf, version string, history ...string) Fault {
		return FakeSolaris(Solaris{Release: "5.11", SMF: smf, Version: version, History: history})
	}
	sol10 := func(smf, version string) Fault {
		return FakeSolaris(Solaris{Release: "5.10", SMF: smf, Version: version, NoDateEpoch: true})
	}
	const v20 = "20.0.0-8438"
	const kbdPassword = "lab-Pa55-word"
	pfexec := func(profile string) Fault {
		return FakeSolaris(Solaris{Release: "5.11", SMF: "online", Version: v20, Profiles: map[string]string{"ops": profile}})
	}
	manager := h("dsm", DiskFull)
	win := func(name, profile, behaviour string) *Host {
		return &Host{Name: name, Windows: &Windows{Profile: profile, Behaviour: behaviour}}
	}
	winHTTPS := func(name, profile, cert string) *Host {
		return &Host{Name: name, Windows: &Windows{Profile: profile, HTTPS: cert}}
	}
	const winrm = "transport: winrm, user: 'LAB\\scanner', password_env: LAB_WIN_PASSWORD"

	// main scan: agent-initiated, default flags
	sc := []scenario{
		{host: h("sol11-healthy", sol11("online", v20, v20)), status: result.Healthy},
		{host: h("sol11-maintenance", sol11("maintenance", v20, v20)), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("sol11-upgrade-trap", sol11("maintenance", "11.0.0-1234", "9.0.0-5000", "11.0.0-1234")), status: result.Diagnosed, want: []string{"solaris-agent-upgrade"}},
		{host: h("sol11-upgrade-ok", sol11("maintenance", "11.0.0-1234", "9.0.0-5616", "11.0.0-1234")), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("sol11-port-dropped", sol11("online", v20, v20), PortDropped), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		{host: h("sol11-pfexec", User("ops", true), pfexec("Primary Administrator")), status: result.Healthy, user: "ops", become: true, extra: "become_method: pfexec"},
		{host: h("sol11-pfexec-basic", User("ops", true), pfexec("Basic Solaris User")), status: result.Error, want: []string{"privilege-denied"}, user: "ops", become: true, extra: "become_method: pfexec"},
		{host: h("sol10-legacy", sol10("online", "10.0.0-3761"), LegacySSHD), status: result.Healthy, extra: "ssh_legacy: true"},
		{host: h("sol10-legacy-no-optin", sol10("online", "10.0.0-3761"), LegacySSHD), status: result.Error, want: []string{"protocol-error"}},
		{host: h("sol10-disabled", sol10("disabled", "10.0.0-3761")), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("sol10-offline", sol10("offline", "10.0.0-3761")), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("sol10-missing", sol10("", "")), status: result.Diagnosed, want: []string{"agent-not-installed"}},
		{host: h("sol10-dns-down", sol10("online", "10.0.0-3761"), DNSServerDown), status: result.Diagnosed, want: []string{"dns-unresolvable"}},
		{host: h("sol10-clock-tls", sol10("online", "10.0.0-3761"), ClockAhead, TLSErrorsInLog), status: result.Diagnosed, want: []string{"clock-skew", "tls-failure"}},
		{host: h("sol10-pam-only", sol10("online", "10.0.0-3761"), PasswordUser("opsk", kbdPassword)), status: result.Healthy, user: "opsk", extra: "password_env: LAB_KBD_PASSWORD"},
		{host: h("sol10-svcs-wedged", FakeSolaris(Solaris{Release: "5.10", SMF: "online", Version: "10.0.0-3761", NoDateEpoch: true, SMFWedged: true})), status: result.Healthy},
		{host: h("sol10-rule-update", sol10("online", "10.0.0-3761"), RuleUpdateStuck), status: result.Diagnosed, want: []string{"rule-update-in-progress"}},
		{host: h("aix-healthy", FakeAIX(AIX{SRC: "active", Version: v20})), status: result.Healthy},
		{host: h("aix-inoperative", FakeAIX(AIX{SRC: "inoperative", Version: v20})), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("aix-missing", FakeAIX(AIX{})), status: result.Diagnosed, want: []string{"agent-not-installed"}},
		{host: h("aix-dns-and-port", FakeAIX(AIX{SRC: "active", Version: v20}), DNSServerDown, PortDropped), status: result.Diagnosed, want: []string{"dns-unresolvable", "heartbeat-port-blocked"}},
		{host: h("aix-disk-full", FakeAIX(AIX{SRC: "active", Version: v20}), DiskFull), status: result.Diagnosed, want: []string{"resource-pressure"}},
		{host: h("aix-clock-tls", FakeAIX(AIX{SRC: "active", Version: v20}), ClockAhead, TLSErrorsInLog), status: result.Diagnosed, want: []string{"clock-skew", "tls-failure"}},
		{host: h("aix-rule-update", FakeAIX(AIX{SRC: "active", Version: v20}), RuleUpdateStuck), status: result.Diagnosed, want: []string{"rule-update-in-progress"}},
		{host: h("sol11-disk-full", sol11("online", v20, v20), DiskFull), status: result.Diagnosed, want: []string{"resource-pressure"}},
		{host: h("sol10-high-load", sol10("online", "10.0.0-3761"), HighLoad), status: result.Diagnosed, want: []string{"resource-pressure"}},
		{host: h("aix-hosts-override", FakeAIX(AIX{SRC: "active", Version: v20}), HostsOverride), status: result.Diagnosed, want: []string{"dns-mismatch", "heartbeat-port-blocked"}},
		{host: h("linux-dns-and-port", DNSServerDown, PortDropped), status: result.Diagnosed, want: []string{"dns-unresolvable", "heartbeat-port-blocked"}},
		{host: &Host{Name: "pmtu-blackhole", Router: &Router{MTU: 512, BlockFragNeeded: true}}, status: result.Diagnosed, want: []string{"pmtu-blackhole"}},
		{host: &Host{Name: "pmtu-twin", Router: &Router{MTU: 512}}, status: result.Healthy},
		{host: &Host{Name: "sol11-pmtu", Setup: []Fault{sol11("online", v20, v20)}, Router: &Router{MTU: 512, BlockFragNeeded: true}}, status: result.Diagnosed, want: []string{"pmtu-blackhole"}},
		{host: &Host{Name: "aix-pmtu", Setup: []Fault{FakeAIX(AIX{SRC: "active", Version: v20})}, Router: &Router{MTU: 512, BlockFragNeeded: true}}, status: result.Diagnosed, want: []string{"pmtu-blackhole"}},
		{host: h("sol11-hosts-override", sol11("online", v20, v20), HostsOverride), status: result.Diagnosed, want: []string{"dns-mismatch", "heartbeat-port-blocked"}},
		{host: h("aix-sudo-denied", FakeAIX(AIX{SRC: "active", Version: v20}), User("ops", false)), status: result.Error, want: []string{"privilege-denied"}, user: "ops", become: true},
		{host: &Host{Name: "aix-pmtu-twin", Setup: []Fault{FakeAIX(AIX{SRC: "active", Version: v20})}, Router: &Router{MTU: 512}}, status: result.Healthy},
		{host: h("login-hangs", LoginShellHangs), status: result.Error, want: []string{"timeout"}, extra: "timeout: 6s"},
		{host: manager, status: result.Diagnosed, want: []string{"resource-pressure"}, extra: "role: manager"},
		// emulated Windows hosts (WS-Management over NTLM) in the same run
		{host: win("win-healthy", "healthy", ""), status: result.Healthy, extra: winrm},
		{host: win("win-service-stopped", "service-stopped", ""), status: result.Diagnosed, want: []string{"agent-not-running"}, extra: winrm},
		{host: win("win-service-missing", "service-missing", ""), status: result.Diagnosed, want: []string{"agent-not-installed"}, extra: winrm},
		{host: win("win-dns-failing", "dns-failing", ""), status: result.Diagnosed, want: []string{"dns-unresolvable"}, extra: winrm},
		{host: win("win-dns-throws", "dns-throws", ""), status: result.Error, want: []string{"incomplete"}, extra: winrm},
		{host: win("win-firewall-blocked", "firewall-blocked", ""), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}, extra: winrm},
		{host: win("win-clock-skew", "clock-skew", ""), status: result.Diagnosed, want: []string{"clock-skew"}, extra: winrm},
		{host: win("win-high-load", "high-load", ""), status: result.Diagnosed, want: []string{"resource-pressure"}, extra: winrm},
		{host: win("win-stall", "healthy", "stall"), status: result.Error, want: []string{"timeout"}, extra: winrm + ", timeout: 6s"},
		// Windows versions: what each one's fallbacks print
		{host: win("win2008r2-healthy", "healthy@ps2", ""), status: result.Healthy, extra: winrm},
		{host: win("win2016-dns-failing", "dns-failing@ps51", ""), status: result.Diagnosed, want: []string{"dns-unresolvable"}, extra: winrm},
		{host: win("win2022-gpo-firewall", "firewall-blocked@ps7", ""), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}, extra: winrm},
		// logs in, but may not open a shell; a web server on 5985
		{host: win("win-denied", "healthy", "denied"), status: result.Error, want: []string{"privilege-denied"}, extra: winrm},
		{host: win("win-web", "healthy", "web"), status: result.Error, want: []string{"protocol-error"}, extra: winrm},
		{host: win("win-wrong-password", "healthy", ""), status: result.Error, want: []string{"auth-failed"}, extra: "transport: winrm, user: 'LAB\\scanner', password_env: LAB_WRONG_PASSWORD"},
		{host: winHTTPS("win-https", "clock-skew", "valid"), status: result.Diagnosed, want: []string{"clock-skew"}, extra: winrm + ", winrm_scheme: https, ca_file: CA"},
		{host: winHTTPS("win-https-wrong-name", "healthy", "wrong-name"), status: result.Error, want: []string{"certificate-invalid"}, extra: winrm + ", winrm_scheme: https, ca_file: CA"},
	}
	// scanned with their own flags
	roaming := []scenario{
		{host: &Host{Name: "roaming", IP: "10.77.99.10"}, status: result.Diagnosed, want: []string{"off-network"}},
		{host: h("sol10-roaming", sol10("online", "10.0.0-3761")), status: result.Diagnosed, want: []string{"off-network"}},
		{host: h("office"), status: result.Healthy},
		{host: h("aix-roaming", FakeAIX(AIX{SRC: "active", Version: v20})), status: result.Diagnosed, want: []string{"off-network"}},
	}
	roaming[1].host.IP = "10.77.99.11"
	roaming[3].host.IP = "10.77.99.12"
	oneWay := []scenario{
		{host: h("inbound-blocked", AgentListening, InboundFromManagerDropped), status: result.Diagnosed, want: []string{"one-way-communication"}},
		{host: h("not-listening"), status: result.Diagnosed, want: []string{"one-way-communication"}},
		{host: h("aix-inbound-blocked", FakeAIX(AIX{SRC: "active", Version: v20}), AgentListening, InboundFromManagerDropped), status: result.Diagnosed, want: []string{"one-way-communication"}},
		{host: h("sol10-inbound-blocked", sol10("online", "10.0.0-3761"), AgentListening, InboundFromManagerDropped), status: result.Diagnosed, want: []string{"one-way-communication"}},
		{host: h("both-ways", AgentListening), status: result.Healthy},
	}

	var hosts []*Host
	for _, group := range [][]scenario{sc, roaming, oneWay} {
		for _, s := range group {
			if s.host != manager {
				hosts = append(hosts, s.host)
			}
		}
	}
	l := startLab(t, hosts, manager)
	t.Setenv("LAB_KBD_PASSWORD", kbdPassword)
	t.Setenv("LAB_WIN_PASSWORD", WinPassword)
	t.Setenv("LAB_WRONG_PASSWORD", "not-"+WinPassword)
	for i := range sc {
		sc[i].extra = strings.ReplaceAll(sc[i].extra, "ca_file: CA", "ca_file: "+sc[i].host.CAFile())
	}
	all := append(append(append([]scenario{}, sc...), roaming...), oneWay...)
	inv, kh := writeInventory(t, l, all)

	names := func(group []scenario) string {
		var n []string
		for _, s := range group {
			n = append(n, s.host.Name)
		}
		return strings.Join(n, ",")
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")

	run, code, _ := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "-l", names(sc),
		"-f", "32", "--timeout", "50s", "--connect-timeout", "4s")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	checkScenarios(t, run, sc, &table)
	// the fleet: the overloaded manager host, and the dead resolver the
	// DNS-down hosts share (10.77.0.99) while every other host's resolver
	// answers — exactly those hosts, each keeping its own cause
	fleet := map[string]result.Finding{}
	for _, f := range run.Fleet {
		fleet[f.ID] = f
	}
	if f, ok := fleet["manager-overloaded"]; !ok || !strings.Contains(f.Evidence, "dsm") {
		t.Errorf("fleet = %+v, want manager-overloaded naming dsm", run.Fleet)
	}
	// the hosts this scan expects to find unable to resolve: every one of
	// them has the dead resolver (DNSServerDown, the dns-failing profile)
	var deadResolver []string
	for _, s := range sc {
		for _, w := range s.want {
			if w == "dns-unresolvable" {
				deadResolver = append(deadResolver, s.host.Name)
			}
		}
	}
	sort.Strings(deadResolver)
	if f, ok := fleet["shared-dns-failure"]; !ok || strings.Join(f.Hosts, ",") != strings.Join(deadResolver, ",") || !strings.Contains(f.Evidence, "10.77.0.99") || len(run.Fleet) != 2 {
		t.Errorf("fleet = %+v, want shared-dns-failure naming resolver 10.77.0.99 and exactly %v", run.Fleet, deadResolver)
	}
	for _, name := range deadResolver {
		if c := firstCause(hostsByName(run)[name]); c == nil || c.ID != "dns-unresolvable" {
			t.Errorf("%s lost its own cause: %+v", name, c)
		}
	}
	byName := hostsByName(run)
	if c := firstCause(byName["sol11-port-dropped"]); c == nil || !strings.Contains(c.Evidence, "traceroute") {
		t.Errorf("sol11-port-dropped: no traceroute hop in the evidence: %+v", c)
	}
	if c := firstCause(byName["sol11-upgrade-trap"]); c == nil || c.Confidence != result.Confirmed || !strings.Contains(c.Evidence, "9.0.0-5000") {
		t.Errorf("sol11-upgrade-trap: want confirmed from the package history: %+v", c)
	}
	if hs := byName["sol10-svcs-wedged"]; hs == nil || !strings.Contains(checkSummary(hs), "svcs did not answer") {
		t.Errorf("sol10-svcs-wedged: the watchdog should have cut svcs short and said so: %s", checkSummary(hs))
	}
	if hs := byName["login-hangs"]; hs == nil || hs.Error == nil || !strings.Contains(hs.Error.Message, "never started") {
		t.Errorf("login-hangs: want a timeout saying the script never started: %+v", hs)
	}
	if hs := byName["aix-dns-and-port"]; hs != nil && len(hs.Causes) > 1 && !strings.Contains(hs.Causes[1].Evidence, "bastion's address") {
		t.Errorf("aix-dns-and-port: the port test should name the address it used: %+v", hs.Causes[1])
	}

	run, _, _ = scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "-l", names(roaming),
		"--corporate-networks", "10.77.0.0/20,192.168.0.0/16", "--connect-timeout", "4s")
	checkScenarios(t, run, roaming, &table)

	// manager-initiated: the role: manager host (dsm) tests each agent port
	run, _, _ = scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "-l", names(oneWay),
		"--manager-mode", "bidirectional", "--connect-timeout", "4s")
	checkScenarios(t, run, oneWay, &table)
	for _, name := range []string{"inbound-blocked", "not-listening"} {
		c := firstCause(hostsByName(run)[name])
		if c == nil || c.Confidence != result.Confirmed || !strings.Contains(c.Evidence, "manager host dsm") {
			t.Errorf("%s: want a confirmed finding from the manager host: %+v", name, c)
		}
	}

	t.Run("one-way-from-bastion", func(t *testing.T) {
		// Without a manager host the bastion probes instead: a closed port
		// is still found (likely), a filter aimed at the manager is not.
		noMgr := []scenario{oneWay[1], oneWay[4]}
		inv2, kh2 := writeInventoryNamed(t, l, noMgr, "inventory-nomanager.yaml")
		run, _, _ := scan(t, l, "-i", inv2, "--known-hosts", kh2, "--manager", ManagerName, "--manager-mode", "manager-initiated", "--connect-timeout", "4s")
		var tb strings.Builder
		checkScenarios(t, run, noMgr, &tb)
		if c := firstCause(hostsByName(run)["not-listening"]); c == nil || c.Confidence != result.Likely || !strings.Contains(c.Evidence, "bastion") {
			t.Errorf("not-listening from the bastion: want likely: %+v", c)
		}
	})
	t.Log(table.String())
}

func hostsByName(run *result.Run) map[string]*result.Host {
	m := map[string]*result.Host{}
	for i := range run.Hosts {
		m[run.Hosts[i].Name] = &run.Hosts[i]
	}
	return m
}

func firstCause(h *result.Host) *result.Cause {
	if h == nil || len(h.Causes) == 0 {
		return nil
	}
	return &h.Causes[0]
}

// checkScenarios asserts each scenario's status and causes (or error kind)
// and adds a row per host to table.
func checkScenarios(t *testing.T, run *result.Run, sc []scenario, table *strings.Builder) {
	t.Helper()
	if len(run.Hosts) != len(sc) {
		t.Errorf("got %d host results, want %d", len(run.Hosts), len(sc))
	}
	byName := hostsByName(run)
	for _, s := range sc {
		got := byName[s.host.Name]
		if got == nil {
			t.Errorf("%s: no result", s.host.Name)
			continue
		}
		var ids []string
		if got.Error != nil {
			ids = []string{string(got.Error.Kind)}
		} else {
			ids = causeIDs(got)
		}
		fmt.Fprintf(table, "%-22s %-8s %-13s %-45s %s\n", s.host.Name, got.OS, got.Status, strings.Join(s.want, ","), strings.Join(ids, ","))
		if c := firstCause(got); c != nil && testing.Verbose() {
			fmt.Fprintf(table, "%22s   %s: %.160s\n", "", c.Confidence, c.Evidence)
		}
		wantOS := "linux"
		if strings.HasPrefix(s.host.Name, "sol") {
			wantOS = "solaris"
		} else if strings.HasPrefix(s.host.Name, "aix") {
			wantOS = "aix"
		} else if s.host.Windows != nil {
			wantOS = "windows"
		}
		// only a host the scan logged into has a detected OS
		reached := got.Status == result.Healthy || got.Status == result.Diagnosed
		if reached && got.OS != wantOS {
			t.Errorf("%s: os %q, want %q (uname -s detection)", s.host.Name, got.OS, wantOS)
		}
		if got.Status != s.status || strings.Join(ids, ",") != strings.Join(s.want, ",") {
			t.Errorf("%s: status %s causes %v, want %s %v\n  causes: %+v\n  error: %+v\n  checks: %s",
				s.host.Name, got.Status, ids, s.status, s.want, got.Causes, got.Error, checkSummary(got))
		}
		for _, c := range got.Causes {
			if c.Evidence == "" || c.Remedy == "" || c.Confidence == "" {
				t.Errorf("%s: cause %s lacks evidence, remedy or confidence: %+v", s.host.Name, c.ID, c)
			}
		}
	}
}

// writeInventoryNamed is writeInventory into another file name.
func writeInventoryNamed(t *testing.T, l *Lab, sc []scenario, name string) (string, string) {
	t.Helper()
	inv, kh := writeInventory(t, l, sc)
	dst := filepath.Join(l.Dir, name)
	if err := os.Rename(inv, dst); err != nil {
		t.Fatal(err)
	}
	khDst := filepath.Join(l.Dir, "kh-"+name)
	if err := os.Rename(kh, khDst); err != nil {
		t.Fatal(err)
	}
	return dst, khDst
}
