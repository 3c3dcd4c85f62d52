// Command whyoffline-bench prints the performance table of `make bench`:
//
//	whyoffline-bench sim -whyoffline bin/whyoffline
//	    simulated fleets of 100, 1,000 and 10,000 hosts (this process
//	    serves them on 127.x addresses; whyoffline runs as a child, so its
//	    CPU and peak RSS are its own), jsonl vs json memory, 10 % tarpits
//	whyoffline-bench lab -whyoffline bin/whyoffline -hosts 100 -forks 20   (root)
//	    real sshd hosts in network namespaces, the same checks run by
//	    whyoffline, `ansible all -m raw`, `parallel-ssh` and a minimal Go
//	    client (the floor), at equal parallelism, in one run
//
// The floor client is this binary too: `whyoffline-bench floor ...`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/whyoffline/whyoffline/internal/lab"
)

func main() {
	if os.Getenv(lab.HelperEnv) != "" {
		lab.RunHelper(os.Args[1:])
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: whyoffline-bench sim|lab|floor [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sim":
		err = simMain(os.Args[2:])
	case "lab":
		err = labMain(os.Args[2:])
	case "floor":
		err = floorMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: use sim, lab or floor", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "whyoffline-bench:", err)
		os.Exit(1)
	}
}

// measurement is one tool's run over one fleet.
type measurement struct {
	Tool  string
	Hosts int
	Forks int
	OK    int // hosts the tool reported as done
	Wall  time.Duration
	CPU   time.Duration // user+sys of the tool and every child it waited for
	RSSKB int64         // peak resident set of the tool's main process (VmHWM)
}

func (m measurement) hostsPerSec() float64 { return float64(m.Hosts) / m.Wall.Seconds() }
func (m measurement) cpuPerHost() float64 {
	return float64(m.CPU.Microseconds()) / 1000 / float64(m.Hosts)
}

// measure runs cmd to completion and reads its resource usage from wait4:
// user and system time include the children it reaped (Ansible's workers,
// every ssh process), peak RSS is the largest of them.
func measure(cmd *exec.Cmd) (measurement, []byte, error) {
	var out strings.Builder
	if cmd.Stdout == nil {
		cmd.Stdout = &limited{b: &out, max: 4 << 20}
	}
	var stderr strings.Builder
	cmd.Stderr = &limited{b: &stderr, max: 64 << 10}
	start := time.Now()
	err := cmd.Start()
	var peak int64
	if err == nil {
		// ru_maxrss of a child is useless here: Linux carries the parent's
		// high-water mark into a child across fork+exec, and this process
		// may be serving ten thousand simulated hosts. VmHWM belongs to
		// the child's own address space: sample it until it exits.
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if v := vmHWM(cmd.Process.Pid); v > peak {
					peak = v
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		err = cmd.Wait()
		close(stop)
		<-done
	}
	m := measurement{Wall: time.Since(start), RSSKB: peak}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return m, nil, fmt.Errorf("%s: %v", cmd.Path, err)
	}
	if err != nil && ee.ExitCode() > 1 {
		return m, nil, fmt.Errorf("%s exited %d: %s", filepath.Base(cmd.Path), ee.ExitCode(), tail(stderr.String(), 600))
	}
	return m, []byte(out.String()), nil
}

// vmHWM is a process's peak resident set (KiB) from /proc, 0 if gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

type limited struct {
	b   *strings.Builder
	max int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func printTable(title string, ms []measurement, floor *measurement) {
	fmt.Printf("\n%s\n\n", title)
	head := "| tool | hosts | forks | ok | wall | hosts/s | bastion CPU | CPU/host | peak RSS |"
	sep := "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	if floor != nil {
		head += " wall ÷ floor | CPU ÷ floor |"
		sep += "---:|---:|"
	}
	fmt.Println(head)
	fmt.Println(sep)
	for _, m := range ms {
		line := fmt.Sprintf("| %s | %d | %d | %d | %.2f s | %.0f | %.2f s | %.1f ms | %.0f MiB |",
			m.Tool, m.Hosts, m.Forks, m.OK, m.Wall.Seconds(), m.hostsPerSec(), m.CPU.Seconds(), m.cpuPerHost(), float64(m.RSSKB)/1024)
		if floor != nil {
			line += fmt.Sprintf(" %.2f× | %.1f× |", m.Wall.Seconds()/floor.Wall.Seconds(), m.CPU.Seconds()/floor.CPU.Seconds())
		}
		fmt.Println(line)
	}
}

func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

var errUsage = errors.New("bad flags")

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

func numCPU() int { return runtime.NumCPU() }
