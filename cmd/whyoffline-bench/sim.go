package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/playbooks"
)

// simMain benchmarks whyoffline against simulated fleets on loopback, each
// size against the floor client on the same fleet.
func simMain(args []string) error {
	if done, err := inPrivateNetns(append([]string{"sim"}, args...)); done || err != nil {
		return err
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	bin := fs.String("whyoffline", "bin/whyoffline", "the whyoffline binary")
	forks := fs.Int("forks", 200, "parallel hosts (-f), for whyoffline and the floor")
	sizes := fs.String("sizes", "1000,10000,100000", "fleet sizes")
	profile := fs.String("cpuprofile", "", "write whyoffline's CPU profile of the largest run to this file")
	offline := fs.Bool("offline", true, "also sweep 1,000 hosts that are all in trouble")
	invHosts := fs.Int("inventory-hosts", 100000, "hosts in the Ansible INI inventory whose load is timed (0: skip)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return fmt.Errorf("-sizes: %q is not a fleet size", s)
		}
		ns = append(ns, n)
	}
	fmt.Printf("network namespace: %s\n", os.Getenv(envNetns))
	var rows []scaleRow
	for i, n := range ns {
		prof := ""
		if i == len(ns)-1 {
			prof = *profile
		}
		r, err := scaleRun(*bin, n, *forks, i == len(ns)-1, prof)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	printScale(fmt.Sprintf("Scaling: simulated hosts on loopback (90 %% healthy, 10 %% agent stopped), -f %d; this process serves every host too (%d cores shared)", *forks, numCPU()), rows)

	// 10 % tarpits: each holds a fork for --connect-timeout, in parallel
	const n, timeout, connect = 1000, 20 * time.Second, 5 * time.Second
	clean, err := simRun(*bin, []fleetsim.Spec{{Profile: "healthy", Count: n}}, 100, "jsonl", timeout.String(), connect.String(), "")
	if err != nil {
		return err
	}
	clean.Tool = "1,000 hosts, no tarpit"
	tar, err := simRun(*bin, []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "tarpit", Count: n / 10}}, 100, "jsonl", timeout.String(), connect.String(), "")
	if err != nil {
		return err
	}
	tar.Tool = "1,000 hosts, 10 % tarpits"
	printTable(fmt.Sprintf("Tarpits (--timeout %s, --connect-timeout %s, -f %d)", timeout, connect, 100), []measurement{clean, tar}, nil)
	fmt.Printf("\n10 %% tarpits added %.1f s to the sweep (target: at most one --timeout, %s).\n", (tar.Wall - clean.Wall).Seconds(), timeout)
	if *invHosts > 0 {
		if err := inventoryLoad(*bin, *invHosts); err != nil {
			return err
		}
	}
	if *offline {
		if err := offlineSweep(*bin, 100); err != nil {
			return err
		}
	}
	if *profile != "" {
		printProfileTop(*bin, *profile, ns[len(ns)-1])
	}
	return nil
}

// scaleRow is one tool's run over one fleet size, with the floor's run
// over the same fleet.
type scaleRow struct {
	m     measurement
	floor measurement
}

// scaleRun brings up n simulated hosts and runs, on that same fleet, the
// floor client and whyoffline -o jsonl (and, when withJSON, -o json).
func scaleRun(bin string, n, forks int, withJSON bool, cpuprofile string) ([]scaleRow, error) {
	specs := []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "agent-stopped", Count: n - n*9/10}}
	fmt.Fprintf(os.Stderr, "starting %d simulated hosts...\n", n)
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 100, 0, 1}})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "whyoffline-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	inv, err := f.WriteFiles(dir)
	if err != nil {
		return nil, err
	}
	floor, err := floorRun(f, dir, forks)
	if err != nil {
		return nil, err
	}
	var rows []scaleRow
	formats := []string{"jsonl"}
	if withJSON {
		formats = append(formats, "json")
	}
	for _, format := range formats {
		prof := ""
		if format == "jsonl" {
			prof = cpuprofile
		}
		fmt.Fprintf(os.Stderr, "whyoffline -o %s over %d hosts...\n", format, n)
		m, err := scanFleet(bin, f, dir, inv, forks, format, "60s", "10s", prof)
		if err != nil {
			return nil, err
		}
		m.Tool = "whyoffline -o " + format
		rows = append(rows, scaleRow{m: m, floor: floor})
	}
	return rows, nil
}

