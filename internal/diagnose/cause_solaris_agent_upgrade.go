package diagnose

import (
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

// solaris-agent-upgrade: Solaris 11, agent 11.x installed, not running,
// and (for confirmation) a 9.0 build before 9.0.0-5616 in the package
// history. A 9.0 agent upgraded straight to 11.0 does not start.
func init() {
	register(Cause{
		ID:    result.SolarisAgentUpgrade,
		Title: "Solaris 11 agent upgraded 9.0 -> 11.0 without 9.0.0-5616",
		Rank:  30,
		OS:    []string{"solaris"},
		// a running agent rules the trap out: version and history only
		// tell a stopped one's story
		Needs:      []string{"os.release", "agent.process"},
		Uses:       []string{"agent.version", "agent.history", "agent.service"},
		Supersedes: []string{result.AgentNotRunning},
		Rule:       solarisAgentUpgrade,
		Remedy: `A 9.0 agent upgraded straight to 11.0 without 9.0.0-5616 or a later 9.0 build first does not
start. Uninstall the agent (pkg uninstall ds-agent), install an 11.0 agent, and reactivate
it against {{.Manager}}.`,
	})
}

func solarisAgentUpgrade(in *Input, o *Options) *Finding {
	if in.OS != "solaris" || in.Facts.Get("os.release") != "5.11" {
		return nil
	}
	run, known := running(in.Facts)
	if !known || run {
		return nil
	}
	ver := in.Facts.Get("agent.version")
	if !strings.HasPrefix(ver, "11.") {
		return nil
	}
	var old []string
	for _, h := range in.Facts.List("agent.history") {
		if isBefore5616(h) {
			old = append(old, h)
		}
	}
	ev := []string{"SunOS 5.11", "installed agent " + ver + ", not running"}
	if len(old) > 0 {
		ev = append(ev, "package history shows 9.0 build(s) before 9.0.0-5616: "+strings.Join(old, ", "))
		return &Finding{Confidence: result.Confirmed, Evidence: ev}
	}
	if len(in.Facts.List("agent.history")) > 0 {
		return nil // history is known and shows no early 9.0 build
	}
	ev = append(ev, "no package history to tell whether it came from an early 9.0 build")
	return &Finding{Confidence: result.Possible, Evidence: ev}
}

// isBefore5616 reports a 9.0 version below build 5616 (9.0.0-1234, 9.0.0.1234).
func isBefore5616(v string) bool {
	if !strings.HasPrefix(v, "9.0") {
		return false
	}
	i := strings.LastIndexAny(v, "-.")
	if i < 0 {
		return false
	}
	b, err := strconv.Atoi(strings.TrimSpace(v[i+1:]))
	return err == nil && b < 5616 && b > 0
}
