package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/lab"
)

// traceScript runs script on h under strace, through the playbook's own
// command (which picks the shell, as on a real login), and prints check
// by check the processes the script starts and the programs they run.
// Only what the script starts counts: processes forked by its shells and
// by the wrappers it runs commands under (timeout, env); what a program
// starts inside itself (a lab stand-in's own commands, an init script's)
// is that program's. Sections are told apart by the begin markers the
// script writes; a lane's processes count for the lane check that began
// last, as lanes run at once.
func traceScript(ctx context.Context, l *lab.Lab, h *lab.Host, command string, script []byte) error {
	if _, err := exec.LookPath("strace"); err != nil {
		return fmt.Errorf("-trace needs strace (apt-get install strace)")
	}
	cmd, err := l.HostCommand(ctx, h, "strace", "-f", "-qq", "-s", "160", "-e", "trace=execve,clone,clone3,fork,vfork,write",
		"-o", "/dev/stderr", "sh", "-c", command)
	if err != nil {
		return err
	}
	var trace bytes.Buffer
	cmd.Stdin = bytes.NewReader(script)
	cmd.Stderr = &trace
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strace: %v\n%s", err, tail(trace.String(), 400))
	}
	t := readTrace(trace.String())
	fmt.Printf("\nEvery process one script starts on %s (strace; sshd and the login shell not counted)\n\n| check | processes | programs run |\n|---|---:|---|\n", h.Name)
	total := 0
	for _, id := range t.order {
		total += t.forks[id]
		fmt.Printf("| %s | %d | %s |\n", id, t.forks[id], strings.Join(t.progs[id], " "))
	}
	fmt.Printf("| total | %d | |\n", total)
	return nil
}

type traceCount struct {
	order []string
	forks map[string]int
	progs map[string][]string
}

var (
	traceBegin  = regexp.MustCompile(`:begin:([a-z0-9._-]+)>>`)
	traceFork   = regexp.MustCompile(`^(\d+) +(?:clone3?|v?fork)\(.*\) = (\d+)$`)
	traceExec   = regexp.MustCompile(`^(\d+) +execve\("([^"]+)".* = 0$`)
	traceShells = map[string]bool{"sh": true, "dash": true, "bash": true, "ksh": true, "ksh93": true, "mksh": true, "busybox": true}
	// wrappers run the command the script names: their child is the
	// script's process
	traceWrappers = map[string]bool{"timeout": true, "env": true}
)

// readTrace counts the script's processes in an strace -f log.
func readTrace(log string) traceCount {
	t := traceCount{forks: map[string]int{}, progs: map[string][]string{}}
	prog := map[string]string{} // pid -> what it runs ("" or a shell: a shell of the script's)
	ours := map[string]bool{}   // pid started by the script (or its root)
	cur := "(frame)"
	root := ""
	for _, line := range strings.Split(log, "\n") {
		// a shell that buffers (ksh) writes several markers at once:
		// the last one began last
		if ms := traceBegin.FindAllStringSubmatch(line, -1); ms != nil {
			cur = ms[len(ms)-1][1]
			continue
		}
		if _, seen := t.forks[cur]; !seen {
			t.order = append(t.order, cur)
			t.forks[cur] = 0
		}
		if root == "" {
			if f := strings.Fields(line); len(f) > 0 {
				if _, err := strconv.Atoi(f[0]); err == nil {
					root = f[0]
					ours[root] = true
				}
			}
		}
		if m := traceFork.FindStringSubmatch(line); m != nil {
			parent, child := m[1], m[2]
			p := prog[parent]
			if ours[parent] && (p == "" || traceShells[p] || traceWrappers[p]) {
				t.forks[cur]++
				ours[child] = true
			}
			prog[child] = p
			if traceWrappers[p] {
				prog[child] = ""
			}
			continue
		}
		if m := traceExec.FindStringSubmatch(line); m != nil {
			pid, name := m[1], path.Base(m[2])
			prog[pid] = name
			if ours[pid] && pid != root {
				t.progs[cur] = append(t.progs[cur], name)
			}
		}
	}
	return t
}
