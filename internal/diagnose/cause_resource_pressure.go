package diagnose

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
)

// resource-pressure compares the host's figures with the thresholds of
// causes.yaml (a site may change them).
func init() {
	register(Cause{
		ID:    result.ResourcePressure,
		Title: "Host is under very high resource usage",
		Rank:  140,
		Needs: []string{"cpu.count", "load.1", "mem.available_pct", "fs.used"},
		Uses:  []string{"load.5"},
		Rule:  resourcePressure,
		Remedy: `The host is starved ({{.Detail}}): free disk on the agent's filesystems, stop or move the
load, or add memory/CPU; the agent cannot heartbeat reliably meanwhile.`,
	})
}

func resourcePressure(in *Input, o *Options) *Finding {
	f := ResourceFigures(in.Facts, o.Thresholds)
	if len(f) == 0 {
		return nil
	}
	return &Finding{Confidence: result.Confirmed, Evidence: f, Detail: strings.Join(f, ", ")}
}

// ResourceFigures lists the resource figures over their thresholds.
func ResourceFigures(f facts.Reader, t playbook.Thresholds) []string {
	var out []string
	load, okL := f.Float("load.5")
	if !okL {
		load, okL = f.Float("load.1")
	}
	cpus, okC := f.Float("cpu.count")
	if okL && okC && cpus > 0 && load/cpus >= t.LoadPerCPU {
		out = append(out, fmt.Sprintf("load %.2f on %d CPUs = %.1f per CPU (limit %g)", load, int(cpus), load/cpus, t.LoadPerCPU))
	}
	if m, ok := f.Float("mem.available_pct"); ok && m < t.MemAvailablePct {
		out = append(out, fmt.Sprintf("available memory %.1f%% (limit %g%%)", m, t.MemAvailablePct))
	}
	for _, fs := range f.List("fs.used") {
		pctStr, where, _ := strings.Cut(fs, " ")
		pct, err := strconv.ParseFloat(pctStr, 64)
		if err == nil && pct >= t.FSUsedPct {
			out = append(out, fmt.Sprintf("%s %g%% full (limit %g%%)", where, pct, t.FSUsedPct))
		}
	}
	return out
}
