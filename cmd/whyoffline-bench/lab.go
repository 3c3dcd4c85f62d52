package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/lab"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/playbooks"
)

// labMain runs whyoffline, Ansible raw, parallel-ssh and the floor client
// against the same real sshd hosts at the same parallelism.
func labMain(args []string) error {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	bin := fs.String("whyoffline", "bin/whyoffline", "the whyoffline binary")
	n := fs.Int("hosts", 100, "real sshd hosts (network namespaces)")
	forks := fs.Int("forks", 20, "parallelism for every tool")
	trace := fs.Bool("trace", false, "print every process the script starts on the first host, by check (strace), and stop")
	rounds := fs.Int("rounds", 3, "runs per tool (in rotating order); the table shows each tool's median (0: only the host-side cost)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the netns lab needs root")
	}
	for tool, pkg := range map[string]string{"ansible": "ansible", "parallel-ssh": "pssh"} {
		if _, err := exec.LookPath(tool); err != nil && *rounds > 0 {
			return fmt.Errorf("%s not found: apt-get install %s (make bench-deps does)", tool, pkg)
		}
	}
	if miss := lab.Missing(); len(miss) > 0 {
		return fmt.Errorf("the lab needs: %s (make lab-deps)", strings.Join(miss, ", "))
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "whyoffline-benchlab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hosts := labHosts(*n, *trace)
	ctx, cancel := withTimeout(30 * time.Minute)
	defer cancel()
	fmt.Fprintf(os.Stderr, "starting %d sshd hosts in network namespaces...\n", *n)
	start := time.Now()
	l, err := lab.Start(ctx, dir, hosts, []string{"env", lab.HelperEnv + "=1", self})
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Fprintf(os.Stderr, "lab up in %s\n", time.Since(start).Round(time.Second))

	// one script, the one whyoffline sends, for every tool
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		return err
	}
	sc, err := set.RenderUnix("", "", playbook.Params{Manager: lab.ManagerName, Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce()})
	if err != nil {
		return err
	}
	if *trace {
		return traceHosts(ctx, l, sc)
	}
	files, err := writeLabFiles(dir, l, sc)
	if err != nil {
		return err
	}
	f := strconv.Itoa(*forks)
	type tool struct {
		name  string
		argv  []string
		env   []string
		stdin string
		count func(stdout []byte) int
	}
	tools := []tool{
		{name: "floor (Go: connect, auth, run)", argv: []string{mustAbs(self), "floor", "-hosts", files.hostList, "-key", l.ClientKeyPath,
			"-known-hosts", files.knownHosts, "-script", files.script, "-command", sc.Command, "-f", f},
			count: func(out []byte) int { return countPrefix(out, "ok ") }},
		{name: "whyoffline", argv: []string{mustAbs(*bin), "scan", "-i", files.inventory, "--known-hosts", files.knownHosts, "--ssh-config", "none",
			"--manager", lab.ManagerName, "-f", f, "-o", "jsonl", "-q"},
			count: func(out []byte) int { return countPrefix(out, `{"name":`) }},
		{name: "parallel-ssh -p " + f, argv: []string{"parallel-ssh", "-h", files.psshHosts, "-p", f, "-t", "300",
			"-x", "-i " + l.ClientKeyPath + " -o UserKnownHostsFile=" + files.knownHosts + " -o StrictHostKeyChecking=yes -o BatchMode=yes",
			"-o", filepath.Join(dir, "pssh-out"), "-I", sc.Command}, stdin: files.script,
			count: func(out []byte) int { return strings.Count(string(out), "[SUCCESS]") }},
		{name: "ansible all -m raw -f " + f, argv: []string{"ansible", "all", "-i", files.ansibleInv, "-m", "raw", "-a", string(sc.Body), "-f", f},
			env: []string{"ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_SSH_ARGS=-o ControlMaster=no", "ANSIBLE_NOCOLOR=1",
				"ANSIBLE_LOCAL_TEMP=" + filepath.Join(dir, "ansible-tmp"), "ANSIBLE_DEPRECATION_WARNINGS=False"},
			count: func(out []byte) int {
				return strings.Count(string(out), "| CHANGED |") + strings.Count(string(out), "| SUCCESS |")
			}},
	}
	runs := make([][]measurement, len(tools))
	for r := 0; r < *rounds; r++ {
		// rotate the order so no tool always runs first (cold caches) or
		// right after the heaviest one
		for k := range tools {
			i := (k + r) % len(tools)
			t := tools[i]
			cmd := l.BastionCommand(ctx, t.argv...)
			cmd.Env = append(append(os.Environ(), "HOME="+dir), t.env...)
			if t.stdin != "" {
				in, err := os.Open(t.stdin)
				if err != nil {
					return err
				}
				cmd.Stdin = in
				defer in.Close()
			}
			fmt.Fprintf(os.Stderr, "round %d: %s...\n", r+1, t.name)
			m, out, err := measure(cmd)
			if err != nil {
				return fmt.Errorf("%s: %v", t.name, err)
			}
			m.Tool, m.Hosts, m.Forks, m.OK = t.name, *n, *forks, t.count(out)
			if m.OK != *n {
				fmt.Fprintf(os.Stderr, "  %s finished %d of %d hosts; output tail: %s\n", t.name, m.OK, *n, tail(string(out), 400))
			}
			runs[i] = append(runs[i], m)
		}
	}
	if *rounds > 0 {
		med := make([]measurement, len(tools))
		for i := range runs {
			med[i] = median(runs[i])
		}
		printTable(fmt.Sprintf("Real sshd hosts in network namespaces: the same checks, %d hosts, parallelism %d, median of %d runs each", *n, *forks, *rounds), med, &med[0])
	}

	// What one scan costs the hosts: the full script against a minimal
	// one sent the same way (login, the same command, a script on stdin).
	minimal := filepath.Join(dir, "minimal.sh")
	if err := os.WriteFile(minimal, []byte("echo ':done>>'\n"), 0o600); err != nil {
		return err
	}
	floor := func(script string) []string {
		return []string{mustAbs(self), "floor", "-hosts", files.hostList, "-key", l.ClientKeyPath,
			"-known-hosts", files.knownHosts, "-script", script, "-command", sc.Command, "-f", f}
	}
	costs, err := hostCosts(ctx, l, dir, []costRun{
		{name: "minimal script (one echo), floor client", argv: floor(minimal)},
		{name: "whyoffline", argv: tools[1].argv},
	})
	if err != nil {
		return err
	}
	printCosts(fmt.Sprintf("What one scan costs each host (CPU of every process it ran, summed through sshd; processes it forked), %d hosts", len(l.Hosts)),
		[]string{"minimal script (one echo), floor client", "whyoffline"}, costs, len(l.Hosts))
	return checkCosts(ctx, l, dir, set, floor)
}

