package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Cost is what a host has spent: CPU time of every process of its pid
// namespace that has exited and been reaped (sshd, as the namespace's
// init, reaps them all — its children's children included, since each
// waits for its own) plus the init's own, and how many processes the
// namespace has created.
type Cost struct {
	CPU   time.Duration
	Procs int
	hosts int // readings summed: each forked one process of its own
}

// Sub is the cost between two readings of the same hosts, less the
// processes the later reading forked to read.
func (c Cost) Sub(before Cost) Cost {
	return Cost{CPU: c.CPU - before.CPU, Procs: c.Procs - before.Procs - c.hosts, hosts: c.hosts}
}

// Less is what c cost more than o, both already the cost of a run
// (Sub's readings taken out).
func (c Cost) Less(o Cost) Cost {
	return Cost{CPU: c.CPU - o.CPU, Procs: c.Procs - o.Procs, hosts: c.hosts}
}

// Add sums two costs (of separate runs).
func (c Cost) Add(o Cost) Cost {
	return Cost{CPU: c.CPU + o.CPU, Procs: c.Procs + o.Procs, hosts: c.hosts + o.hosts}
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux
// everywhere but a few exotic builds).
const clockTick = 100

// HostCost reads h's cost so far. Reading it forks one process inside the
// host (the reader), which the count excludes.
func (l *Lab) HostCost(ctx context.Context, h *Host) (Cost, error) {
	if h.unshare == nil || h.unshare.Process == nil {
		return Cost{}, fmt.Errorf("%s: no sshd process of the lab's", h.Name)
	}
	initPID, err := onlyChild(h.unshare.Process.Pid)
	if err != nil {
		return Cost{}, fmt.Errorf("%s: %v", h.Name, err)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(initPID) + "/stat")
	if err != nil {
		return Cost{}, err
	}
	// fields after the command name (which may hold spaces): state is
	// field 3; utime, stime, cutime, cstime are 14-17
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 15 {
		return Cost{}, fmt.Errorf("%s: short /proc stat", h.Name)
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	// ns_last_pid answers for the reader's pid namespace: read it from
	// inside (nsenter forks the reader there, one pid)
	out, err := Run(ctx, "nsenter", "-t", strconv.Itoa(initPID), "-p", "-m", "cat", "/proc/sys/kernel/ns_last_pid")
	if err != nil {
		return Cost{}, fmt.Errorf("%s: ns_last_pid: %v", h.Name, err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return Cost{}, fmt.Errorf("%s: ns_last_pid %q", h.Name, out)
	}
	return Cost{CPU: time.Duration(ticks) * time.Second / clockTick, Procs: last, hosts: 1}, nil
}

// FleetCost sums HostCost over hosts.
func (l *Lab) FleetCost(ctx context.Context, hosts []*Host) (Cost, error) {
	var sum Cost
	for _, h := range hosts {
		c, err := l.HostCost(ctx, h)
		if err != nil {
			return Cost{}, err
		}
		sum.CPU += c.CPU
		sum.Procs += c.Procs
		sum.hosts += c.hosts
	}
	return sum, nil
}

// onlyChild is the pid of pid's one child process.
func onlyChild(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		return 0, fmt.Errorf("process %d has %d children, want 1", pid, len(f))
	}
	return strconv.Atoi(f[0])
}

// HostCommand runs argv inside every namespace of h (pid, mount, network,
// uts) as root, the way a login on h would see the host — without sshd
// in between, for tracing what a script starts there.
func (l *Lab) HostCommand(ctx context.Context, h *Host, argv ...string) (*exec.Cmd, error) {
	if h.unshare == nil || h.unshare.Process == nil {
		return nil, fmt.Errorf("%s: no sshd process of the lab's", h.Name)
	}
	initPID, err := onlyChild(h.unshare.Process.Pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", h.Name, err)
	}
	return exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(initPID), "-p", "-m", "-n", "-u", "--"}, argv...)...), nil
}
