package diagnose

import "github.com/whyoffline/whyoffline/internal/result"

func init() {
	register(Cause{
		ID:    result.AgentNotInstalled,
		Title: "No agent on the host",
		Rank:  20,
		Needs: []string{"agent.installed", "agent.process"},
		Uses:  []string{"agent.service"},
		Rule:  agentNotInstalled,
		Remedy: `Install the Deep Security Agent and activate it against {{.Manager}} (agent-initiated
activation), or remove the stale computer from the manager.`,
		RemedyOS: map[string]string{
			"windows": `Install the Deep Security Agent (service ds_agent) and activate it against {{.Manager}}
(agent-initiated activation), or remove the stale computer from the manager.`,
		},
	})
}

// agentWhere is where each OS's checks looked for the agent.
var agentWhere = map[string]string{
	"windows": `service ds_agent, C:\Program Files\Trend Micro\Deep Security Agent`,
	"":        "/opt/ds_agent/ds_agent, package ds_agent/ds-agent",
}

func agentNotInstalled(in *Input, o *Options) *Finding {
	inst, known := installed(in.Facts)
	run, _ := running(in.Facts)
	if !known || inst || run {
		return nil
	}
	where, ok := agentWhere[in.OS]
	if !ok {
		where = agentWhere[""]
	}
	ev := []string{"no agent binary or package (" + where + ")"}
	if in.Facts.Is("agent.service", "absent") {
		ev = append(ev, "no ds_agent service")
	}
	return &Finding{Confidence: result.Confirmed, Evidence: ev}
}
