// Command fleetsim runs a simulated fleet of SSH hosts on loopback and,
// optionally, a command against it (make demo, make bench):
//
//	fleetsim -dir .demo -preset demo -- whyoffline scan -i .demo/inventory.yaml ...
//
// Without a command it serves until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
)

// presets are ready-made fleets.
var presets = map[string]string{
	// one host of each behaviour the demo shows, plus healthy ones
	"demo": "healthy=3,agent-stopped=1,agent-missing=1,dns-broken=1,port-dropped=1,clock-ahead=1,tls-errors=1,disk-full=1,rule-update=1,powered-off=1,tarpit=1,bad-auth=1",
	// a nightly-sweep mix: mostly healthy, a spread of faults
	"sweep": "healthy=80,agent-stopped=5,agent-missing=2,dns-broken=2,port-dropped=3,port-rejected=1,clock-ahead=2,tls-errors=1,disk-full=1,overloaded=1,rule-update=1,pmtu=1",
}

func main() {
	dir := flag.String("dir", ".fleetsim", "directory for inventory.yaml, known_hosts and the client key")
	preset := flag.String("preset", "demo", "fleet preset: "+strings.Join(keys(presets), ", "))
	profiles := flag.String("profiles", "", "PROFILE=COUNT,... (overrides -preset); profiles: "+strings.Join(keys(fleetsim.Profiles), ", "))
	hosts := flag.Int("hosts", 0, "scale the preset's mix to this many hosts")
	port := flag.Int("port", 0, "the SSH port every simulated address shares (0: a free port)")
	latency := flag.Duration("latency", 0, "delay before each host answers its script")
	flag.Parse()

	specs, err := parseSpecs(*profiles, *preset, *hosts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(2)
	}
	fleet, err := fleetsim.Start(specs, fleetsim.Options{Port: *port, Latency: *latency})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(3)
	}
	defer fleet.Close()
	inv, err := fleet.WriteFiles(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(3)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintf(os.Stderr, "fleetsim: %d hosts up; inventory %s, known_hosts %s/known_hosts; Ctrl-C stops\n", fleet.Len(), inv, *dir)
		<-ctx.Done()
		return
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fleet.Close()
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		fleet.Close()
		os.Exit(3)
	}
}

func parseSpecs(profiles, preset string, scale int) ([]fleetsim.Spec, error) {
	if profiles == "" {
		p, ok := presets[preset]
		if !ok {
			return nil, fmt.Errorf("unknown preset %q", preset)
		}
		profiles = p
	}
	var specs []fleetsim.Spec
	total := 0
	for _, item := range strings.Split(profiles, ",") {
		name, count, ok := strings.Cut(strings.TrimSpace(item), "=")
		n, err := strconv.Atoi(count)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want PROFILE=COUNT", item)
		}
		if fleetsim.Profiles[name] == nil {
			return nil, fmt.Errorf("unknown profile %q", name)
		}
		specs = append(specs, fleetsim.Spec{Profile: name, Count: n})
		total += n
	}
	if scale > 0 && total > 0 {
		got := 0
		for i := range specs {
			specs[i].Count = specs[i].Count * scale / total
			got += specs[i].Count
		}
		specs[0].Count += scale - got // rounding goes to the first (healthy) profile
	}
	return specs, nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