// floorRun runs the floor client (connect, verify, authenticate, run the
// same script, read the output; nothing else) over the fleet.
func floorRun(f *fleetsim.Fleet, dir string, forks int) (measurement, error) {
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		return measurement{}, err
	}
	sc, err := set.RenderUnix("", "", playbook.Params{Manager: "localhost", Port: f.ManagerPort(), AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce()})
	if err != nil {
		return measurement{}, err
	}
	script, list := filepath.Join(dir, "script.sh"), filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(script, sc.Body, 0o600); err != nil {
		return measurement{}, err
	}
	var b strings.Builder
	for i := 0; i < f.Len(); i++ {
		h := f.Host(i)
		b.WriteString(net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) + "\n")
	}
	if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
		return measurement{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	fmt.Fprintf(os.Stderr, "floor client over %d hosts...\n", f.Len())
	cmd := exec.Command(self, "floor", "-hosts", list, "-key", filepath.Join(dir, "id_ed25519"), "-known-hosts", filepath.Join(dir, "known_hosts"),
		"-script", script, "-command", sc.Command, "-f", strconv.Itoa(forks), "-user", "demo", "-quiet")
	m, out, err := measure(cmd)
	if err != nil {
		return m, err
	}
	m.Tool, m.Hosts, m.Forks = "floor", f.Len(), forks
	if _, err := fmt.Sscanf(string(out), "ok %d", &m.OK); err != nil || m.OK != m.Hosts {
		return m, fmt.Errorf("floor: %d of %d hosts (%s)", m.OK, m.Hosts, tail(string(out), 300))
	}
	return m, nil
}

func printScale(title string, rows []scaleRow) {
	fmt.Printf("\n%s\n\n", title)
	fmt.Println("| hosts | tool | wall | CPU | CPU/host | peak RSS | floor wall | floor CPU | floor RSS | wall ÷ floor | CPU ÷ floor | RSS ÷ floor |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %d | %s | %.1f s | %.1f s | %.2f ms | %.0f MiB | %.1f s | %.1f s | %.0f MiB | %.2f× | %.2f× | %.2f× |\n",
			r.m.Hosts, r.m.Tool, r.m.Wall.Seconds(), r.m.CPU.Seconds(), r.m.cpuPerHost(), float64(r.m.RSSKB)/1024,
			r.floor.Wall.Seconds(), r.floor.CPU.Seconds(), float64(r.floor.RSSKB)/1024,
			r.m.Wall.Seconds()/r.floor.Wall.Seconds(), r.m.CPU.Seconds()/r.floor.CPU.Seconds(), float64(r.m.RSSKB)/float64(r.floor.RSSKB))
	}
}

// inventoryLoad times `whyoffline inventory` over an Ansible inventory of
// n hosts in groups with group vars — once as one INI file, once laid out
// as a project keeps it, the vars in group_vars/ (one file per group,
// about 100, and group_vars/all.yml): load, group resolution, endpoints.
func inventoryLoad(bin string, n int) error {
	for _, project := range []bool{false, true} {
		if err := inventoryLoadOnce(bin, n, project); err != nil {
			return err
		}
	}
	return nil
}

