package diagnose

import (
	"fmt"

	"github.com/whyoffline/whyoffline/internal/result"
)

// one-way-communication is judged only in manager-initiated or
// bidirectional mode, when the agent port was probed from the manager's
// side (a role: manager host, confirmed) or from the bastion (likely).
func init() {
	register(Cause{
		ID:      result.OneWayCommunication,
		Title:   "Only one direction of manager/agent communication works",
		Rank:    100,
		Needs:   []string{"port.result"},
		Applies: func(o *Options) bool { return o.Mode != "" && o.Mode != "agent-initiated" },
		Uses:    []string{"agent.listening", "manager.port", "agent.proxy", "proxy.result"},
		Rule:    oneWayCommunication,
		Remedy: `With manager-initiated or bidirectional communication both directions must work: the
manager must reach the agent on TCP {{.AgentPort}} and the agent the manager on TCP
{{.Port}}.{{if .Detail}} {{.Detail}}{{end}} Where that cannot be made reliable, switch the
computer's policy to agent-initiated communication (Settings > General > Communication
Direction) and use agent-initiated activation.`,
	})
}

func oneWayCommunication(in *Input, o *Options) *Finding {
	if o.Mode == "" || o.Mode == "agent-initiated" || in.AgentPortFromManager == "" {
		return nil
	}
	outbound := in.Facts.Get("port.result")
	if proxied, ok := viaProxy(in.Facts); proxied {
		// the agent's way out is its proxy, judged by proxy-unreachable
		outbound = ""
		if ok {
			outbound = "open"
		}
	}
	inbound := in.AgentPortFromManager
	from := in.AgentPortProbedFrom
	if from == "" {
		from = "the bastion"
	}
	conf := result.Likely
	if from != "the bastion" {
		conf = result.Confirmed
	}
	switch {
	case outbound == "open" && inbound != "open":
		ev := []string{fmt.Sprintf("agent → manager TCP %d works; manager → agent TCP %d from %s: %s", portOf(in, o), o.AgentPort, from, inbound)}
		if l, known := in.Facts.Bool("agent.listening"); known && !l {
			ev = append(ev, fmt.Sprintf("nothing listens on %d on the host", o.AgentPort))
		}
		return &Finding{Confidence: conf, Evidence: ev,
			Detail: fmt.Sprintf("Here the agent reaches the manager but the manager cannot reach the agent on %d.", o.AgentPort)}
	case inbound == "open" && outbound != "" && outbound != "open" && outbound != "unavailable":
		return &Finding{Confidence: conf,
			Evidence: []string{fmt.Sprintf("manager → agent TCP %d works from %s; agent → manager TCP %d: %s", o.AgentPort, from, portOf(in, o), outbound)},
			Detail:   "Here the manager reaches the agent but the agent cannot reach the manager."}
	}
	return nil
}
