package history

import (
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

// Previous is what the last run said of each host, by lower-cased name:
// all a new run needs to tell what changed, a few dozen bytes a host.
type Previous struct {
	at      time.Time
	hosts   map[string]prevHost
	cert    *result.CertInfo
	manager *result.Manager
}

// ManagerCert is the certificate the previous run saw on the manager at
// host:port (nil: none, another manager, or no previous run).
func (p *Previous) ManagerCert(host string, port int) *result.CertInfo {
	if p == nil || p.manager == nil || !strings.EqualFold(p.manager.Host, host) || p.manager.Port != port {
		return nil
	}
	return p.cert
}

type prevHost struct {
	problems string // "" when healthy
	status   result.Status
	since    time.Time
}

// Index keeps what Annotate needs of run (nil: no previous run).
func Index(run *result.Run) *Previous {
	if run == nil {
		return nil
	}
	p := &Previous{at: run.Started, hosts: make(map[string]prevHost, len(run.Hosts)), cert: run.ManagerCert, manager: run.Manager}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		ph := prevHost{problems: problems(h), status: h.Status}
		if h.Change != nil && h.Change.Since != nil {
			ph.since = *h.Change.Since
		} else if ph.problems != "" {
			ph.since = run.Started
		}
		p.hosts[strings.ToLower(h.Name)] = ph
	}
	return p
}

// problems is a host's problems as one comparable string: its status
// and cause IDs or error kind ("" when healthy).
func problems(h *result.Host) string {
	if h.Status == result.Healthy {
		return ""
	}
	ids := []string{string(h.Status)}
	for _, c := range h.Causes {
		ids = append(ids, c.ID)
	}
	if h.Error != nil {
		ids = append(ids, string(h.Error.Kind))
	}
	return strings.Join(ids, " ")
}

// Annotate sets h.Change against the previous run; now is this run's
// start (the first-seen date of a new problem).
func (p *Previous) Annotate(h *result.Host, now time.Time) {
	if p == nil {
		return
	}
	cur := problems(h)
	prev, ok := p.hosts[strings.ToLower(h.Name)]
	c := &result.Change{}
	switch {
	case !ok:
		c.Kind = result.ChangeFirst
		if cur != "" {
			c.Since = &now
		}
	case prev.problems == "" && cur == "":
		c.Kind = result.ChangeSame
	case prev.problems == "":
		c.Kind, c.Since = result.ChangeNew, &now
	case cur == "":
		c.Kind = result.ChangeFixed
	case prev.problems == cur:
		since := prev.since
		c.Kind, c.Since = result.ChangeStill, &since
	default:
		c.Kind, c.Since = result.ChangeDifferent, &now
	}
	if ok {
		c.Previous = strings.Replace(prev.problems, " ", ": ", 1)
		if c.Previous == "" {
			c.Previous = string(result.Healthy)
		}
	}
	h.Change = c
}