func inventoryLoadOnce(bin string, n int, project bool) error {
	dir, err := os.MkdirTemp("", "whyoffline-bench-inv-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hosts.ini")
	if project {
		path = filepath.Join(dir, "hosts")
		if err := os.Mkdir(filepath.Join(dir, "group_vars"), 0o700); err != nil {
			return err
		}
	}
	var b strings.Builder
	const perGroup = 1000
	groups := (n + perGroup - 1) / perGroup
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "[zone%03d]\n", g)
		for i := g * perGroup; i < min(n, (g+1)*perGroup); i++ {
			fmt.Fprintf(&b, "host%06d.zone%03d.example ansible_host=10.%d.%d.%d\n", i, g, i>>16&255, i>>8&255, i&255)
		}
		vars := fmt.Sprintf("ansible_user: scan\nansible_port: %d\n", 22+g%2)
		if !project {
			fmt.Fprintf(&b, "[zone%03d:vars]\nansible_user=scan\nansible_port=%d\n", g, 22+g%2)
		} else if err := os.WriteFile(filepath.Join(dir, "group_vars", fmt.Sprintf("zone%03d.yml", g)), []byte(vars), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(&b, "[fleet:children]\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "zone%03d\n", g)
	}
	if project {
		if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte("ansible_become: true\nansible_ssh_private_key_file: ~/.ssh/scan_ed25519\n"), 0o600); err != nil {
			return err
		}
	} else {
		b.WriteString("[all:vars]\nansible_become=true\nansible_ssh_private_key_file=~/.ssh/scan_ed25519\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(mustAbs(bin), "inventory", "-i", path, "--ssh-config", "none", "-l", "fleet")
	m, out, err := measure(cmd)
	if err != nil {
		return err
	}
	got := ""
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) > 0 {
		got = lines[len(lines)-1]
	}
	shape := "one INI file"
	if project {
		shape = fmt.Sprintf("an INI file with its vars in %d group_vars files", groups+1)
	}
	fmt.Printf("\nAnsible inventory of %d hosts in %d groups, %s: `whyoffline inventory` loads, resolves and derives every endpoint in %.2f s (target ≤ 2 s), %.0f MiB peak RSS; it printed %q.\n",
		n, groups, shape, m.Wall.Seconds(), float64(m.RSSKB)/1024, got)
	return nil
}

// printProfileTop prints the top five functions of the largest run's CPU
// profile (flat), when the go tool is at hand.
func printProfileTop(bin, prof string, n int) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=5", mustAbs(bin), prof).Output()
	if err != nil {
		fmt.Printf("\nCPU profile of the %d-host run: %s (go tool pprof -top %s %s)\n", n, prof, bin, prof)
		return
	}
	fmt.Printf("\nCPU profile of the %d-host run, top five (flat):\n\n```\n%s```\n", n, out)
}

// simRun serves specs from this process and scans them with whyoffline as
// a child process.
func simRun(bin string, specs []fleetsim.Spec, forks int, format, timeout, connectTimeout, cpuprofile string) (measurement, error) {
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 100, 0, 1}})
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "whyoffline-bench-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	inv, err := f.WriteFiles(dir)
	if err != nil {
		return measurement{}, err
	}
	return scanFleet(bin, f, dir, inv, forks, format, timeout, connectTimeout, cpuprofile)
}

// scanFleet runs whyoffline over a running fleet as a child process.
func scanFleet(bin string, f *fleetsim.Fleet, dir, inv string, forks int, format, timeout, connectTimeout, cpuprofile string) (measurement, error) {
	out := filepath.Join(dir, "run."+format)
	cmd := exec.Command(mustAbs(bin), "scan", "-i", inv, "--known-hosts", filepath.Join(dir, "known_hosts"), "--ssh-config", "none",
		"-f", strconv.Itoa(forks), "-o", format, "--out", out, "-q", "--timeout", timeout, "--connect-timeout", connectTimeout)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if cpuprofile != "" {
		cmd.Env = append(cmd.Env, "WHYOFFLINE_CPUPROFILE="+mustAbs(cpuprofile))
	}
	m, _, err := measure(cmd)
	if err != nil {
		return m, err
	}
	m.Hosts, m.Forks = f.Len(), forks
	m.OK, err = countResults(out, format)
	if err != nil {
		return m, err
	}
	if m.OK != m.Hosts {
		return m, fmt.Errorf("%d results for %d hosts", m.OK, m.Hosts)
	}
	return m, nil
}

// countResults reads how many hosts got a result from a saved run.
func countResults(path, format string) (int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	if format == "json" {
		var run struct {
			Hosts []json.RawMessage `json:"hosts"`
		}
		err := json.NewDecoder(fh).Decode(&run)
		return len(run.Hosts), err
	}
	n := 0
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `{"name":`) {
			n++
		}
	}
	return n, sc.Err()
}
