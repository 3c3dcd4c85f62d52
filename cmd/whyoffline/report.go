package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/history"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// readRun reads a saved run; a FIFO with no writer or a stalled disk
// gives way to SIGINT.
func readRun(ctx context.Context, path string) (*result.Run, error) {
	return untilDone(ctx, path, func() (*result.Run, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageErr("%s: %v", path, unwrap(err))
		}
		defer f.Close()
		run, err := report.Read(f)
		if err != nil {
			return nil, usageErr("%s: %v", path, err)
		}
		return run, nil
	})
}

// renderRun writes a whole run in a format (-o, else --out's extension,
// else the table: re-rendering a JSON run as JSON is rarely what is meant).
func renderRun(e *env, run *result.Run, output, out string) error {
	format, err := chooseFormat(e, output, out)
	if err != nil {
		return err
	}
	if output == "" && out == "" {
		format = "table"
	}
	dest, err := openOutput(e, out)
	if err != nil {
		return err
	}
	// the run's own columns: change, the manager's record
	writer, err := dest.writerWith(e, format, report.OptionsFor(run))
	if err != nil {
		return dest.finish(usageWrap(err))
	}
	for i := range run.Hosts {
		if err := writer.Host(i, &run.Hosts[i]); err != nil {
			return dest.finish(failed(err))
		}
	}
	if err := writer.End(run); err != nil {
		return dest.finish(failed(err))
	}
	return dest.finish(nil)
}