// checkCosts measures each Linux check on the lab hosts: the script with
// only the setup and that check, less the setup alone (and the setup
// less a one-echo script) — where a scan's host CPU and processes go.
// A lane's later check runs without what the earlier one exports (the
// TLS probe does not know the port was open), as it would first in its
// lane.
func checkCosts(ctx context.Context, l *lab.Lab, dir string, set *playbook.Set, floor func(script string) []string) error {
	pb := set.ForOS("linux")
	params := playbook.Params{Manager: lab.ManagerName, Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce()}
	only := func(ids ...string) (string, error) {
		sub := *pb
		sub.Checks = nil
		for _, c := range pb.Checks {
			if slices.Contains(ids, c.ID) {
				sub.Checks = append(sub.Checks, c)
			}
		}
		one := &playbook.Set{Playbooks: map[string]*playbook.Playbook{"linux": &sub}, Causes: set.Causes, Source: set.Source}
		sc, err := one.RenderUnix("linux", "", params)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, "only-"+strings.Join(ids, "+")+".sh")
		return path, os.WriteFile(path, sc.Body, 0o600)
	}
	minimal := filepath.Join(dir, "minimal.sh")
	runs := []costRun{{name: "minimal", argv: floor(minimal)}}
	names := []string{"setup"}
	setupOnly, err := only("setup")
	if err != nil {
		return err
	}
	runs = append(runs, costRun{name: "setup", argv: floor(setupOnly)})
	for _, c := range pb.Checks {
		if c.ID == "setup" {
			continue
		}
		path, err := only("setup", c.ID)
		if err != nil {
			return err
		}
		runs = append(runs, costRun{name: c.ID, argv: floor(path)})
		names = append(names, c.ID)
	}
	// three rounds, summed: a check costs a few ms, and CPU is counted
	// in 10 ms ticks
	const rounds = 3
	var costs []lab.Cost
	for r := 0; r < rounds; r++ {
		got, err := hostCosts(ctx, l, dir, runs)
		if err != nil {
			return err
		}
		if costs == nil {
			costs = got
			continue
		}
		for i := range got {
			costs[i] = costs[i].Add(got[i])
		}
	}
	// each check less the setup; the setup less the minimal script
	per := make([]lab.Cost, 0, len(names))
	per = append(per, costs[1].Less(costs[0]))
	for i := 2; i < len(costs); i++ {
		per = append(per, costs[i].Less(costs[1]))
	}
	printCosts(fmt.Sprintf("Each Linux check alone on the same hosts (the script with setup and that check, less setup alone), %d hosts, %d rounds", len(l.Hosts), rounds),
		names, per, len(l.Hosts)*rounds)
	return nil
}

