package inventory

import (
	"fmt"
	"net"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
)

// Computer is a computer the manager shows offline, as far as choosing
// what to scan goes.
type Computer struct {
	Name        string // its host name at the manager
	DisplayName string
	LastIP      string // the last IP address the agent used
	InstanceID  string // its cloud instance ID, when the manager has one
	Windows     bool   // the manager's platform says Windows
	Status      string // the manager's own words for its state ("Managed (Offline)")
	// Record is what the reports keep of the manager's record; MatchedBy
	// is filled in when the computer is matched.
	Record *result.ManagerComputer
}

// Matches are the outcome of ForComputers.
type Matches struct {
	Scan      []*Host  // the hosts to scan, in the computers' order
	Unknown   []string // computers the inventory did not have (reached by host name)
	Invalid   []string // computers whose manager host name is no host name
	Ambiguous []string // matches not made, each saying why
}

// ForComputers picks the hosts to scan for the computers the manager shows
// offline. A computer is its inventory entry when exactly one entry has
// its host name, display name, last IP address or instance ID as name or
// address (case ignored); failing those, the one entry with the same
// first label (web01 for web01.corp.example.com). A computer that fits
// several entries is reported as ambiguous and not matched; an entry
// several computers fit is scanned once, without either record. A
// computer no entry fits gets a new entry that reaches it by its host
// name (Windows over WinRM); the manager's data is not trusted any more
// than a host's, so a name that is no host name is left out.
func ForComputers(hosts []*Host, computers []Computer) Matches {
	exact := map[string][]*Host{}
	short := map[string][]*Host{}
	add := func(m map[string][]*Host, k string, h *Host) {
		if l := m[k]; len(l) == 0 || l[len(l)-1] != h {
			m[k] = append(l, h)
		}
	}
	for _, h := range hosts {
		for _, n := range []string{h.Name, h.Address} {
			if n = strings.ToLower(n); n == "" {
				continue
			}
			add(exact, n, h)
			if net.ParseIP(strings.Trim(n, "[]")) == nil { // an address has no short name
				s, _, _ := strings.Cut(n, ".")
				add(short, s, h)
			}
		}
	}
	var out Matches
	byHost := map[*Host][]int{} // inventory host → the computers matched to it
	var order []*Host
	for i, c := range computers {
		name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(c.Name), "."))
		fits, how := candidates(c, name, exact, short)
		switch {
		case len(how) > 1:
			var names []string
			for _, h := range how {
				names = append(names, fmt.Sprintf("%s (by %s)", clip(h.Name), fits[h]))
			}
			out.Ambiguous = append(out.Ambiguous, fmt.Sprintf("computer %s fits %d inventory hosts: %s; not scanned", computerLabel(c), len(how), strings.Join(names, ", ")))
			continue
		case len(how) == 1:
			h := how[0]
			if c.Record != nil {
				c.Record.MatchedBy = fits[h]
			}
			if _, seen := byHost[h]; !seen {
				order = append(order, h)
			}
			byHost[h] = append(byHost[h], i)
			continue
		}
		if name == "" || checkAddress(name) != nil {
			out.Invalid = append(out.Invalid, clip(c.Name))
			continue
		}
		h := computerHost(name, c.Windows)
		if c.Record != nil {
			c.Record.MatchedBy = "manager"
		}
		out.Unknown = append(out.Unknown, name)
		add(exact, name, h)
		order = append(order, h)
		byHost[h] = []int{i}
	}
	for _, h := range order {
		idx := byHost[h]
		if len(idx) > 1 {
			var labels []string
			for _, i := range idx {
				labels = append(labels, computerLabel(computers[i]))
			}
			out.Ambiguous = append(out.Ambiguous, fmt.Sprintf("inventory host %s fits %d computers: %s; scanned once, without the manager's record", clip(h.Name), len(idx), strings.Join(labels, ", ")))
		} else {
			c := computers[idx[0]]
			h.ManagerStatus = c.Status
			h.Computer = c.Record
		}
		out.Scan = append(out.Scan, h)
	}
	return out
}

// candidates are the inventory hosts computer c fits, each with how, in
// the order found: by host name, display name, last IP and instance ID
// (exact, case ignored); failing those, by the first DNS label.
func candidates(c Computer, name string, exact, short map[string][]*Host) (map[*Host]string, []*Host) {
	fits, how := map[*Host]string{}, []*Host{}
	for _, k := range []struct{ by, v string }{{"host name", name}, {"display name", c.DisplayName}, {"last IP", c.LastIP}, {"instance ID", c.InstanceID}} {
		v := strings.ToLower(strings.TrimSpace(k.v))
		if v == "" {
			continue
		}
		for _, h := range exact[v] {
			if _, seen := fits[h]; !seen {
				fits[h] = k.by
				how = append(how, h)
			}
		}
	}
	if len(how) == 0 && name != "" && net.ParseIP(name) == nil {
		s, _, _ := strings.Cut(name, ".")
		for _, h := range short[s] {
			fits[h] = "short name"
			how = append(how, h)
		}
	}
	return fits, how
}

func computerLabel(c Computer) string {
	if c.Record != nil {
		return fmt.Sprintf("#%d %s", c.Record.ID, clip(c.Name))
	}
	return clip(c.Name)
}

// computerHost is the entry for a computer no inventory names, built the
// way a host-list line would be.
func computerHost(name string, windows bool) *Host {
	src := newSource("(manager)", false)
	g := src.group("from_manager", 0)
	vs := vars{}
	if windows {
		vs["os"] = varValue{val: "windows"}
		vs["transport"] = varValue{val: "winrm"}
		// a name only the manager gave gets the run's credentials only
		// over TLS with a verified certificate, never NTLM in clear HTTP
		vs["winrm_scheme"] = varValue{val: "https"}
	}
	g.hosts = append(g.hosts, &hostEntry{name: name, vars: vs})
	src.schema = Schema{{Key: "winrm_scheme", Check: AnyText}}
	hosts, _, err := src.resolve()
	if err != nil || len(hosts) != 1 {
		// name passed checkAddress and the vars are fixed: cannot happen
		return &Host{Name: name, Address: name, Transport: SSH}
	}
	return hosts[0]
}
