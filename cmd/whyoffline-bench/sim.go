package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
)

// simMain benchmarks whyoffline against simulated fleets on loopback.
func simMain(args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	bin := fs.String("whyoffline", "bin/whyoffline", "the whyoffline binary")
	forks := fs.Int("forks", 100, "parallel hosts (-f)")
	sizes := fs.String("sizes", "100,1000,10000", "fleet sizes")
	profile := fs.String("cpuprofile", "", "write whyoffline's CPU profile of the largest run to this file")
	offline := fs.Bool("offline", true, "also sweep 1,000 hosts that are all in trouble")
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
	mix := func(n int) []fleetsim.Spec {
		return []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "agent-stopped", Count: n - n*9/10}}
	}
	var rows []measurement
	for i, n := range ns {
		prof := ""
		if i == len(ns)-1 {
			prof = *profile
		}
		m, err := simRun(*bin, mix(n), byte(i), *forks, "jsonl", "20s", "5s", prof)
		if err != nil {
			return err
		}
		m.Tool = "whyoffline -o jsonl"
		rows = append(rows, m)
	}
	big := ns[len(ns)-1]
	m, err := simRun(*bin, mix(big), byte(len(ns)), *forks, "json", "20s", "5s", "")
	if err != nil {
		return err
	}
	m.Tool = "whyoffline -o json"
	rows = append(rows, m)
	printTable(fmt.Sprintf("Simulated fleet on loopback (this machine serves every host too: %d cores shared)", numCPU()), rows, nil)

	// 10 % tarpits: each holds a fork for --connect-timeout, in parallel
	const n, timeout, connect = 1000, 20 * time.Second, 5 * time.Second
	clean, err := simRun(*bin, []fleetsim.Spec{{Profile: "healthy", Count: n}}, 20, *forks, "jsonl", timeout.String(), connect.String(), "")
	if err != nil {
		return err
	}
	clean.Tool = "1,000 hosts, no tarpit"
	tar, err := simRun(*bin, []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "tarpit", Count: n / 10}}, 21, *forks, "jsonl", timeout.String(), connect.String(), "")
	if err != nil {
		return err
	}
	tar.Tool = "1,000 hosts, 10 % tarpits"
	printTable(fmt.Sprintf("Tarpits (--timeout %s, --connect-timeout %s, -f %d)", timeout, connect, *forks), []measurement{clean, tar}, nil)
	fmt.Printf("\n10 %% tarpits added %.1f s to the sweep (target: at most one --timeout, %s).\n", (tar.Wall - clean.Wall).Seconds(), timeout)
	if *offline {
		if err := offlineSweep(*bin, *forks); err != nil {
			return err
		}
	}
	if *profile != "" {
		fmt.Printf("\nCPU profile of the %d-host run: %s (go tool pprof -top %s %s)\n", big, *profile, *bin, *profile)
	}
	return nil
}

// simRun serves specs from this process and scans them with whyoffline as
// a child process.
func simRun(bin string, specs []fleetsim.Spec, slot byte, forks int, format, timeout, connectTimeout, cpuprofile string) (measurement, error) {
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 100 + slot, 0, 1}})
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
