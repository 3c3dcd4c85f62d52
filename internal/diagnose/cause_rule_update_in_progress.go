package diagnose

import "github.com/whyoffline/whyoffline/internal/result"

func init() {
	register(Cause{
		ID:    result.RuleUpdateInProgress,
		Title: "A rule/security update is still being applied",
		Rank:  130,
		Needs: []string{"log.rule_update"},
		Uses:  []string{"log.rule_update_line"},
		Rule:  ruleUpdateInProgress,
		Remedy: `The agent log shows a rule or security update that has not finished; connectivity is
interrupted while it applies. Wait a few minutes and scan again; if it never finishes,
restart the agent and check the manager's events for the update.`,
	})
}

func ruleUpdateInProgress(in *Input, o *Options) *Finding {
	if !in.Facts.Is("log.rule_update", "in-progress") {
		return nil
	}
	ev := []string{"the agent log shows an update started and not finished"}
	if l := in.Facts.Get("log.rule_update_line"); l != "" {
		ev = append(ev, "last: "+l)
	}
	return &Finding{Confidence: result.Likely, Evidence: ev}
}
