package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

var binary string // the whyoffline binary under test

func TestMain(m *testing.M) {
	if os.Getenv(HelperEnv) != "" {
		RunHelper(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

// requireLab skips on a developer machine that did not ask for the lab,
// and fails — never skips — when CI or WHYOFFLINE_LAB asks for it and the
// machine cannot run it.
func requireLab(t *testing.T) {
	t.Helper()
	wanted := os.Getenv("WHYOFFLINE_LAB") != "" || os.Getenv("CI") != ""
	if !wanted {
		t.Skip("lab not requested: run `make test` as root (it sets WHYOFFLINE_LAB=1)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the lab needs root (network namespaces, iptables, mounts): run `make test` as root")
	}
	if miss := Missing(); len(miss) > 0 {
		sort.Strings(miss)
		t.Fatalf("the lab cannot run, missing: %s (make lab-deps installs them)", strings.Join(miss, ", "))
	}
	if binary == "" {
		dir, err := os.MkdirTemp("", "whyoffline-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binary = filepath.Join(dir, "whyoffline")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/whyoffline/whyoffline/cmd/whyoffline").CombinedOutput()
		if err != nil {
			t.Fatalf("building whyoffline: %v\n%s", err, out)
		}
	}
}

type scenario struct {
	host   *Host
	status result.Status
	want   []string // cause IDs (primary first) or the error kind
	// inventory overrides
	address, user, keyFile string
	become                 bool
	knownHosts             string // "real" (default), "none", "wrong"
	extra                  string // more inventory keys, "k: v, k: v"
}

func startLab(t *testing.T, hosts []*Host, manager *Host) *Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l, err := StartWithManager(ctx, t.TempDir(), hosts, manager, []string{"env", HelperEnv + "=1", self})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lab daemon output:\n%s", l.Logs())
		}
		l.Close()
		out, _ := Run(context.Background(), "ip", "netns", "list")
		if strings.Contains(out, prefix+l.ID) {
			t.Errorf("namespaces left behind: %s", out)
		}
	})
	return l
}

// writeInventory writes the own-format inventory and known_hosts for the
// scenarios.
func writeInventory(t *testing.T, l *Lab, sc []scenario) (inv, kh string) {
	t.Helper()
	var b, k strings.Builder
	fmt.Fprintf(&b, "defaults:\n  user: root\n  key_file: %s\nhosts:\n", l.ClientKeyPath)
	for _, s := range sc {
		addr := s.address
		if addr == "" {
			addr = s.host.IP
		}
		fmt.Fprintf(&b, "  %s: {address: %s", s.host.Name, addr)
		if s.user != "" {
			fmt.Fprintf(&b, ", user: %s", s.user)
		}
		if s.keyFile != "" {
			fmt.Fprintf(&b, ", key_file: %s", s.keyFile)
		}
		if s.become {
			b.WriteString(", become: true")
		}
		if s.extra != "" {
			b.WriteString(", " + s.extra)
		}
		b.WriteString("}\n")
		if s.host.HostKey == nil {
			continue
		}
		switch s.knownHosts {
		case "none":
		case "wrong":
			other := &Host{IP: s.host.IP}
			for _, o := range l.Hosts {
				if o != s.host && o.HostKey != nil {
					other.HostKey = o.HostKey
					break
				}
			}
			k.WriteString(other.KnownHostsLine() + "\n")
		default:
			k.WriteString(s.host.KnownHostsLine() + "\n")
		}
	}
	inv = filepath.Join(l.Dir, "inventory.yaml")
	kh = filepath.Join(l.Dir, "known_hosts")
	if err := os.WriteFile(inv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kh, []byte(k.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return inv, kh
}

// scan runs the real binary in the bastion namespace and decodes its JSON.
func scan(t *testing.T, l *Lab, args ...string) (*result.Run, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(l.Dir, fmt.Sprintf("run-%d.json", time.Now().UnixNano()))
	argv := append([]string{binary, "scan", "-o", "json", "--out", out, "--ssh-config", "none"}, args...)
	if dir := os.Getenv("WHYOFFLINE_LAB_SAVE_RAW"); dir != "" {
		// make golden: every host's raw output, for internal/golden
		argv = append(argv, "--save-raw", dir)
	}
	cmd := l.BastionCommand(ctx, argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "HOME="+l.Dir)
	start := time.Now()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("scan: %v", err)
	}
	t.Logf("scan %v took %s, exit %d", args, time.Since(start).Round(time.Millisecond), code)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("scan wrote no report (exit %d): %v\nstderr: %s", code, err, stderr.String())
	}
	var run result.Run
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return &run, code, out
}

