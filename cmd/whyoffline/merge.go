package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	sweep "github.com/whyoffline/whyoffline/internal/run"
)

func newMergeCmd(e *env) *cobra.Command {
	var output, out string
	var partial bool
	cmd := &cobra.Command{
		Use:   "merge SHARD.json... [-o FORMAT] [--out FILE]",
		Short: "Combine the runs of a sharded sweep (scan --shard K/N) into one report",
		Long: `merge reads the JSON runs of a sweep split with scan --shard K/N (one per
bastion, network zone or pod) and writes one report: every host once,
sorted by name, the summary recounted. Fleet findings the hosts alone
decide (a subnet that cannot reach the manager, a dead resolver, the
manager host under pressure) are found again over the whole fleet; those
that needed the manager probe or --state-dir history come from the shards,
each once.
It refuses runs of different fleets (inventory, --limit) or managers, a
shard given twice, and a missing shard unless --partial.

Exit codes as for scan: 0 every host healthy, 1 some host not, 2 bad input.`,
		Example: `  # three bastions, one shard each, then one report for the ops review
  whyoffline scan -i fleet.ini --shard 1/3 -o json --out shard-1.json   # on bastion 1
  whyoffline merge shard-1.json shard-2.json shard-3.json -o csv --out sweep.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runs := make([]*result.Run, 0, len(args))
			for _, path := range args {
				r, err := readRun(cmd.Context(), path)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
			merged, err := sweep.Merge(runs, partial)
			if err != nil {
				return usageErr("merge: %v", err)
			}
			// a subnet or a resolver spans shards: what the hosts alone
			// decide is found again over the whole fleet
			set, remedies, err := loadChecks("")
			if err != nil {
				return err
			}
			o, err := diagnose.OptionsForRun(merged, set.Causes.Thresholds, remedies)
			if err != nil {
				return usageErr("merge: %v", err)
			}
			if n := diagnose.RefindFromHosts(merged, o); n > 0 {
				fmt.Fprintf(e.stderr, "whyoffline: merge: the fleet findings the hosts decide stay as each shard found them: %d host(s) had a fact hidden as a secret (a password equal to it), and the fleet-wide ones cannot be found again without it\n", n)
			}
			if err := renderRun(e, merged, output, out); err != nil {
				return err
			}
			if !merged.Summary.AllHealthy() {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", report.NamesText()+" (default table)")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE (atomically) instead of stdout")
	cmd.Flags().BoolVar(&partial, "partial", false, "merge even when some shards' runs are missing")
	return cmd
}
