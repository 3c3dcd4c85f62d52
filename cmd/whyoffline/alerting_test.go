package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// readMetrics parses a textfile as node_exporter would.
func readMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse as Prometheus text: %v", path, err)
	}
	return fams
}

func gaugeOf(fams map[string]*dto.MetricFamily, name string, label ...string) float64 {
	for _, m := range fams[name].GetMetric() {
		match := true
		for i := 0; i+1 < len(label); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == label[i] && l.GetValue() == label[i+1])
			}
			match = match && found
		}
		if match {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestMetricsAndFailOnNew: the nightly sweep's metrics file parses with
// Prometheus's own parser and says what the run found; --fail-on new
// exits 1 on the first night (every problem is new), 0 on an unchanged
// second night, and 1 again when a problem appears; --fail-on none exits
// 0 whatever the hosts.
func TestMetricsAndFailOnNew(t *testing.T) {
	f, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "agent-missing"})
	dir := t.TempDir()
	state, prom := filepath.Join(dir, "state"), filepath.Join(dir, "whyoffline.prom")
	vars := map[string]string{"HOME": dir}
	scan := func(limit string, extra ...string) runResult {
		args := append([]string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json",
			"--out", filepath.Join(dir, "run.json"), "--state-dir", state, "--metrics-file", prom, "-l", limit}, extra...)
		return runCLI(t, "", vars, args...)
	}
	h := f.Hosts()
	two := h[0].Name + "," + h[1].Name
	if r := scan(two, "--fail-on", "new"); r.code != exitFindings {
		t.Fatalf("first night, --fail-on new: exit %d (every problem is new): %s", r.code, r.stderr)
	}
	fams := readMetrics(t, prom)
	for _, c := range []struct {
		name  string
		label []string
		want  float64
	}{
		{"whyoffline_hosts", []string{"status", "healthy"}, 1},
		{"whyoffline_hosts", []string{"status", "diagnosed"}, 1},
		{"whyoffline_cause_hosts", []string{"cause", "agent-not-running"}, 1},
		{"whyoffline_new_problem_hosts", nil, 1},
		{"whyoffline_skipped_hosts", nil, 0},
		{"whyoffline_last_run_success", nil, 1},
	} {
		if got := gaugeOf(fams, c.name, c.label...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	first := gaugeOf(fams, "whyoffline_last_success_timestamp_seconds")
	if first <= 0 || gaugeOf(fams, "whyoffline_run_duration_seconds") < 0 {
		t.Errorf("timestamps: %v", fams)
	}
	if r := scan(two, "--fail-on", "new"); r.code != 0 {
		t.Errorf("second night, nothing new: exit %d: %s", r.code, r.stderr)
	}
	if got := gaugeOf(readMetrics(t, prom), "whyoffline_new_problem_hosts"); got != 0 {
		t.Errorf("new problems on an unchanged night: %v", got)
	}
	if r := scan(two+","+h[2].Name, "--fail-on", "new"); r.code != exitFindings {
		t.Errorf("third night, a new problem: exit %d", r.code)
	}
	if r := scan(two, "--fail-on", "none"); r.code != 0 {
		t.Errorf("--fail-on none: exit %d", r.code)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".whyoffline.prom") {
			t.Errorf("a temporary metrics file was left: %s", e.Name())
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail-on", "new", "--state-dir", ""}, "--fail-on new compares with the previous run"},
		{[]string{"--fail-on", "sometimes"}, `--fail-on "sometimes"`},
		{[]string{"--metrics-file", "/nonexistent/dir/x.prom"}, "its directory does not exist"},
	} {
		r := runCLI(t, "", vars, append([]string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none"}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, r.code, r.stderr)
		}
	}
}
