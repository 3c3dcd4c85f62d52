package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
)

// verdicts is each host's status and causes, the part merge must keep.
func verdicts(t *testing.T, doc string) map[string]string {
	t.Helper()
	var run result.Run
	if err := json.Unmarshal([]byte(doc), &run); err != nil {
		t.Fatalf("not a JSON run: %v\n%.300s", err, doc)
	}
	out := map[string]string{}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		out[h.Name] = string(h.Status) + " " + strings.Join(outcome(h), ",")
	}
	return out
}

// TestShardsMergeToTheWholeRun: shards 1/3, 2/3 and 3/3 of a fleet, merged,
// give the same hosts, statuses and causes as scanning it whole; merge
// refuses a missing shard, a shard twice, and shards of another fleet.
func TestShardsMergeToTheWholeRun(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "dns-broken", "port-dropped", "clock-ahead", "agent-missing", "disk-full"},
		fleetsim.Spec{Profile: "healthy", Count: 8},
		// a zone that drops the heartbeat: its hosts land in different
		// shards, so only the merge sees the subnet whole
		fleetsim.Spec{Profile: "port-dropped", Count: 4, Zone: "10.2.3.0/24"},
		fleetsim.Spec{Profile: "healthy", Count: 3, Zone: "10.9.0.0/16"})
	home := map[string]string{"HOME": t.TempDir()}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "20s", "-o", "json"}
	whole := runCLI(t, "", home, base...)
	if whole.code != exitFindings {
		t.Fatalf("whole run: exit %d: %s", whole.code, whole.stderr)
	}
	want := verdicts(t, whole.stdout)
	dir := t.TempDir()
	var shards []string
	seen := 0
	for k := 1; k <= 3; k++ {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		r := runCLI(t, "", home, append(base, "--shard", fmt.Sprintf("%d/3", k), "--out", p)...)
		if r.code != exitFindings && r.code != exitHealthy {
			t.Fatalf("shard %d: exit %d: %s", k, r.code, r.stderr)
		}
		b, _ := os.ReadFile(p)
		n := len(verdicts(t, string(b)))
		if n == 0 || n == len(want) {
			t.Errorf("shard %d/3 holds %d of %d hosts", k, n, len(want))
		}
		seen += n
		shards = append(shards, p)
	}
	if seen != len(want) {
		t.Fatalf("the shards hold %d hosts, the fleet %d", seen, len(want))
	}
	m := runCLI(t, "", home, append([]string{"merge", "-o", "json"}, shards...)...)
	if m.code != exitFindings {
		t.Fatalf("merge: exit %d: %s", m.code, m.stderr)
	}
	got := verdicts(t, m.stdout)
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("%s: merged %q, whole run %q", n, got[n], want[n])
		}
	}
	if len(got) != len(want) {
		t.Errorf("merged %d hosts, whole run %d", len(got), len(want))
	}
	var merged result.Run
	_ = json.Unmarshal([]byte(m.stdout), &merged)
	var wholeRun result.Run
	_ = json.Unmarshal([]byte(whole.stdout), &wholeRun)
	if merged.Summary != wholeRun.Summary {
		t.Errorf("merged summary %+v, whole run %+v", merged.Summary, wholeRun.Summary)
	}
	findings := func(r *result.Run) string {
		var out []string
		for _, f := range r.Fleet {
			out = append(out, f.ID+"["+strings.Join(f.Hosts, ",")+"]")
		}
		return strings.Join(out, " ")
	}
	if got, want := findings(&merged), findings(&wholeRun); got != want || !strings.Contains(want, "shared-network-block") {
		t.Errorf("merged fleet findings %q, whole run %q (want the zone's shared-network-block in both)", got, want)
	}

	// refusals: exit 2, saying why
	other := filepath.Join(dir, "other.json")
	if r := runCLI(t, "", home, append(base, "--shard", "2/3", "-l", "healthy-*", "--out", other)...); r.code > 1 {
		t.Fatalf("other fleet's shard: exit %d: %s", r.code, r.stderr)
	}
	for _, c := range []struct {
		name string
		args []string
		says string
	}{
		{"a shard missing", []string{shards[0], shards[2]}, "shards 2 of 3 are missing"},
		{"a shard twice", []string{shards[0], shards[0], shards[1], shards[2]}, "given twice"},
		{"another fleet", []string{shards[0], other, shards[2]}, "another fleet"},
		{"a whole run", []string{shards[0], writeFile(t, dir, "whole.json", whole.stdout)}, "not a shard"},
	} {
		r := runCLI(t, "", home, append([]string{"merge", "-o", "json"}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.says) || r.stdout != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %d bytes; want exit 2 saying %q and nothing written", c.name, r.code, r.stderr, len(r.stdout), c.says)
		}
	}
	if r := runCLI(t, "", home, "merge", "--partial", "-o", "json", shards[0], shards[2]); r.code > 1 || len(verdicts(t, r.stdout)) >= len(want) {
		t.Errorf("--partial: exit %d, %s", r.code, r.stderr)
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFile: flag values from a config file (an explicit --config, or
// $XDG_CONFIG_HOME/whyoffline/config.yaml), the command line winning;
// unknown keys and secrets refused with file:line, exit 2.
func TestConfigFile(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy"})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yaml", fmt.Sprintf("# nightly sweep\nknown-hosts: %s\nssh-config: none\ninventory:\n  - %s\noutput: csv\nconnect-timeout: 2s\n", kh, inv))
	home := map[string]string{"HOME": t.TempDir()}
	r := runCLI(t, "", home, "--config", cfg, "scan")
	if r.code != exitHealthy || !strings.HasPrefix(r.stdout, "host,address,os,status") {
		t.Fatalf("config: exit %d, stdout %.200q, stderr %s", r.code, r.stdout, r.stderr)
	}
	// the command line wins over the file
	r = runCLI(t, "", home, "scan", "--config", cfg, "-o", "jsonl")
	if r.code != exitHealthy || !strings.HasPrefix(r.stdout, `{"name":`) {
		t.Fatalf("flag over config: exit %d, stdout %.200q", r.code, r.stdout)
	}
	// found in $XDG_CONFIG_HOME without --config
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "whyoffline"), 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg)
	writeFile(t, filepath.Join(xdg, "whyoffline"), "config.yaml", string(b))
	r = runCLI(t, "", map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": xdg}, "scan")
	if r.code != exitHealthy || !strings.HasPrefix(r.stdout, "host,address") {
		t.Fatalf("XDG config: exit %d, stdout %.200q, stderr %s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ body, says string }{
		{"forks: 10\nmanger: dsm.example.com\n", `config.yaml:2: unknown setting "manger" (did you mean "manager"?)`},
		{"ssh-password: hunter2\n", `config.yaml:1: "ssh-password": secrets are not read from the config file`},
		{"forks: [1, 2]\n", "config.yaml:1: forks: takes one value, not a list"},
		{"- just a list\n", "config.yaml:1: the config is a mapping"},
	} {
		p := writeFile(t, t.TempDir(), "config.yaml", c.body)
		r := runCLI(t, "", home, "scan", "--config", p, "-i", inv)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.says) || strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 saying %q", c.body, r.code, r.stderr, c.says)
		}
	}
	if r := runCLI(t, "", home, "scan", "--config", filepath.Join(dir, "nope.yaml"), "-i", inv); r.code != exitUsage || !strings.Contains(r.stderr, "nope.yaml") {
		t.Errorf("missing --config file: exit %d, %s", r.code, r.stderr)
	}
	// output: csv is the sweep's: diff and inventory (whose -o takes other
	// values) do not take it, and their own settings still apply
	runFile := filepath.Join(dir, "run.json")
	if r := runCLI(t, "", home, "--config", cfg, "scan", "-o", "json", "--out", runFile); r.code != exitHealthy {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "", home, "--config", cfg, "diff", runFile, runFile); r.code != 0 || !strings.Contains(r.stdout, "no change") {
		t.Errorf("diff under a config with output: csv: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", home, "--config", cfg, "inventory"); r.code != 0 || !strings.Contains(r.stdout, "1 hosts") {
		t.Errorf("inventory under a config with output: csv (and its inventory): exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	// config says what applies, from where
	r = runCLI(t, "", home, "--config", cfg, "config", "scan")
	for _, want := range []string{"output", "csv", "config.yaml:6", "forks", "default"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config scan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "", home, "--config", cfg, "config", "diff")
	if r.code != 0 || strings.Contains(r.stdout, "csv") {
		t.Errorf("config diff: exit %d\n%s", r.code, r.stdout)
	}
}

// TestShardsForKubernetes: --shard job/N takes an Indexed Job pod's
// $JOB_COMPLETION_INDEX (0-based) as shard index+1; -o json spills beside
// --out, so an unwritable $TMPDIR (a read-only root) does not fail the
// run; merge refuses a shard left from another night.
func TestShardsForKubernetes(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "agent-missing", "healthy"})
	dir := t.TempDir()
	t.Setenv("TMPDIR", filepath.Join(dir, "no-such-tmp"))
	var shards []string
	for idx := 0; idx < 2; idx++ {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", idx))
		vars := map[string]string{"HOME": dir, "JOB_COMPLETION_INDEX": fmt.Sprint(idx)}
		r := runCLI(t, "", vars, "scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--shard", "job/2", "-o", "json", "--out", out)
		if r.code > exitFindings {
			t.Fatalf("pod %d: exit %d: %s", idx, r.code, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(b), fmt.Sprintf(`"index": %d`, idx+1)) {
			t.Fatalf("pod %d wrote %v: %.300s", idx, err, b)
		}
		shards = append(shards, out)
	}
	if r := runCLI(t, "", map[string]string{"HOME": dir}, append([]string{"merge", "-o", "json", "--out", filepath.Join(dir, "sweep.json")}, shards...)...); r.code != exitFindings {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "", map[string]string{"HOME": dir}, "scan", "-i", inv, "--shard", "job/2"); r.code != exitUsage || !strings.Contains(r.stderr, "JOB_COMPLETION_INDEX") {
		t.Errorf("job/N outside a Job: exit %d: %s", r.code, r.stderr)
	}
	// last night's shard 2 beside tonight's shard 1
	b, _ := os.ReadFile(shards[1])
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["started"] = "2026-01-01T01:00:00Z"
	b, _ = json.Marshal(doc)
	stale := filepath.Join(dir, "stale.json")
	if err := os.WriteFile(stale, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", map[string]string{"HOME": dir}, "merge", shards[0], stale); r.code != exitUsage || !strings.Contains(r.stderr, "stale shard") {
		t.Errorf("stale shard: exit %d: %s", r.code, r.stderr)
	}
}
