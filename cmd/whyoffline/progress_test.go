package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestLogFormatJSON: --log-format json writes a start line, a line per
// host and a summary line on stderr, as JSON; the report on stdout is
// untouched.
func TestLogFormatJSON(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped"})
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, "scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none",
		"--connect-timeout", "2s", "-o", "jsonl", "--log-format", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var msgs []string
	hosts := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		msgs = append(msgs, rec["msg"].(string))
		if rec["msg"] == "host scanned" {
			hosts[rec["host"].(string)] = rec["status"].(string)
		}
	}
	if len(msgs) != 4 || msgs[0] != "sweep started" || msgs[3] != "sweep finished" {
		t.Errorf("log lines: %v", msgs)
	}
	if hosts["healthy-001"] != "healthy" || hosts["agent-stopped-001"] != "diagnosed" {
		t.Errorf("per-host lines: %v", hosts)
	}
	if strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("the report changed: %q", r.stdout)
	}
	if r := runCLI(t, "", nil, "scan", "-i", inv, "--log-format", "xml"); r.code != exitUsage || !strings.Contains(r.stderr, "text or json") {
		t.Errorf("--log-format xml: exit %d %s", r.code, r.stderr)
	}
}

// TestProgressBarOnATerminal: on a terminal's stderr the sweep shows a bar
// with the count done and the counts by status; with --quiet, nothing.
func TestProgressBarOnATerminal(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "agent-missing"})
	run1 := func(args ...string) (string, string) {
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, stderrTTY: true,
			getenv: func(k string) string { return map[string]string{"HOME": t.TempDir()}[k] }}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run(ctx, e, append([]string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json"}, args...))
		return out.String(), errb.String()
	}
	stdout, stderr := run1()
	// the bar redraws at most every 200 ms and clears itself at the end:
	// what a fast sweep leaves is its first drawing
	if !strings.Contains(stderr, "/3)") || !strings.Contains(stderr, " healthy, ") || !strings.Contains(stderr, "|") || !strings.HasPrefix(strings.TrimSpace(stdout), "{") {
		t.Errorf("no bar on a terminal: stderr %q", stderr)
	}
	if _, stderr := run1("--quiet"); stderr != "" {
		t.Errorf("--quiet still shows progress: %q", stderr)
	}
}
