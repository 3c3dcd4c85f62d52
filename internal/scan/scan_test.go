package scan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/run"
	"github.com/whyoffline/whyoffline/internal/scan"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/transport"
	sshtransport "github.com/whyoffline/whyoffline/internal/transport/ssh"
	"github.com/whyoffline/whyoffline/internal/transports"
	"github.com/whyoffline/whyoffline/playbooks"
)

// setup starts a simulated fleet and the scan options to sweep it.
func setup(tb testing.TB, specs []fleetsim.Spec, base byte, forks int) ([]*inventory.Host, scan.Options, *fleetsim.Fleet) {
	tb.Helper()
	f, err := fleetsim.Start(specs, fleetsim.Options{Base: [4]byte{127, 90 + base, 0, 1}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	dir := tb.TempDir()
	invPath, err := f.WriteFiles(dir)
	if err != nil {
		tb.Fatal(err)
	}
	inv, err := inventory.Load([]string{invPath}, nil, transports.Options())
	if err != nil {
		tb.Fatal(err)
	}
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		tb.Fatal(err)
	}
	client, err := sshtransport.New(sshtransport.Config{KnownHosts: []string{filepath.Join(dir, "known_hosts")},
		ConnectTimeout: 2 * time.Second, Home: dir, DefaultUser: "demo", Getenv: func(string) string { return "" }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.Close)
	d := &diagnose.Options{Manager: "localhost", Port: f.ManagerPort(), AgentPort: 4118, Mode: "agent-initiated",
		MaxClockSkew: 2 * time.Minute, Thresholds: set.Causes.Thresholds, Remedies: remedies(tb, set)}
	opt := scan.Options{Forks: forks, Timeout: 10 * time.Second, Playbooks: set, Diagnose: d,
		Params:  playbook.Params{Manager: "localhost", Port: f.ManagerPort(), AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce()},
		Runners: map[string]transport.Runner{inventory.SSH: client}}
	return inv.Hosts, opt, f
}

// TestEveryHostExactlyOnceWhenInterrupted cancels a sweep held up by
// tarpits: every host still gets exactly one result; the unscanned ones
// say interrupted.
func TestEveryHostExactlyOnceWhenInterrupted(t *testing.T) {
	hosts, opt, _ := setup(t, []fleetsim.Spec{{Profile: "tarpit", Count: 4}, {Profile: "healthy", Count: 30}}, 1, 2)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	seen := map[int]int{}
	statuses := map[result.Status]int{}
	interrupted := 0
	scan.Run(ctx, hosts, opt, func(r scan.Result) {
		seen[r.Index]++
		statuses[r.Host.Status]++
		if r.Host.Error != nil && r.Host.Error.Kind == result.Interrupted {
			interrupted++
		}
	})
	if len(seen) != len(hosts) {
		t.Fatalf("%d of %d hosts got a result", len(seen), len(hosts))
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("host %d got %d results", i, n)
		}
	}
	if interrupted == 0 {
		t.Errorf("no host reported interrupted: %v", statuses)
	}
}

// BenchmarkSweep scans simulated fleets of 100, 1,000 and 10,000 hosts
// and reports hosts/s, bastion CPU per host and peak RSS.
func BenchmarkSweep(b *testing.B) {
	for i, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			hosts, opt, _ := setup(b, []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "agent-stopped", Count: n / 10}}, byte(10+i), 100)
			runtime.GC()
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			start := time.Now()
			for it := 0; it < b.N; it++ {
				got := 0
				scan.Run(context.Background(), hosts, opt, func(r scan.Result) {
					got++
					if r.Host.Status == result.Error {
						b.Errorf("%s: %+v", r.Host.Name, r.Host.Error)
					}
				})
				if got != n {
					b.Fatalf("%d results for %d hosts", got, n)
				}
			}
			wall := time.Since(start)
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
			b.ReportMetric(float64(n*b.N)/wall.Seconds(), "hosts/s")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/host(incl.sim)")
			b.ReportMetric(float64(after.Maxrss)/1024, "peak-RSS-MiB(incl.sim)")
			fmt.Fprintf(os.Stderr, "sweep %d hosts, forks 100: %s wall, %.0f hosts/s\n", n, wall/time.Duration(b.N), float64(n*b.N)/wall.Seconds())
		})
	}
}

func remedies(tb testing.TB, set *playbook.Set) *diagnose.Remedies {
	tb.Helper()
	r, err := diagnose.NewRemedies(set.Causes)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkScrubResult is what hiding a run's secrets costs per host: a
// real result (a simulated host with a cause, every check and fact)
// scrubbed with a host password and the run's API key and passphrase.
func BenchmarkScrubResult(b *testing.B) {
	hosts, opt, _ := setup(b, []fleetsim.Spec{{Profile: "tls-errors", Count: 1}}, 30, 1)
	var res result.Host
	scan.Run(context.Background(), hosts, opt, func(r scan.Result) { res = r.Host })
	raw, err := json.Marshal(&res)
	if err != nil || res.Status != result.Diagnosed {
		b.Fatalf("%v %s", err, res.Status)
	}
	s := secret.New("run-api-key-0123456789", "key passphrase")
	s.AddCredential("demo", "host-password-1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var h result.Host
		_ = json.Unmarshal(raw, &h)
		b.StartTimer()
		s.ScrubAll(&h)
	}
	b.ReportMetric(float64(len(raw)), "result-bytes")
}

// BenchmarkRetainedPerHost is what a streaming sweep keeps of each host
// once its result is written (-o jsonl): the heap when the last host has
// finished, after a collection, less the heap before the sweep (inventory
// loaded, fleet running), divided by the hosts — fleet digests, history
// and manager records, whatever a host leaves behind. The few
// connections still closing at that moment are included.
func BenchmarkRetainedPerHost(b *testing.B) {
	for i, n := range []int{1000, 4000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) { retainedPerHost(b, n, byte(40+i)) })
	}
}

func retainedPerHost(b *testing.B, n int, base byte) {
	hosts, opt, _ := setup(b, []fleetsim.Spec{{Profile: "healthy", Count: n * 9 / 10}, {Profile: "agent-stopped", Count: n / 10}}, base, 50)
	for it := 0; it < b.N; it++ {
		w, err := report.New("jsonl", io.Discard, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var before, at runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		done := 0
		cfg := run.Config{Hosts: hosts, Scan: opt, ConnectTimeout: 2 * time.Second, Progress: func(*result.Host) {
			if done++; done == n {
				runtime.GC()
				runtime.ReadMemStats(&at)
			}
		}}
		r, err := run.Sweep(context.Background(), cfg, w)
		if err != nil || r.Summary.Hosts != n {
			b.Fatalf("%v: %+v", err, r.Summary)
		}
		b.ReportMetric(float64(int64(at.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "retained-B/host")
	}
}
