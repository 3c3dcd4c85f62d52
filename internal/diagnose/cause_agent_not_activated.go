package diagnose

import (
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

// agent-not-activated: the agent is installed and running, and its own
// status (dsa_query -c GetAgentStatus) shows it bound to no manager — no
// AgentStatus.dsmUrl, or an agentState other than green, yellow or red.
// Judged only when dsa_query answered: without its answer nothing is
// known about activation.
func init() {
	register(Cause{
		ID:    "agent-not-activated",
		Title: "Agent running but not activated (bound to no manager)",
		Rank:  45,
		Needs: []string{"agent.installed", "agent.process"},
		Uses:  []string{"agent.dsa", "agent.state", "agent.dsm_url", "agent.service"},
		Rule:  agentNotActivated,
		Remedy: `Activate the agent against {{.Manager}} with agent-initiated activation:
/opt/ds_agent/dsa_control -a dsm://{{.Manager}}:{{.Port}}/ (add the tenant and token for the
cloud service), or add the computer in the manager and activate it from there.`,
		RemedyOS: map[string]string{
			"windows": `Activate the agent against {{.Manager}} with agent-initiated activation:
"C:\Program Files\Trend Micro\Deep Security Agent\dsa_control.cmd" -a dsm://{{.Manager}}:{{.Port}}/
(add the tenant and token for the cloud service), or add the computer in the manager and
activate it from there.`,
		},
	})
}

// activatedStates are the agentState values of an activated agent.
var activatedStates = map[string]bool{"green": true, "yellow": true, "red": true}

func agentNotActivated(in *Input, o *Options) *Finding {
	inst, _ := installed(in.Facts)
	run, known := running(in.Facts)
	answered, _ := in.Facts.Bool("agent.dsa")
	if !inst || !known || !run || !answered {
		return nil
	}
	state := in.Facts.Get("agent.state")
	noURL := in.Facts.Get("agent.dsm_url") == ""
	notActive := !activatedStates[strings.ToLower(state)]
	if !noURL && !notActive {
		return nil
	}
	var ev []string
	if noURL {
		ev = append(ev, "dsa_query -c GetAgentStatus shows no AgentStatus.dsmUrl")
	}
	if state == "" {
		state = "none"
	}
	ev = append(ev, "AgentStatus.agentState: "+state)
	conf := result.Likely
	if noURL && notActive {
		conf = result.Confirmed
	}
	return &Finding{Confidence: conf, Evidence: ev}
}
