package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// manager-unreachable (fleet): the bastion itself cannot resolve or reach
// the manager, so every host's DNS and port findings are suspect.
func init() {
	register(Cause{
		ID:        result.FleetManagerUnreach,
		Title:     "The bastion cannot reach the manager",
		Rank:      1000,
		Fleet:     true,
		FleetRule: managerUnreachable,
		Remedy: `The bastion itself cannot resolve or reach {{.Manager}}:{{.Port}} ({{.Detail}}), so every
host's DNS and port findings are suspect: check the --manager value, the bastion's DNS and
the manager's service before acting on host findings.`,
	})
}

// managerPortHow says what the bastion's connect to the manager saw.
var managerPortHow = map[string]string{
	"refused":     "was refused: nothing listens there (manager service down or wrong port?)",
	"timeout":     "timed out",
	"unreachable": "failed: no route",
	"dns":         "failed: name not resolvable",
}

func managerUnreachable(in *FleetInput, o *Options) []result.Finding {
	mp := in.Probe
	if mp == nil || (mp.ResolveErr == "" && mp.PortState == "open") {
		return nil
	}
	var detail string
	if mp.ResolveErr != "" {
		detail = "cannot resolve " + mp.Host + ": " + mp.ResolveErr
	} else {
		how, ok := managerPortHow[mp.PortState]
		if !ok {
			how = "failed"
		}
		detail = fmt.Sprintf("TCP to %s:%d (%s) %s", mp.Host, mp.Port, strings.Join(mp.Addresses, ", "), how)
	}
	detail = textsafe.Line(detail, maxEvidence)
	return []result.Finding{{
		ID: result.FleetManagerUnreach, Evidence: detail,
		Remedy: o.remedy(result.FleetManagerUnreach, "", RemedyVars{Manager: mp.Host, Port: mp.Port, Detail: detail}),
	}}
}