func newReportCmd(e *env) *cobra.Command {
	var output, out, playbookDir string
	var rediagnose bool
	cmd := &cobra.Command{
		Use:   "report RUN.json [-o FORMAT]",
		Short: "Re-render a saved run (from scan -o json) in another format",
		Long: `report renders a saved run (scan -o json) in another format. With
--rediagnose it first judges every host again from what the scan observed
(its facts and the bastion's probes, kept in the run) with this version's
rules, thresholds and remedies — and a site's --playbooks overlay.`,
		Example: `  whyoffline report run.json -o csv --out review.csv
  whyoffline report run.json            # the table
  whyoffline report --rediagnose run-2026-11-20.json -o json --out rejudged.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := readRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if rediagnose {
				set, remedies, err := loadChecks(playbookDir)
				if err != nil {
					return err
				}
				o, err := diagnose.OptionsForRun(run, set.Causes.Thresholds, remedies)
				if err != nil {
					return usageErr("%s: %v", args[0], err)
				}
				r := diagnose.Rejudge(run, o)
				fmt.Fprintf(e.stderr, "whyoffline: judged again with today's rules: %d host(s) changed\n", r.Changed)
				if r.Hidden > 0 {
					fmt.Fprintf(e.stderr, "whyoffline: %d host(s) kept as scanned, and the fleet findings with them: a fact they were judged by was hidden as a secret (a password equal to it); scan them again to judge them anew\n", r.Hidden)
				}
			}
			return renderRun(e, run, output, out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", report.NamesText()+" (default table)")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE (atomically) instead of stdout")
	cmd.Flags().BoolVar(&rediagnose, "rediagnose", false, "judge the hosts again with this version's rules before rendering")
	cmd.Flags().StringVar(&playbookDir, "playbooks", "", "with --rediagnose: directory whose files overlay the embedded playbooks (thresholds, remedies)")
	return cmd
}

// diffInputs are the two runs diff compares: two files, or the state
// directory's last two runs.
func diffInputs(cmd *cobra.Command, stateDir string, args []string) (*result.Run, *result.Run, error) {
	if len(args) == 2 {
		old, err := readRun(cmd.Context(), args[0])
		if err != nil {
			return nil, nil, err
		}
		cur, err := readRun(cmd.Context(), args[1])
		return old, cur, err
	}
	if len(args) != 0 || stateDir == "" {
		return nil, nil, usageErr("diff takes OLD.json NEW.json, or --state-dir DIR for its last two runs")
	}
	store, err := history.Open(stateDir, buildVersion())
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	runs, err := store.Runs()
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	if len(runs) < 2 {
		return nil, nil, usageErr("--state-dir %s holds %d run(s): diff needs two", stateDir, len(runs))
	}
	old, err := history.Load(runs[len(runs)-2])
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	cur, err := history.Load(runs[len(runs)-1])
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	return old, cur, nil
}

// hostDiff is what changed for one host between two runs.
type hostDiff struct {
	Host     string   `json:"host"`
	Change   string   `json:"change"` // new-host, gone, changed
	Appeared []string `json:"appeared,omitempty"`
	Fixed    []string `json:"fixed,omitempty"`
	Old      string   `json:"old_status,omitempty"`
	New      string   `json:"new_status,omitempty"`
}

// problems lists a host's cause IDs and error kind (as "error:KIND").
func problems(h *result.Host) []string {
	var out []string
	for _, c := range h.Causes {
		out = append(out, c.ID)
	}
	if h.Error != nil {
		out = append(out, "error:"+string(h.Error.Kind))
	}
	return out
}

func diffRuns(old, cur *result.Run) []hostDiff {
	oldBy := map[string]*result.Host{}
	for i := range old.Hosts {
		oldBy[old.Hosts[i].Name] = &old.Hosts[i]
	}
	seen := map[string]bool{}
	var out []hostDiff
	for i := range cur.Hosts {
		h := &cur.Hosts[i]
		seen[h.Name] = true
		o := oldBy[h.Name]
		if o == nil {
			out = append(out, hostDiff{Host: h.Name, Change: "new-host", Appeared: problems(h), New: string(h.Status)})
			continue
		}
		appeared, fixed := setDiff(problems(h), problems(o)), setDiff(problems(o), problems(h))
		if len(appeared) > 0 || len(fixed) > 0 || o.Status != h.Status {
			out = append(out, hostDiff{Host: h.Name, Change: "changed", Appeared: appeared, Fixed: fixed, Old: string(o.Status), New: string(h.Status)})
		}
	}
	for i := range old.Hosts {
		if o := &old.Hosts[i]; !seen[o.Name] {
			out = append(out, hostDiff{Host: o.Name, Change: "gone", Old: string(o.Status)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func newDiffCmd(e *env) *cobra.Command {
	var output, stateDir string
	cmd := &cobra.Command{
		Use:   "diff [OLD.json NEW.json]",
		Short: "Show which causes appeared and which were fixed between two saved runs",
		Long: `diff compares two runs saved with -o json, host by host; with --state-dir
and no files, the directory's last two runs. Exit code 1 when any problem
appeared (handy after a nightly sweep), else 0.`,
		Example: `  whyoffline diff run-2026-11-23.json run-2026-11-24.json
  whyoffline diff --state-dir /var/lib/whyoffline`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, cur, err := diffInputs(cmd, stateDir, args)
			if err != nil {
				return err
			}
			diffs := diffRuns(old, cur)
			appeared := 0
			for _, d := range diffs {
				appeared += len(d.Appeared)
			}
			switch output {
			case "json":
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if diffs == nil {
					diffs = []hostDiff{}
				}
				if err := enc.Encode(diffs); err != nil {
					return failed(err)
				}
			case "", "table":
				if len(diffs) == 0 {
					fmt.Fprintln(e.stdout, "no change")
				}
				for _, d := range diffs {
					line := fmt.Sprintf("%-30s %-9s", textsafe.Line(d.Host, 30), d.Change)
					if d.Old != d.New && d.Old != "" && d.New != "" {
						line += fmt.Sprintf(" %s → %s", d.Old, d.New)
					}
					if len(d.Appeared) > 0 {
						line += "  + " + textsafe.Line(strings.Join(d.Appeared, ", "), 200)
					}
					if len(d.Fixed) > 0 {
						line += "  fixed: " + textsafe.Line(strings.Join(d.Fixed, ", "), 200)
					}
					fmt.Fprintln(e.stdout, line)
				}
			default:
				return usageErr("-o %q: diff prints table or json", output)
			}
			if appeared > 0 {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "table or json")
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "compare the last two runs kept in this state directory (scan --state-dir)")
	return cmd
}
