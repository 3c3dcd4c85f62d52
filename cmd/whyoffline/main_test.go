package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
)

type runResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, vars map[string]string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, e, args)
	return runResult{code, out.String(), errb.String()}
}

// startFleet runs one simulated host per profile.
func startFleet(t *testing.T, profiles []string, specs ...fleetsim.Spec) (*fleetsim.Fleet, string, string) {
	t.Helper()
	for _, p := range profiles {
		specs = append(specs, fleetsim.Spec{Profile: p, Count: 1})
	}
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 78, byte(time.Now().UnixNano() % 200), 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	dir := t.TempDir()
	inv, err := f.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f, inv, filepath.Join(dir, "known_hosts")
}

// TestScanEveryProfile scans one simulated host per built-in profile
// through the real CLI and checks each host's status and causes against
// what the profile says a correct scan reports.
func TestScanEveryProfile(t *testing.T) {
	var names []string
	for n := range fleetsim.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	f, inv, kh := startFleet(t, names)
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, "scan", "-i", inv, "--known-hosts", kh,
		"--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "10s", "-o", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	checkSchema(t, "scan of every profile -o json", r.stdout)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	if run.Schema != result.Schema || run.Manager == nil || run.Manager.Port != f.ManagerPort() {
		t.Errorf("schema/manager wrong: %q %+v", run.Schema, run.Manager)
	}
	if len(run.Hosts) != f.Len() {
		t.Fatalf("%d results for %d hosts", len(run.Hosts), f.Len())
	}
	for i, h := range run.Hosts {
		p := f.Host(i).Profile
		got := outcome(&h)
		if string(h.Status) != p.ExpectStatus || strings.Join(got, ",") != strings.Join(p.Expect, ",") {
			t.Errorf("%s: %s %v, want %s %v (causes %+v, error %+v)", h.Name, h.Status, got, p.ExpectStatus, p.Expect, h.Causes, h.Error)
		}
		if h.Status == result.Healthy && (len(h.Causes) != 0 || h.Error != nil) {
			t.Errorf("%s: healthy but with causes or error", h.Name)
		}
		// a host that runs out of time says where it stopped
		switch p.HangAt {
		case "":
		case "login":
			if h.Error == nil || !strings.Contains(h.Error.Message, "never started") || len(h.Checks) != 0 {
				t.Errorf("%s: want a timeout naming the login shell, got %+v, %d checks", h.Name, h.Error, len(h.Checks))
			}
		default:
			finished := 0
			for _, c := range h.Checks {
				if c.Result != result.CheckError {
					finished++
				}
			}
			if h.Error == nil || !strings.Contains(h.Error.Message, "check "+p.HangAt+" never finished") || finished == 0 || h.OS != "linux" {
				t.Errorf("%s: want a timeout naming check %s with the finished checks kept, got %+v, os %q, %d finished", h.Name, p.HangAt, h.Error, h.OS, finished)
			}
		}
	}
}

