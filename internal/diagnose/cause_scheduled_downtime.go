package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

// scheduled-downtime (fleet, needs --state-dir): hosts unreachable in
// every night run and reachable in every day run of the recent history
// are switched off on a schedule (test machines, desktops, VDI). The
// vendor's advice: give them a policy whose missed-heartbeat threshold is
// unlimited, instead of chasing them every morning.
func init() {
	register(Cause{
		ID:        result.FleetDowntime,
		Title:     "Hosts that are off every night",
		Rank:      1040,
		Fleet:     true,
		FleetRule: scheduledDowntime,
		Remedy: `{{.Detail}}. Such machines are usually switched off on a schedule (check with their owners that
these are): assign them a policy whose "Number of
Heartbeats that can be missed before an alert is raised" is Unlimited (Policies > Settings > Computer),
so the manager stops reporting them offline, rather than chasing them every morning.`,
	})
}

// minSamples is how many night runs and how many day runs must agree.
const minSamples = 2

// night reports whether a run started at t ran at night on the bastion
// (19:00 to 07:00 local time).
func night(t time.Time) bool {
	h := t.In(time.Local).Hour()
	return h >= 19 || h < 7
}

func scheduledDowntime(in *FleetInput, o *Options) []result.Finding {
	if len(in.Past) == 0 {
		return nil
	}
	current := PastRun{At: in.Now, Status: make(map[string]result.Status, len(in.Digests))}
	for _, d := range in.Digests {
		current.Status[strings.ToLower(d.Name)] = d.Status
	}
	runs := append(append([]PastRun(nil), in.Past...), current)
	nights, days := 0, 0
	for _, r := range runs {
		if night(r.At) {
			nights++
		} else {
			days++
		}
	}
	if nights < minSamples || days < minSamples {
		return nil
	}
	var hosts []string
	for _, d := range in.Digests {
		name := strings.ToLower(d.Name)
		offAtNight, onByDay, against := 0, 0, 0
		for _, r := range runs {
			st, ok := r.Status[name]
			if !ok {
				continue
			}
			switch {
			case night(r.At) && st == result.Unreachable:
				offAtNight++
			case !night(r.At) && st != result.Unreachable:
				onByDay++
			default:
				against++
			}
		}
		if against == 0 && offAtNight >= minSamples && onByDay >= minSamples {
			hosts = append(hosts, d.Name)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	sort.Strings(hosts)
	detail := fmt.Sprintf("%d host(s) were unreachable in every night run (19:00–07:00 on the bastion) and reachable in every day run of the last %d runs", len(hosts), len(runs))
	return []result.Finding{{
		ID: result.FleetDowntime, Evidence: detail,
		Remedy: o.remedy(result.FleetDowntime, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, Detail: detail}),
		Ref:    result.FleetDowntime, Hosts: hosts,
	}}
}