// labHosts are n plain Linux hosts or, to trace, one host of each POSIX
// OS the lab emulates, healthy.
func labHosts(n int, trace bool) []*lab.Host {
	if trace {
		return []*lab.Host{{Name: "linux"},
			{Name: "solaris11", Setup: []lab.Fault{lab.FakeSolaris(lab.Solaris{Release: "5.11", SMF: "online", Version: "20.0.0-8438"})}},
			{Name: "solaris10", Setup: []lab.Fault{lab.FakeSolaris(lab.Solaris{Release: "5.10", SMF: "online", Version: "10.0.0-3761", NoDateEpoch: true})}},
			{Name: "aix", Setup: []lab.Fault{lab.FakeAIX(lab.AIX{SRC: "active", Version: "20.0.0.8438"})}}}
	}
	hosts := make([]*lab.Host, n)
	for i := range hosts {
		hosts[i] = &lab.Host{Name: fmt.Sprintf("h%03d", i)}
	}
	return hosts
}

// traceHosts traces the script on every host of the lab.
func traceHosts(ctx context.Context, l *lab.Lab, sc *playbook.Script) error {
	for _, h := range l.Hosts {
		if err := traceScript(ctx, l, h, sc.Command, sc.Body); err != nil {
			return err
		}
	}
	return nil
}

// costRun is one run whose cost to the hosts is measured.
type costRun struct {
	name string
	argv []string
}

// hostCosts runs each in turn from the bastion and returns what each
// cost the lab's hosts, summed over them.
func hostCosts(ctx context.Context, l *lab.Lab, dir string, runs []costRun) ([]lab.Cost, error) {
	var costs []lab.Cost
	for _, t := range runs {
		before, err := l.FleetCost(ctx, l.Hosts)
		if err != nil {
			return nil, err
		}
		cmd := l.BastionCommand(ctx, t.argv...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if _, _, err := measure(cmd); err != nil {
			return nil, fmt.Errorf("%s: %v", t.name, err)
		}
		time.Sleep(500 * time.Millisecond) // let every sshd reap its session
		after, err := l.FleetCost(ctx, l.Hosts)
		if err != nil {
			return nil, err
		}
		costs = append(costs, after.Sub(before))
	}
	return costs, nil
}

// printCosts prints costs per host, each against the first row.
func printCosts(title string, names []string, costs []lab.Cost, hosts int) {
	fmt.Printf("\n%s\n\n", title)
	fmt.Println("| run | CPU per host | processes per host | CPU ÷ first | processes ÷ first |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, c := range costs {
		fmt.Printf("| %s | %.0f ms | %.1f | %.1f× | %.1f× |\n", names[i], float64(c.CPU.Milliseconds())/float64(hosts),
			float64(c.Procs)/float64(hosts), ratio(c.CPU.Seconds(), costs[0].CPU.Seconds()), ratio(float64(c.Procs), float64(costs[0].Procs)))
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median takes the median wall time and, separately, the median CPU and
// RSS of a tool's runs.
func median(ms []measurement) measurement {
	pick := func(less func(a, b measurement) bool) measurement {
		s := append([]measurement(nil), ms...)
		sort.Slice(s, func(i, j int) bool { return less(s[i], s[j]) })
		return s[len(s)/2]
	}
	m := pick(func(a, b measurement) bool { return a.Wall < b.Wall })
	m.CPU = pick(func(a, b measurement) bool { return a.CPU < b.CPU }).CPU
	m.RSSKB = pick(func(a, b measurement) bool { return a.RSSKB < b.RSSKB }).RSSKB
	return m
}

type labFiles struct {
	script, knownHosts, hostList, inventory, ansibleInv, psshHosts string
}

func writeLabFiles(dir string, l *lab.Lab, sc *playbook.Script) (*labFiles, error) {
	f := &labFiles{
		script: filepath.Join(dir, "script.sh"), knownHosts: filepath.Join(dir, "known_hosts"), hostList: filepath.Join(dir, "hosts.txt"),
		inventory: filepath.Join(dir, "inventory.yaml"), ansibleInv: filepath.Join(dir, "ansible.ini"), psshHosts: filepath.Join(dir, "pssh-hosts"),
	}
	var kh, list, inv, ans, pssh strings.Builder
	fmt.Fprintf(&inv, "defaults:\n  user: root\n  key_file: %s\nhosts:\n", l.ClientKeyPath)
	ans.WriteString("[fleet]\n")
	for _, h := range l.Hosts {
		kh.WriteString(h.KnownHostsLine() + "\n")
		list.WriteString(h.IP + "\n")
		fmt.Fprintf(&inv, "  %s: {address: %s}\n", h.Name, h.IP)
		fmt.Fprintf(&ans, "%s ansible_host=%s\n", h.Name, h.IP)
		fmt.Fprintf(&pssh, "root@%s\n", h.IP)
	}
	fmt.Fprintf(&ans, "[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_ssh_common_args=-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes\n",
		l.ClientKeyPath, f.knownHosts)
	for path, body := range map[string]string{f.script: string(sc.Body), f.knownHosts: kh.String(), f.hostList: list.String(),
		f.inventory: inv.String(), f.ansibleInv: ans.String(), f.psshHosts: pssh.String()} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func countPrefix(out []byte, prefix string) int {
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}