// verdict is a host's status, causes and error kind, to compare runs.
func verdict(h *result.Host) string {
	v := string(h.Status) + " " + strings.Join(causeIDs(h), ",")
	if h.Error != nil {
		v += " " + string(h.Error.Kind)
	}
	return v
}

func causeIDs(h *result.Host) []string {
	var ids []string
	for _, c := range h.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestLabFleet is the lab of issue 3: one injected fault per host, healthy
// twins, every host's status and causes asserted from the real binary's
// JSON.
func TestLabFleet(t *testing.T) {
	requireLab(t)
	h := func(name string, faults ...Fault) *Host { return &Host{Name: name, Setup: faults} }
	sc := []scenario{
		{host: h("healthy-1"), status: result.Healthy},
		{host: h("healthy-2"), status: result.Healthy},
		{host: h("healthy-3"), status: result.Healthy},
		{host: h("agent-stopped", AgentStopped), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("agent-impostor", AgentImpostor), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("not-activated", NotActivated), status: result.Diagnosed, want: []string{"agent-not-activated"}},
		{host: h("chatty-bashrc", ChattyBashrc), status: result.Healthy},
		// systemd hosts: the service's state from one systemctl show
		{host: h("systemd-running", Systemd("running")), status: result.Healthy},
		{host: h("systemd-failed", Systemd("failed")), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("systemd-no-unit", AgentMissing, Systemd("not-found")), status: result.Diagnosed, want: []string{"agent-not-installed"}},
		// /bin/sh is bash (RHEL): the lanes' lines interleave for real
		{host: h("sh-is-bash", ShIsBash), status: result.Healthy},
		{host: h("sh-is-bash-port-dropped", ShIsBash, PortDropped), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		// the shapes of output that once passed for healthy, for real
		{host: h("script-killed", ScriptKilled), status: result.Error, want: []string{"incomplete"}},
		{host: h("connection-cut", ConnectionCut), status: result.Error, want: []string{"incomplete"}},
		{host: h("output-flood", OutputFlood), status: result.Error, want: []string{"incomplete"}, extra: "timeout: 8s"},
		{host: h("empty-answer", EmptyAnswer), status: result.Error, want: []string{"incomplete"}},
		{host: h("markers-only", MarkersOnly), status: result.Error, want: []string{"incomplete"}},
		{host: h("killed-after-stop", AgentStopped, ScriptKilled), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: h("chatty-port-dropped", ChattyBashrc, PortDropped), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		{host: h("agent-missing", AgentMissing), status: result.Diagnosed, want: []string{"agent-not-installed"}},
		{host: h("dns-down", DNSServerDown), status: result.Diagnosed, want: []string{"dns-unresolvable"}},
		{host: h("stale-dsm-name", StaleManagerName), status: result.Diagnosed, want: []string{"dns-unresolvable"}},
		{host: h("hosts-override", HostsOverride), status: result.Diagnosed, want: []string{"dns-mismatch", "heartbeat-port-blocked"}},
		{host: h("port-dropped", PortDropped), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		{host: h("port-rejected", PortRejected), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		{host: h("clock-ahead", ClockAhead), status: result.Diagnosed, want: []string{"clock-skew"}},
		{host: h("tls-errors", TLSErrorsInLog), status: result.Diagnosed, want: []string{"tls-failure"}},
		{host: h("rule-update", RuleUpdateStuck), status: result.Diagnosed, want: []string{"rule-update-in-progress"}},
		{host: h("disk-full", DiskFull), status: result.Diagnosed, want: []string{"resource-pressure"}},
		{host: h("high-load", HighLoad), status: result.Diagnosed, want: []string{"resource-pressure"}},
		{host: h("dns-and-clock", DNSServerDown, ClockAhead), status: result.Diagnosed, want: []string{"dns-unresolvable", "clock-skew"}},
		{host: h("stopped-and-full", AgentStopped, DiskFull), status: result.Diagnosed, want: []string{"agent-not-running", "resource-pressure"}},
		{host: h("hpux", FakeUname("HP-UX")), status: result.Error, want: []string{"unsupported-os"}},
		{host: h("become-ok", User("ops", true)), status: result.Healthy, user: "ops", become: true},
		{host: h("become-denied", User("ops", false)), status: result.Error, want: []string{"privilege-denied"}, user: "ops", become: true},
		{host: h("become-requiretty", User("ops", true), RequireTTY("ops")), status: result.Error, want: []string{"privilege-denied"}, user: "ops", become: true},
		{host: h("doas-ok", User("ops", false), Doas("permit nopass ops as root\n")), status: result.Healthy, user: "ops", become: true, extra: "become_method: doas"},
		{host: h("doas-password", User("ops", false), Doas("permit ops as root\n")), status: result.Error, want: []string{"privilege-denied"}, user: "ops", become: true, extra: "become_method: doas"},
		{host: h("ssh-dropped", SSHDropped), status: result.Unreachable, want: []string{"host-unreachable"}},
		{host: &Host{Name: "host-down", NoSSHD: true}, status: result.Unreachable, want: []string{"host-unreachable"}, address: "10.77.9.9"},
		{host: &Host{Name: "tarpit", Tarpit: true}, status: result.Error, want: []string{"timeout"}},
		{host: &Host{Name: "refused", NoSSHD: true}, status: result.Error, want: []string{"connection-refused"}},
		{host: h("wrong-key"), status: result.Error, want: []string{"auth-failed"}, keyFile: "OTHER"},
		{host: h("changed-key"), status: result.Error, want: []string{"host-key-mismatch"}, knownHosts: "wrong"},
		{host: h("unknown-key"), status: result.Error, want: []string{"host-key-unknown"}, knownHosts: "none"},
	}
	var hosts []*Host
	for i := range sc {
		if sc[i].address == "" {
			hosts = append(hosts, sc[i].host)
		}
	}
	l := startLab(t, hosts, nil)
	for i := range sc {
		if sc[i].keyFile == "OTHER" {
			sc[i].keyFile = l.OtherKeyPath
		}
	}
	inv, kh := writeInventory(t, l, sc)

	run, code, out := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName,
		"-f", "32", "--timeout", "45s", "--connect-timeout", "4s")
	if code != 1 {
		t.Errorf("exit code %d, want 1 (some hosts not healthy)", code)
	}
	if len(run.Hosts) != len(sc) || run.Summary.Hosts != len(sc) {
		t.Fatalf("got %d host results (summary %d), want exactly one per host: %d", len(run.Hosts), run.Summary.Hosts, len(sc))
	}
	if len(run.Fleet) != 0 {
		t.Errorf("fleet findings on a reachable manager: %+v", run.Fleet)
	}
	if h := hostsByName(run)["become-requiretty"]; h == nil || h.Error == nil || !strings.Contains(h.Error.Message, "!requiretty") {
		t.Errorf("become-requiretty: want the requiretty fix named: %+v", h)
	}
	if h := hostsByName(run)["doas-password"]; h == nil || h.Error == nil || !strings.Contains(h.Error.Message, "permit nopass ops as root") {
		t.Errorf("doas-password: want the doas.conf line named: %+v", h)
	}
	// the systemd hosts were read through systemctl show, each property
	// by its name whatever the order it came in
	for name, want := range map[string]string{"systemd-running": "running", "systemd-failed": "failed", "systemd-no-unit": "absent"} {
		h := hostsByName(run)[name]
		if h == nil || h.Observed == nil {
			t.Errorf("%s: no observation", name)
			continue
		}
		f := h.Observed.Facts
		if strings.Join(f["agent.service.tool"], ",") != "systemctl" || strings.Join(f["agent.service"], ",") != want {
			t.Errorf("%s: service %v by %v, want %s by systemctl", name, f["agent.service"], f["agent.service.tool"], want)
		}
		if name == "systemd-failed" && !slices.Contains(f["agent.service.detail"], "Result=exit-code") {
			t.Errorf("%s: details %v lack Result=exit-code", name, f["agent.service.detail"])
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")
	checkScenarios(t, run, sc, &table)
	for _, h := range run.Hosts {
		if h.DurationMS > 45_000+2_000 {
			t.Errorf("%s took %d ms, over its 45s deadline", h.Name, h.DurationMS)
		}
	}
	t.Log(table.String())

	// The same fleet at --timeout 8s: probes shrink to fit the deadline and
	// a host that runs out of time keeps what finished, so every host
	// whose decisive probes fit in 8 s gets the same diagnosis.
	// (two at a time: 32 scripts at once on this machine's two cores take
	// longer than 8 s of CPU between them, which is the lab's limit, not
	// a host's)
	short, _, _ := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName,
		"-f", "2", "--timeout", "8s", "--connect-timeout", "4s")
	slow := map[string]bool{
		"tarpit": true, "login-hangs": true, // never answer: a timeout either way
		// their .bashrc spends 2 s of the 8 before the script starts: on
		// a loaded machine they may not fit, which is not what is tested
		"chatty-bashrc": true, "chatty-port-dropped": true,
	}
	for _, h := range run.Hosts {
		s := hostsByName(short)[h.Name]
		if s == nil || slow[h.Name] {
			continue
		}
		if verdict(s) != verdict(&h) {
			t.Errorf("%s at --timeout 8s: %s, at 45s: %s (error %+v, unverified %+v)", h.Name, verdict(s), verdict(&h), s.Error, s.Unverified)
		}
		if s.DurationMS > 8_000+2_000 {
			t.Errorf("%s took %d ms at --timeout 8s", h.Name, s.DurationMS)
		}
		if h.Name == "port-dropped" {
			t.Logf("port-dropped: diagnosed in %d ms at --timeout 45s (32 at a time), %d ms at --timeout 8s (2 at a time)", h.DurationMS, s.DurationMS)
		}
	}

	// The saved run re-renders as CSV with one row per host.
	csvOut, err := exec.Command(binary, "report", out, "-o", "csv").Output()
	if err != nil {
		t.Fatalf("report -o csv: %v", err)
	}
	if lines := strings.Count(string(csvOut), "\n"); lines != len(sc)+1 {
		t.Errorf("csv has %d lines, want %d", lines, len(sc)+1)
	}

	t.Run("manager-unreachable", func(t *testing.T) {
		// The bastion cannot resolve the --manager given; the agents' own
		// dsmUrl still points at the real manager, so they stay healthy.
		run, _, _ := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", "dsm-gone.lab.test", "-l", "healthy-1,healthy-2", "--connect-timeout", "4s")
		if len(run.Fleet) != 1 || run.Fleet[0].ID != "manager-unreachable" {
			t.Errorf("fleet = %+v, want manager-unreachable", run.Fleet)
		}
		for _, hst := range run.Hosts {
			if hst.Status != result.Healthy {
				t.Errorf("%s: %s %v, want healthy (dsmUrl overrides --manager)", hst.Name, hst.Status, causeIDs(&hst))
			}
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		// SIGINT mid-sweep: the run still writes its report, the host in
		// flight and those never reached are "interrupted", exit code 3.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out := filepath.Join(l.Dir, "interrupted.json")
		cmd := l.BastionCommand(ctx, binary, "scan", "-o", "json", "--out", out, "--ssh-config", "none", "-i", inv, "--known-hosts", kh,
			"--manager", ManagerName, "-l", "healthy-1,tarpit,refused,wrong-key", "-f", "1", "--timeout", "40s", "--connect-timeout", "30s")
		cmd.Env = append(os.Environ(), "HOME="+l.Dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// inventory order: healthy-1 is done within a second, then the tarpit
		// holds the only fork; refused and wrong-key are never reached
		time.Sleep(3 * time.Second)
		_ = cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 {
			t.Fatalf("exit %v, want 3", err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("no report after SIGINT: %v", err)
		}
		var run result.Run
		if err := json.Unmarshal(data, &run); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, hst := range run.Hosts {
			kinds[hst.Name] = string(hst.Status)
			if hst.Error != nil {
				kinds[hst.Name] += "/" + string(hst.Error.Kind)
			}
		}
		want := map[string]string{"healthy-1": "healthy", "tarpit": "error/interrupted", "refused": "error/interrupted", "wrong-key": "error/interrupted"}
		for n, w := range want {
			if kinds[n] != w {
				t.Errorf("%s: %s, want %s", n, kinds[n], w)
			}
		}
	})

	t.Run("accept-new", func(t *testing.T) {
		kh2 := filepath.Join(l.Dir, "known_hosts_new")
		if err := os.WriteFile(kh2, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		run, _, _ := scan(t, l, "-i", inv, "--known-hosts", kh2, "--manager", ManagerName, "-l", "unknown-key", "--host-key-policy", "accept-new")
		if run.Hosts[0].Status != result.Healthy {
			t.Fatalf("accept-new: %s %+v", run.Hosts[0].Status, run.Hosts[0].Error)
		}
		data, _ := os.ReadFile(kh2)
		if !strings.Contains(string(data), "10.77.") || !strings.Contains(string(data), "ssh-ed25519") {
			t.Fatalf("accept-new recorded nothing: %q", data)
		}
		// the recorded key is now trusted under the strict policy
		run, _, _ = scan(t, l, "-i", inv, "--known-hosts", kh2, "--manager", ManagerName, "-l", "unknown-key")
		if run.Hosts[0].Status != result.Healthy {
			t.Fatalf("strict after accept-new: %s %+v", run.Hosts[0].Status, run.Hosts[0].Error)
		}
	})
}

func checkSummary(h *result.Host) string {
	var parts []string
	for _, c := range h.Checks {
		parts = append(parts, fmt.Sprintf("\n    %s=%s %q", c.ID, c.Result, c.Output))
	}
	return strings.Join(parts, "")
}
