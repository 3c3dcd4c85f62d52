// Package metrics writes a run's numbers as a node_exporter textfile
// (Prometheus text exposition format 0.0.4), for alerting on the nightly
// sweep: hosts by status and by cause, fleet findings, skipped hosts, new
// problems since the previous run, the run's duration, and when the last
// run and the last successful run ended. The file is replaced atomically
// (a temporary file in the same directory, renamed), so node_exporter
// never reads half of it.
package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

// lastSuccess is the metric carried over from the previous file when this
// run did not succeed.
const lastSuccess = "whyoffline_last_success_timestamp_seconds"

// Tally counts a run's hosts as they finish — a report.Writer teed
// beside the report, since a streaming sweep keeps no results — and, at
// the end, its fleet findings and skipped hosts.
type Tally struct {
	status      map[result.Status]int
	causes      map[string]int
	kinds       map[string]int
	newProblems int
	findings    map[string]int
	skipped     int
	duration    time.Duration
	ended       bool
}

// NewTally starts an empty tally.
func NewTally() *Tally {
	return &Tally{status: map[result.Status]int{}, causes: map[string]int{}, kinds: map[string]int{}, findings: map[string]int{}}
}

// Streams: the tally keeps only counts.
func (t *Tally) Streams() bool { return true }

// Host counts one host.
func (t *Tally) Host(_ int, h *result.Host) error {
	t.status[h.Status]++
	for _, c := range h.Causes {
		t.causes[c.ID]++
	}
	if h.Error != nil && len(h.Causes) == 0 {
		t.kinds[string(h.Error.Kind)]++
	}
	if isNewProblem(h) {
		t.newProblems++
	}
	return nil
}

// End takes the run's own numbers.
func (t *Tally) End(run *result.Run) error {
	for _, f := range run.Fleet {
		t.findings[f.ID]++
	}
	t.skipped = len(run.Skipped)
	t.duration = run.Finished.Sub(run.Started)
	t.ended = true
	return nil
}

// NewProblems is how many hosts have a problem the previous run did not.
func (t *Tally) NewProblems() int { return t.newProblems }

// isNewProblem: a problem the previous run did not have — new, a
// different problem, or a problem on a host the previous run did not
// have. Without history (no Change) every problem is new.
func isNewProblem(h *result.Host) bool {
	if h.Status == result.Healthy {
		return false
	}
	if h.Change == nil {
		return true
	}
	switch h.Change.Kind {
	case result.ChangeNew, result.ChangeDifferent, result.ChangeFirst:
		return true
	}
	return false
}

// Write replaces path with the tally's metrics. ok says the run
// completed; when it did not, the last success time is kept from the
// file it replaces.
func Write(path string, t *Tally, ok bool, now time.Time) error {
	var b bytes.Buffer
	t.Render(&b, ok, now, previousSuccess(path))
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil { // node_exporter runs as its own user
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Render writes the metrics. prev is the last success time already known
// (0: none).
func (t *Tally) Render(w io.Writer, ok bool, now time.Time, prev float64) {
	gauge := func(name, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("whyoffline_hosts", "Hosts the last run scanned, by status.")
	for _, s := range []result.Status{result.Healthy, result.Diagnosed, result.Unreachable, result.Error} {
		fmt.Fprintf(w, "whyoffline_hosts{status=%q} %d\n", s, t.status[s])
	}
	gauge("whyoffline_cause_hosts", "Hosts of the last run with each offline cause (a host may have several).")
	labels(w, "whyoffline_cause_hosts", "cause", t.causes)
	gauge("whyoffline_error_hosts", "Hosts of the last run that could not be judged, by error kind.")
	labels(w, "whyoffline_error_hosts", "kind", t.kinds)
	gauge("whyoffline_fleet_findings", "Fleet-wide findings of the last run, by ID.")
	labels(w, "whyoffline_fleet_findings", "finding", t.findings)
	gauge("whyoffline_skipped_hosts", "Inventory hosts the last run did not scan (reached in a way whyoffline cannot use).")
	fmt.Fprintf(w, "whyoffline_skipped_hosts %d\n", t.skipped)
	gauge("whyoffline_new_problem_hosts", "Hosts with a problem the previous run did not have (all problems without --state-dir history).")
	fmt.Fprintf(w, "whyoffline_new_problem_hosts %d\n", t.newProblems)
	gauge("whyoffline_run_duration_seconds", "How long the last run took.")
	fmt.Fprintf(w, "whyoffline_run_duration_seconds %s\n", num(t.duration.Seconds()))
	gauge("whyoffline_last_run_timestamp_seconds", "When the last run ended, in seconds since the epoch.")
	fmt.Fprintf(w, "whyoffline_last_run_timestamp_seconds %s\n", num(float64(now.UnixMilli())/1000))
	gauge("whyoffline_last_run_success", "1 when the last run completed (not interrupted, not failed).")
	success := 0
	if ok && t.ended {
		success = 1
		prev = float64(now.UnixMilli()) / 1000
	}
	fmt.Fprintf(w, "whyoffline_last_run_success %d\n", success)
	if prev > 0 {
		gauge(lastSuccess, "When the last completed run ended, in seconds since the epoch.")
		fmt.Fprintf(w, "%s %s\n", lastSuccess, num(prev))
	}
}

// labels writes one sample per label value, sorted; label values are
// escaped as the text format requires.
func labels(w io.Writer, name, label string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	for _, k := range keys {
		fmt.Fprintf(w, "%s{%s=\"%s\"} %d\n", name, label, esc.Replace(k), m[k])
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// previousSuccess reads the last success time from the file being
// replaced (0 when there is none, or it is not ours).
func previousSuccess(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), lastSuccess+" "); ok {
			if t, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && t > 0 {
				return t
			}
		}
	}
	return 0
}
