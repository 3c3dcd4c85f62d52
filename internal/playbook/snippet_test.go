package playbook

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/frame"
)

// runCheck runs one check of os's playbook the way the script does — its
// params as WO_* variables, the setup helpers first — with fake commands
// in front of PATH, and returns the check's facts.
func runCheck(t *testing.T, os_, id string, params map[string]string, fakes map[string]string) map[string][]string {
	t.Helper()
	set := loadEmbedded(t)
	pb := set.ForOS(os_)
	dir := t.TempDir()
	for name, body := range fakes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("WO_MANAGER='dsm.example.com' WO_PORT='4120' WO_AGENT_PORT='4118' WO_BASTION_NAME='' WO_BASTION_ADDR=''\n")
	all := map[string]string{}
	for k, v := range pb.Params {
		all[k] = v
	}
	for k, v := range params {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("WO_" + strings.ToUpper(k) + "=" + ShellQuote(all[k]) + "\n")
	}
	b.WriteString("WO_PATH=''\n{\n" + pb.Checks[pb.checkIndex("setup")].Run + "\n} >/dev/null 2>&1\n")
	b.WriteString("PATH=" + ShellQuote(dir) + ":$PATH\n")
	const nonce = "0123456789abcdef"
	c := pb.Checks[pb.checkIndex(id)]
	writeSection(&b, nonce, id, c.Run, false)
	b.WriteString("printf '\\n%s\\n' '" + frame.Marker(nonce, "done") + "'\n")
	out, err := runShell(needTool(t, "dash"), nil, b.String(), 30*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	raw := frame.Split(out, nonce)
	raw.Playbook = os_
	f, _ := pb.Evaluate(raw)
	return f
}

// TestResolutionAsTheAgentSeesIt: addresses are a resolution whatever the
// tool's exit status; nslookup's DNS-only view is completed by /etc/hosts.
func TestResolutionAsTheAgentSeesIt(t *testing.T) {
	cases := []struct {
		name, tools, fake string
		want              string
		addr              string
	}{
		{"A answered, AAAA refused (host exits 1)", "host", "host) echo 'dsm.example.com has address 10.0.0.2'; echo 'Host dsm.example.com not found: 5(REFUSED)'; exit 1 ;;", "ok", "10.0.0.2"},
		{"no such name", "host", "host) echo 'Host dsm.example.com not found: 3(NXDOMAIN)'; exit 1 ;;", "notfound", ""},
		{"server fails", "host", "host) echo ';; connection timed out; no servers could be reached'; exit 1 ;;", "fail", ""},
		{"nslookup answers despite exit 1", "nslookup", "nslookup) printf 'Server:\\t10.0.0.53\\nAddress:\\t10.0.0.53#53\\n\\nName:\\tdsm.example.com\\nAddress: 10.0.0.2\\n** server can'\"'\"'t find dsm.example.com: REFUSED\\n'; exit 1 ;;", "ok", "10.0.0.2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := strings.SplitN(c.fake, ")", 2)[0]
			body := "case \"$(basename \"$0\")\" in\n" + c.fake + "\nesac\n"
			f := runCheck(t, "aix", "dns.resolve", map[string]string{"dns_tools": c.tools}, map[string]string{name: body})
			if got := strings.Join(f["dns.result"], ","); got != c.want {
				t.Errorf("dns.result = %q, want %q (facts %v)", got, c.want, f)
			}
			if c.addr != "" && strings.Join(f["dns.addresses"], ",") != c.addr {
				t.Errorf("dns.addresses = %v, want %s", f["dns.addresses"], c.addr)
			}
		})
	}
}

// TestAgentProcessByIdentity: a process merely named ds_agent is not the
// agent.
func TestAgentProcessByIdentity(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ds_agent")
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fake, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(100 * time.Millisecond)
	f := runCheck(t, "linux", "agent.process", nil, nil)
	// (other agents may run on this machine — the lab's hosts — but never
	// this one)
	pid := strconv.Itoa(cmd.Process.Pid)
	for _, p := range f["agent.pids"] {
		if p == pid {
			t.Errorf("a ds_agent running from %s (pid %s) counted as the agent: %v", dir, pid, f)
		}
	}
}

// TestHaveFindsOnlyWhatCanRun: wo_have answers from PATH alone, the same
// in every shell — an executable file is there, a file without the x bit,
// a directory or a shell function is not, and an empty PATH entry (the
// current directory) is not searched: the script runs as root.
func TestHaveFindsOnlyWhatCanRun(t *testing.T) {
	set := loadEmbedded(t)
	setup := set.ForOS("linux").Checks[set.ForOS("linux").checkIndex("setup")].Run
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"wo-tool": 0o755, "wo-plain": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "wo-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "WO_PATH=''\n{\n" + setup + "\n} >/dev/null 2>&1\n" +
		"PATH=/nonexistent:" + ShellQuote(dir) + ":/usr/bin:/bin\n" +
		"wo_fn() { :; }\n" +
		"for c in wo-tool wo-plain wo-dir wo-fn wo-none sh " + ShellQuote(dir+"/wo-tool") + " " + ShellQuote(dir+"/wo-plain") + "; do\n" +
		"  if wo_have \"$c\"; then echo \"yes ${c##*/}\"; else echo \"no ${c##*/}\"; fi\n" +
		"done\n" +
		"cd " + ShellQuote(dir) + " && PATH=:/nonexistent::/nonexistent2: && if wo_have wo-tool; then echo 'yes cwd'; else echo 'no cwd'; fi\n"
	want := "yes wo-tool\nno wo-plain\nno wo-dir\nno wo-fn\nno wo-none\nyes sh\nyes wo-tool\nno wo-plain\nno cwd\n"
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			out, err := runShell(needTool(t, sh.path), sh.args, script, 20*time.Second)
			if err != nil || string(out) != want {
				t.Errorf("%v\ngot:\n%s\nwant:\n%s", err, out, want)
			}
		})
	}
}

// TestKVReadsAgentStatus: wo_kv finds dsa_query's "Key: value" lines the
// same way in every shell — leading blanks, "=" or ":" with blanks around
// it, a value with colons (a URL) kept whole, the first match winning, a
// key that only starts the same not matching.
func TestKVReadsAgentStatus(t *testing.T) {
	set := loadEmbedded(t)
	setup := set.ForOS("linux").Checks[set.ForOS("linux").checkIndex("setup")].Run
	text := "AgentStatus.dsmUrlExtra: wrong\n   AgentStatus.dsmUrl:  dsm://dsm.corp.example:4120/  \n" +
		"AgentStatus.dsmUrl: second\n\tAgentStatus.agentState = green\nAgentStatus.empty:\n"
	script := "WO_PATH=''\n{\n" + setup + "\n} >/dev/null 2>&1\n" +
		"T=" + ShellQuote(text) + "\n" +
		"for k in AgentStatus.dsmUrl AgentStatus.agentState AgentStatus.empty AgentStatus.none; do\n" +
		"  if wo_kv \"$T\" \"$k\"; then printf '%s=[%s]\\n' \"$k\" \"$wo_v\"; else echo \"$k absent\"; fi\n" +
		"done\n"
	want := "AgentStatus.dsmUrl=[dsm://dsm.corp.example:4120/  ]\nAgentStatus.agentState=[green]\nAgentStatus.empty=[]\nAgentStatus.none absent\n"
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			out, err := runShell(needTool(t, sh.path), sh.args, script, 20*time.Second)
			if err != nil || string(out) != want {
				t.Errorf("%v\ngot:\n%s\nwant:\n%s", err, out, want)
			}
		})
	}
}