func TestScanOutputsAndAtomicOut(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped"})
	home := map[string]string{"HOME": t.TempDir()}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s"}

	// jsonl: one host per line, then the summary line
	r := runCLI(t, "", home, append(base, "-o", "jsonl")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != exitFindings || len(lines) != 3 || !strings.HasPrefix(lines[2], `{"summary":`) {
		t.Fatalf("jsonl: exit %d, %d lines:\n%s", r.code, len(lines), r.stdout)
	}

	// csv to a file, format from the extension, written atomically
	out := filepath.Join(t.TempDir(), "sweep.csv")
	r = runCLI(t, "", home, append(base, "--out", out)...)
	if r.code != exitFindings || r.stdout != "" {
		t.Fatalf("--out: exit %d stdout %q", r.code, r.stdout)
	}
	rows, err := csv.NewReader(mustOpen(t, out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "host,address,os,status,primary_cause,causes,evidence,remedy,confidence" {
		t.Fatalf("csv: %v %v", err, rows)
	}
	// rows stream in the order hosts finish
	byHost := map[string][]string{}
	for _, row := range rows[1:] {
		byHost[row[0]] = row
	}
	if byHost["agent-stopped-001"][4] != "agent-not-running" || byHost["healthy-001"][3] != "healthy" {
		t.Errorf("csv rows: %v", rows[1:])
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".sweep.csv.tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// only healthy hosts: exit 0; html is one self-contained page: no
	// external asset, no script but its own (pinned by the CSP)
	r = runCLI(t, "", home, append(base, "-l", "healthy-*", "-o", "html")...)
	if r.code != exitHealthy || !strings.Contains(r.stdout, "<!DOCTYPE html>") || strings.Count(r.stdout, "<script") != 2 ||
		strings.Contains(r.stdout, "src=\"http") || strings.Contains(r.stdout, "href=\"http") || !strings.Contains(r.stdout, "script-src 'sha256-") {
		t.Errorf("html: exit %d, %.200s", r.code, r.stdout)
	}
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestBadInputExit2 covers the contract's exit code 2: one clear line that
// names what to fix, and no report file written.
func TestBadInputExit2(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "hosts.txt")
	os.WriteFile(good, []byte("web01\n"), 0o600)
	broken := filepath.Join(dir, "inv.yaml")
	os.WriteFile(broken, []byte("hosts:\n  web01:\n    adress: 10.0.0.1\n"), 0o600)
	enc := filepath.Join(dir, "enc_key")
	os.WriteFile(enc, []byte("not a key"), 0o600)
	keyed := filepath.Join(dir, "keyed.yaml")
	os.WriteFile(keyed, []byte("hosts:\n  web01: {key_file: "+enc+"}\n"), 0o600)
	out := filepath.Join(dir, "out.json")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"scan", "-i", good, "--frobnicate"}, "unknown flag: --frobnicate"},
		{"no inventory", []string{"scan"}, "no inventory"},
		{"broken inventory", []string{"scan", "-i", broken}, broken + ":3: unknown setting \"adress\""},
		{"missing inventory", []string{"scan", "-i", filepath.Join(dir, "nope.yaml")}, "nope.yaml: cannot read inventory"},
		{"unreadable key", []string{"scan", "-i", keyed}, enc + ": not a usable private key"},
		{"bad mode", []string{"scan", "-i", good, "--manager-mode", "sideways"}, "--manager-mode"},
		{"bad output", []string{"scan", "-i", good, "-o", "xml"}, "-o \"xml\""},
		{"bad cidr", []string{"scan", "-i", good, "--corporate-networks", "10.0.0.0/33"}, "--corporate-networks"},
		{"bad manager", []string{"scan", "-i", good, "--manager", "dsm;rm -rf /"}, "--manager"},
		{"limit matches nothing", []string{"scan", "-i", good, "-l", "db*"}, "matches none"},
		{"unknown command", []string{"scna"}, "unknown command"},
		{"report not json", []string{"report", good}, "not a whyoffline JSON run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, c.args...), "--out", out)
			if c.name == "unknown command" || c.name == "report not json" {
				args = c.args
			}
			r := runCLI(t, "", map[string]string{"HOME": dir}, args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written despite bad input", out)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts")
	os.WriteFile(inv, []byte("web01 ansible_host=127.0.0.1 ansible_port=1 ansible_password=Hunter2Secret\n"), 0o600)
	for _, args := range [][]string{
		{"inventory", "-i", inv}, {"inventory", "-i", inv, "-o", "json"},
		{"scan", "-i", inv, "--connect-timeout", "1s", "-o", "json"},
	} {
		r := runCLI(t, "", map[string]string{"HOME": dir, "WHYOFFLINE_SSH_PASSWORD": "EnvSecret99"}, args...)
		if strings.Contains(r.stdout+r.stderr, "Hunter2Secret") || strings.Contains(r.stdout+r.stderr, "EnvSecret99") {
			t.Errorf("%v printed a secret:\n%s%s", args, r.stdout, r.stderr)
		}
	}
}

func TestDiff(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, hosts ...result.Host) string {
		run := result.Run{Schema: result.Schema, Hosts: hosts}
		b, _ := json.Marshal(run)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	c := func(id string) []result.Cause { return []result.Cause{{ID: id}} }
	old := write("old.json",
		result.Host{Name: "a", Status: result.Diagnosed, Causes: c("agent-not-running")},
		result.Host{Name: "b", Status: result.Healthy},
		result.Host{Name: "gone", Status: result.Healthy})
	cur := write("new.json",
		result.Host{Name: "a", Status: result.Healthy},
		result.Host{Name: "b", Status: result.Diagnosed, Causes: c("clock-skew")},
		result.Host{Name: "fresh", Status: result.Healthy})
	r := runCLI(t, "", nil, "diff", old, cur, "-o", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var diffs []hostDiff
	if err := json.Unmarshal([]byte(r.stdout), &diffs); err != nil {
		t.Fatal(err)
	}
	got := map[string]hostDiff{}
	for _, d := range diffs {
		got[d.Host] = d
	}
	if d := got["a"]; strings.Join(d.Fixed, ",") != "agent-not-running" || len(d.Appeared) != 0 {
		t.Errorf("a: %+v", d)
	}
	if d := got["b"]; strings.Join(d.Appeared, ",") != "clock-skew" {
		t.Errorf("b: %+v", d)
	}
	if got["gone"].Change != "gone" || got["fresh"].Change != "new-host" {
		t.Errorf("gone/fresh: %+v", diffs)
	}
	if r := runCLI(t, "", nil, "diff", old, old); r.code != exitHealthy || !strings.Contains(r.stdout, "no change") {
		t.Errorf("same run: exit %d %q", r.code, r.stdout)
	}
}

// TestMixedFleetWithWindows scans Linux hosts (simulated SSH) and Windows
// hosts (WS-Management servers, NTLM and Basic/HTTPS) in one run through
// the real CLI: every Windows profile and failure gets its status and
// causes or error kind.
func TestMixedFleetWithWindows(t *testing.T) {
	f, linuxInv, kh := startFleet(t, []string{"healthy", "agent-stopped", "port-dropped"})
	const user, password = `LAB\scanner`, "Win-Pa55word"
	pki, err := wsmantest.NewPKI([]string{"winhost.lab.test"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pki.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	type winHost struct {
		name     string
		server   wsmantest.Config
		settings string // inventory settings beyond address/port
		status   string
		want     []string
	}
	var hosts []winHost
	for _, p := range wsmantest.Profiles() {
		prof := wsmantest.Lookup(p)
		hosts = append(hosts, winHost{name: "win-" + p, server: wsmantest.Config{Auth: "ntlm", Profile: p, RequireEncryption: true}, status: prof.ExpectStatus, want: prof.Expect})
	}
	hosts = append(hosts,
		winHost{name: "win-https-basic", server: wsmantest.Config{Auth: "basic", TLS: pki.TLS()},
			settings: "winrm_scheme: https, winrm_transport: basic, ca_file: " + caFile, status: "healthy"},
		winHost{name: "win-wrong-password", server: wsmantest.Config{Auth: "ntlm", Password: "something-else"}, status: "error", want: []string{"auth-failed"}},
		winHost{name: "win-cert-other-name", server: wsmantest.Config{Auth: "ntlm", TLS: pki.TLS()},
			settings: "winrm_scheme: https", status: "error", want: []string{"certificate-invalid"}},
		winHost{name: "win-stall", server: wsmantest.Config{Auth: "ntlm", Behaviour: "stall"}, status: "error", want: []string{"timeout"}},
		winHost{name: "win-malformed", server: wsmantest.Config{Auth: "ntlm", Behaviour: "malformed"}, status: "error", want: []string{"protocol-error"}},
		winHost{name: "win-endless", server: wsmantest.Config{Auth: "ntlm", Behaviour: "endless"}, status: "error", want: []string{"protocol-error"}},
	)
	var inv strings.Builder
	inv.WriteString("hosts:\n")
	for _, h := range hosts {
		cfg := h.server
		cfg.User = user
		if cfg.Password == "" {
			cfg.Password = password
		}
		srv, err := wsmantest.Start("127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		host, port, _ := net.SplitHostPort(srv.Addr())
		fmt.Fprintf(&inv, "  %s: {address: %s, port: %s, transport: winrm, user: '%s', password_env: WIN_PW", h.name, host, port, user)
		if h.settings != "" {
			inv.WriteString(", " + h.settings)
		}
		inv.WriteString("}\n")
	}
	winInv := filepath.Join(dir, "windows.yaml")
	if err := os.WriteFile(winInv, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir(), "WIN_PW": password}, "scan", "-i", linuxInv, "-i", winInv,
		"--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "8s", "-o", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Fatal("the WinRM password appears in the output")
	}
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(run.Hosts) != f.Len()+len(hosts) {
		t.Fatalf("%d results for %d hosts", len(run.Hosts), f.Len()+len(hosts))
	}
	byName := map[string]result.Host{}
	for _, h := range run.Hosts {
		byName[h.Name] = h
	}
	for _, w := range hosts {
		h, ok := byName[w.name]
		if !ok {
			t.Errorf("%s: no result", w.name)
			continue
		}
		got := outcome(&h)
		if string(h.Status) != w.status || strings.Join(got, ",") != strings.Join(w.want, ",") {
			t.Errorf("%s: %s %v, want %s %v (causes %+v, error %+v)", w.name, h.Status, got, w.status, w.want, h.Causes, h.Error)
		}
		if h.Error == nil && (h.OS != "windows" || h.Transport != "winrm") {
			t.Errorf("%s: os %q transport %q", w.name, h.OS, h.Transport)
		}
		for _, c := range h.Causes {
			if c.ID == "agent-not-running" && !strings.Contains(c.Remedy, "services.msc") {
				t.Errorf("%s: remedy not in Windows words: %s", w.name, c.Remedy)
			}
			if c.ID == "heartbeat-port-blocked" && !strings.Contains(c.Evidence, "Windows Firewall") {
				t.Errorf("%s: evidence lacks the firewall rule: %s", w.name, c.Evidence)
			}
		}
	}
	for _, lp := range []string{"healthy", "agent-stopped", "port-dropped"} {
		found := false
		for _, h := range run.Hosts {
			if h.OS == "linux" && strings.Contains(h.Name, lp) {
				found = true
			}
		}
		if !found {
			t.Errorf("no Linux result for profile %s in the mixed run", lp)
		}
	}
}

// outcome is a host's cause IDs, primary first, or its error kind.
func outcome(h *result.Host) []string {
	if h.Error != nil {
		return []string{string(h.Error.Kind)}
	}
	var ids []string
	for _, c := range h.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestSSHAgentAuth logs in with a key held only by a real ssh-agent: the
// inventory names no key file and HOME has none.
func TestSSHAgentAuth(t *testing.T) {
	for _, tool := range []string{"ssh-agent", "ssh-add"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: openssh-client)", tool)
		}
	}
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped"})
	dir := filepath.Dir(inv)
	key := filepath.Join(dir, "id_ed25519")
	data, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	noKey := strings.Replace(string(data), "  key_file: "+key+"\n", "", 1)
	if noKey == string(data) {
		t.Fatal("the simulated inventory names no key_file to remove")
	}
	invNoKey := filepath.Join(dir, "inventory-agent.yaml")
	if err := os.WriteFile(invNoKey, []byte(noKey), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agentCmd.Process.Kill(); _ = agentCmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	home := t.TempDir()
	base := []string{"scan", "-i", invNoKey, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json"}

	r := runCLI(t, "", map[string]string{"HOME": home, "SSH_AUTH_SOCK": sock}, base...)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || r.code != exitFindings {
		t.Fatalf("with the agent: exit %d, %v; stderr %s", r.code, err, r.stderr)
	}
	for _, h := range run.Hosts {
		if h.Status != result.Healthy && h.Status != result.Diagnosed {
			t.Errorf("%s: %s %+v, want a login through the agent's key", h.Name, h.Status, h.Error)
		}
	}

	// the same inventory without the agent: nothing to log in with
	r = runCLI(t, "", map[string]string{"HOME": home}, base...)
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("without the agent: %v; stderr %s", err, r.stderr)
	}
	for _, h := range run.Hosts {
		if h.Error == nil || h.Error.Kind != result.AuthFailed {
			t.Errorf("%s without the agent: %s %+v, want auth-failed", h.Name, h.Status, h.Error)
		}
	}
}
