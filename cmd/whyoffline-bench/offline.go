package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
)

// offlineSweep is the night every host is in trouble: 1,000 simulated
// hosts, 30 % powered off, 20 % with the heartbeat port dropped, 10 % with
// the TLS handshake stalling, 10 % with DNS dead, 10 % tarpits and 20 %
// with the agent stopped, at -f 100 and default timeouts. The simulated
// hosts take as long as the real probes would (the port, TLS and DNS
// timeouts the script was rendered with). It prints the wall time against
// the target — 1.5 × hosts ÷ forks × the slowest profile's single-probe
// timeout — and each profile's median and 95th-percentile host time.
func offlineSweep(bin string, forks int) error {
	const n = 1000
	specs := []fleetsim.Spec{
		{Profile: "powered-off", Count: n * 30 / 100}, {Profile: "port-dropped", Count: n * 20 / 100},
		{Profile: "pmtu", Count: n * 10 / 100}, {Profile: "dns-broken", Count: n * 10 / 100},
		{Profile: "tarpit", Count: n * 10 / 100}, {Profile: "agent-stopped", Count: n * 20 / 100},
	}
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 140, 0, 1}})
	if err != nil {
		return err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "whyoffline-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	inv, err := f.WriteFiles(dir)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "run.jsonl")
	cmd := exec.Command(mustAbs(bin), "scan", "-i", inv, "--known-hosts", filepath.Join(dir, "known_hosts"), "--ssh-config", "none",
		"-f", strconv.Itoa(forks), "-o", "jsonl", "--out", out, "-q")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	m, _, err := measure(cmd)
	if err != nil {
		return err
	}
	m.Hosts, m.Forks, m.Tool = f.Len(), forks, "offline fleet"
	times, verdicts, err := hostTimes(out)
	if err != nil {
		return err
	}
	m.OK = len(times["*"])
	printTable(fmt.Sprintf("Offline fleet: %d hosts, all in trouble (-f %d, default --timeout 60s and --connect-timeout 10s)", n, forks), []measurement{m}, nil)
	// the slowest single probe: a connect to a host that is off or silent
	slowest := 10 * time.Second
	target := time.Duration(1.5 * float64(n) / float64(forks) * float64(slowest))
	fmt.Printf("\nwall %.1f s; target ≤ 1.5 × %d ÷ %d × %s = %.0f s\n\n", m.Wall.Seconds(), n, forks, slowest, target.Seconds())
	fmt.Println("| profile | hosts | p50 host time | p95 host time | verdicts |")
	fmt.Println("|---|---:|---:|---:|---|")
	for _, s := range specs {
		ts := times[s.Profile]
		fmt.Printf("| %s | %d | %.1f s | %.1f s | %s |\n", s.Profile, len(ts), pct(ts, 50).Seconds(), pct(ts, 95).Seconds(), verdicts[s.Profile])
	}
	return nil
}

// hostTimes reads each host's duration and verdict from a jsonl run, by
// profile (the simulated host's name is PROFILE-NNN; "*" is every host).
func hostTimes(path string) (map[string][]time.Duration, map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	times := map[string][]time.Duration{}
	seen := map[string]map[string]int{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var h struct {
			Name       string `json:"name"`
			Status     string `json:"status"`
			DurationMS int64  `json:"duration_ms"`
			Causes     []struct {
				ID string `json:"id"`
			} `json:"causes"`
			Error *struct {
				Kind string `json:"kind"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Name == "" {
			continue
		}
		prof := h.Name
		if i := strings.LastIndexByte(prof, '-'); i > 0 {
			prof = prof[:i]
		}
		d := time.Duration(h.DurationMS) * time.Millisecond
		times[prof] = append(times[prof], d)
		times["*"] = append(times["*"], d)
		v := h.Status
		switch {
		case len(h.Causes) > 0:
			v += " " + h.Causes[0].ID
		case h.Error != nil:
			v += " " + h.Error.Kind
		}
		if seen[prof] == nil {
			seen[prof] = map[string]int{}
		}
		seen[prof][v]++
	}
	verdicts := map[string]string{}
	for prof, vs := range seen {
		var parts []string
		for v, c := range vs {
			parts = append(parts, fmt.Sprintf("%s ×%d", v, c))
		}
		sort.Strings(parts)
		verdicts[prof] = strings.Join(parts, ", ")
	}
	return times, verdicts, sc.Err()
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}
