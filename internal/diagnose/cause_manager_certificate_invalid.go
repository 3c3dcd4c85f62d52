package diagnose

import (
	"fmt"
	"sort"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// manager-certificate-invalid (fleet): the certificate the manager
// presents on the heartbeat port, seen from the bastion, is expired, not
// yet valid, or (with --state-dir) not the one the previous run saw.
// Hosts whose agent logs show TLS errors are listed with it: they are
// what the certificate explains.
func init() {
	register(Cause{
		ID:        result.FleetManagerCert,
		Title:     "The manager's certificate is invalid or changed",
		Rank:      1005,
		Fleet:     true,
		FleetRule: managerCertificate,
		Remedy: `{{.Detail}}. Agents keep the manager's certificate from their activation: renew or restore it on
{{.Manager}} ("Replace the Deep Security Manager TLS certificate"), and if it was replaced on purpose,
reactivate the agents that now fail TLS (dsa_control -r, then dsa_control -a dsm://{{.Manager}}:{{.Port}}/).`,
	})
}

func managerCertificate(in *FleetInput, o *Options) []result.Finding {
	mp := in.Probe
	if mp == nil || mp.Cert == nil {
		return nil
	}
	c, now := mp.Cert, mp.Now
	var what string
	switch {
	case now.After(c.NotAfter):
		what = fmt.Sprintf("expired on %s", c.NotAfter.UTC().Format("2006-01-02"))
	case now.Before(c.NotBefore):
		what = fmt.Sprintf("not valid before %s", c.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	case mp.PreviousCert != nil && mp.PreviousCert.Fingerprint != c.Fingerprint:
		what = fmt.Sprintf("changed since the last run (was SHA-256 %.16s…, now %.16s…)", mp.PreviousCert.Fingerprint, c.Fingerprint)
	default:
		return nil
	}
	var hosts []string
	for _, d := range in.Digests {
		if d.TLSErrors {
			hosts = append(hosts, d.Name)
		}
	}
	sort.Strings(hosts)
	detail := fmt.Sprintf("the certificate %s:%d presents (%s) %s", mp.Host, mp.Port, textsafe.Line(c.Subject, 120), what)
	if len(hosts) > 0 {
		detail += fmt.Sprintf("; %d host(s) log TLS errors", len(hosts))
	}
	return []result.Finding{{
		ID: result.FleetManagerCert, Evidence: textsafe.Line(detail, maxEvidence),
		Remedy: o.remedy(result.FleetManagerCert, "", RemedyVars{Manager: o.managerName(""), Port: o.Port, Detail: detail}),
		Ref:    result.FleetManagerCert, Hosts: hosts,
	}}
}
