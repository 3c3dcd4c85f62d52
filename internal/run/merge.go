package run

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/shard"
)

// checkShard says why run n cannot merge with run 1, if it cannot.
func checkShard(n int, r, first *result.Run, seen map[int]bool) error {
	switch {
	case r.Shard == nil:
		return fmt.Errorf("run %d is not a shard (scan --shard K/N -o json writes one)", n)
	case r.Shard.Count < 1 || r.Shard.Count > shard.MaxCount || r.Shard.Index < 1 || r.Shard.Index > r.Shard.Count:
		// a saved file is untrusted: a count of 50,000,000 would
		// have merge list that many missing shards
		return fmt.Errorf("run %d says it is shard %d of %d: not a shard whyoffline writes (1 ≤ K ≤ N ≤ %d)", n, r.Shard.Index, r.Shard.Count, shard.MaxCount)
	case r.Shard.Count != first.Shard.Count:
		return fmt.Errorf("run %d is shard %d of %d, run 1 one of %d: shards of different splits do not merge", n, r.Shard.Index, r.Shard.Count, first.Shard.Count)
	case r.Shard.Digest != first.Shard.Digest || r.Shard.Fleet != first.Shard.Fleet:
		return fmt.Errorf("run %d scanned another fleet (%d hosts, %s) than run 1 (%d hosts, %s): same inventory, --limit and --from-manager on every shard", n, r.Shard.Fleet, r.Shard.Digest, first.Shard.Fleet, first.Shard.Digest)
	case !sameManager(r.Manager, first.Manager):
		return fmt.Errorf("run %d checked against manager %s, run 1 against %s", n, managerName(r.Manager), managerName(first.Manager))
	case seen[r.Shard.Index]:
		return fmt.Errorf("shard %d/%d given twice (run %d)", r.Shard.Index, r.Shard.Count, n)
	case absDuration(r.Started.Sub(first.Started)) > MaxShardSpread:
		return fmt.Errorf("run %d started %s apart from run 1 (%s, %s): a stale shard from another sweep? run it again, or merge --partial without it",
			n, absDuration(r.Started.Sub(first.Started)).Round(time.Minute), r.Started.UTC().Format(time.RFC3339), first.Started.UTC().Format(time.RFC3339))
	}
	return nil
}

// MaxShardSpread is how far apart the shards of one sweep may start: a
// shard file left from an earlier night (its pod failed tonight) must not
// pass for tonight's.
const MaxShardSpread = 12 * time.Hour

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Merge puts the runs of a sharded sweep (scan --shard K/N, one per
// bastion or pod) back into one run: every host once, sorted by name, the
// summary recounted, fleet findings of every shard kept once. It refuses
// runs that are not shards of one fleet against one manager, a shard given
// twice, and — unless partial — a missing shard.
func Merge(runs []*result.Run, partial bool) (*result.Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("nothing to merge: give the shards' JSON runs")
	}
	first := runs[0]
	if first.Shard == nil {
		return nil, fmt.Errorf("run 1 is not a shard (scan --shard K/N -o json writes one)")
	}
	seen := map[int]bool{}
	out := &result.Run{Schema: result.Schema, Started: first.Started, Finished: first.Finished, Manager: first.Manager, Settings: first.Settings, Fleet: []result.Finding{}}
	findings := map[string]bool{}
	names := map[string]int{}
	skippedSeen := map[string]bool{}
	for i, r := range runs {
		n := i + 1
		if err := checkShard(n, r, first, seen); err != nil {
			return nil, err
		}
		seen[r.Shard.Index] = true
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if r.Finished.After(out.Finished) {
			out.Finished = r.Finished
		}
		for _, f := range r.Fleet {
			key := f.ID + "\x00" + f.Evidence
			if !findings[key] {
				findings[key] = true
				out.Fleet = append(out.Fleet, f)
			}
		}
		for _, sk := range r.Skipped {
			if !skippedSeen[strings.ToLower(sk.Name)] {
				skippedSeen[strings.ToLower(sk.Name)] = true
				out.Skipped = append(out.Skipped, sk)
			}
		}
		for _, h := range r.Hosts {
			if prev, dup := names[strings.ToLower(h.Name)]; dup {
				return nil, fmt.Errorf("host %s is in run %d and run %d: the runs overlap", h.Name, prev, n)
			}
			names[strings.ToLower(h.Name)] = n
			out.Hosts = append(out.Hosts, h)
		}
	}
	if missing := missingShards(seen, first.Shard.Count); len(missing) > 0 && !partial {
		return nil, fmt.Errorf("shards %s of %d are missing: give every shard's run, or --partial to merge what there is", strings.Join(missing, ", "), first.Shard.Count)
	}
	sort.SliceStable(out.Hosts, func(i, j int) bool { return out.Hosts[i].Name < out.Hosts[j].Name })
	for i := range out.Hosts {
		out.Summary.Add(&out.Hosts[i])
	}
	out.Summary.Skipped = len(out.Skipped)
	return out, nil
}

func missingShards(seen map[int]bool, n int) []string {
	var out []string
	for k := 1; k <= n; k++ {
		if !seen[k] {
			out = append(out, fmt.Sprint(k))
		}
	}
	return out
}

func sameManager(a, b *result.Manager) bool {
	if a == nil || b == nil {
		return a == b
	}
	return strings.EqualFold(a.Host, b.Host) && a.Port == b.Port && a.Mode == b.Mode
}

func managerName(m *result.Manager) string {
	if m == nil {
		return "(none)"
	}
	return fmt.Sprintf("%s:%d (%s)", m.Host, m.Port, m.Mode)
}
