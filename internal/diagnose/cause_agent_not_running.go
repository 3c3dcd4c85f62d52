package diagnose

import (
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

func init() {
	register(Cause{
		ID:    result.AgentNotRunning,
		Title: "Agent installed but not running",
		Rank:  40,
		Needs: []string{"agent.installed", "agent.process"},
		Uses:  []string{"agent.service", "agent.service.tool", "agent.service.detail"},
		Rule:  agentNotRunning,
		Remedy: `Start the agent: systemctl start ds_agent (or service ds_agent start), then read
/var/log/ds_agent/ds_agent.log for why it stopped.{{if .Detail}} {{.Detail}}{{end}}`,
		RemedyOS: map[string]string{
			"solaris": `Start the agent: svcadm clear svc:/application/ds_agent:default if it is in maintenance,
else svcadm enable svc:/application/ds_agent:default; svcs -x ds_agent tells why it
stopped.{{if .Detail}} {{.Detail}}{{end}}`,
			"aix": `Start the agent: startsrc -s ds_agent; then read /var/log/ds_agent/ds_agent.log for why it
stopped.{{if .Detail}} {{.Detail}}{{end}}`,
			"windows": `Start the "Trend Micro Deep Security Agent" service (services.msc or Start-Service
ds_agent) and set it to Automatic; the System event log (Service Control Manager, events
7031/7034/7000) tells why it stopped.{{if .Detail}} {{.Detail}}{{end}}`,
		},
	})
}

// serviceHints explain a service state in the remedy.
var serviceHints = map[string]string{
	"disabled":    "The service is disabled: enable it so it starts at boot.",
	"offline":     "SMF holds it offline while it waits for a dependency: svcs -x names the one that is not online.",
	"maintenance": "SMF put it in maintenance after its start method failed: read the service log svcs -x points to, fix the cause, then svcadm clear.",
}

func agentNotRunning(in *Input, o *Options) *Finding {
	inst, known := installed(in.Facts)
	run, runKnown := running(in.Facts)
	if !runKnown || run || (known && !inst) {
		return nil
	}
	ev := []string{"no ds_agent process"}
	svc := in.Facts.Get("agent.service")
	if svc != "" && svc != "unknown" {
		s := "service ds_agent: " + svc
		if tool := in.Facts.Get("agent.service.tool"); tool != "" && tool != "none" {
			s += " (" + tool + ")"
		}
		ev = append(ev, s)
	}
	if d := in.Facts.List("agent.service.detail"); len(d) > 0 {
		ev = append(ev, strings.Join(d, " "))
	}
	return &Finding{Confidence: result.Confirmed, Evidence: ev, Detail: serviceHints[svc]}
}
