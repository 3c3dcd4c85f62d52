package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"

	"github.com/whyoffline/whyoffline/internal/lab"
)

// traceScript runs script on h under strace and prints, check by check,
// every process it started and the programs they ran. Sections are told
// apart by the begin markers the script writes (a lane's processes count
// for the lane check that began last: lanes run at once).
func traceScript(ctx context.Context, l *lab.Lab, h *lab.Host, script []byte) error {
	if _, err := exec.LookPath("strace"); err != nil {
		return fmt.Errorf("-trace needs strace (apt-get install strace)")
	}
	cmd, err := l.HostCommand(ctx, h, "strace", "-f", "-qq", "-s", "160", "-e", "trace=execve,clone,clone3,fork,vfork,write", "-o", "/dev/stderr", "sh", "-s")
	if err != nil {
		return err
	}
	var trace bytes.Buffer
	cmd.Stdin = bytes.NewReader(script)
	cmd.Stderr = &trace
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strace: %v\n%s", err, tail(trace.String(), 400))
	}
	begin := regexp.MustCompile(`write\(1, ".*?:begin:([a-z0-9._-]+)>>`)
	fork := regexp.MustCompile(`\b(clone3?|v?fork)\(`)
	execve := regexp.MustCompile(`execve\("([^"]+)"`)
	cur := "(frame)"
	var order []string
	forks := map[string]int{}
	progs := map[string][]string{}
	for _, line := range strings.Split(trace.String(), "\n") {
		if m := begin.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if _, seen := forks[cur]; !seen {
			order = append(order, cur)
			forks[cur] = 0
		}
		if fork.MatchString(line) && !strings.Contains(line, "resumed>") {
			forks[cur]++
		}
		if m := execve.FindStringSubmatch(line); m != nil {
			progs[cur] = append(progs[cur], m[1][strings.LastIndexByte(m[1], '/')+1:])
		}
	}
	total := 0
	fmt.Printf("\nEvery process one script starts on %s (strace; the login shell and sshd not counted)\n\n| check | processes | programs run |\n|---|---:|---|\n", h.Name)
	for _, id := range order {
		total += forks[id]
		fmt.Printf("| %s | %d | %s |\n", id, forks[id], strings.Join(progs[id], " "))
	}
	fmt.Printf("| total | %d | |\n", total)
	return nil
}
