package inventory

import "strings"

// Computer is a computer the manager shows offline, as far as choosing
// what to scan goes.
type Computer struct {
	Name    string // its host name at the manager
	Windows bool   // the manager's platform says Windows
	Status  string // the manager's own words for its state ("Managed (Offline)")
}

// ForComputers picks the hosts to scan for the computers the manager shows
// offline: each computer's inventory entry when there is one — the same
// name or address, ignoring case, or the same first label when only one
// entry has it (web01 for web01.corp.example.com) — else a new entry that
// reaches it by its host name (Windows over WinRM). unknown lists the
// computers the inventory did not have; invalid, names that are no host
// name (the manager's data is not trusted any more than a host's).
func ForComputers(hosts []*Host, computers []Computer) (scan []*Host, unknown, invalid []string) {
	exact := map[string]*Host{}
	short := map[string][]*Host{}
	for _, h := range hosts {
		for _, n := range []string{h.Name, h.Address} {
			if n == "" {
				continue
			}
			n = strings.ToLower(n)
			exact[n] = h
			s, _, _ := strings.Cut(n, ".")
			// name and address of one host may share a first label
			if m := short[s]; len(m) == 0 || m[len(m)-1] != h {
				short[s] = append(m, h)
			}
		}
	}
	seen := map[*Host]bool{}
	for _, c := range computers {
		name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(c.Name), "."))
		if name == "" || checkAddress(name) != nil {
			invalid = append(invalid, clip(c.Name))
			continue
		}
		h := exact[name]
		if h == nil {
			s, _, _ := strings.Cut(name, ".")
			if m := short[s]; len(m) == 1 {
				h = m[0]
			}
		}
		if h == nil {
			h = computerHost(name, c.Windows)
			unknown = append(unknown, name)
			exact[name] = h
		}
		if !seen[h] {
			seen[h] = true
			h.ManagerStatus = c.Status
			scan = append(scan, h)
		}
	}
	return scan, unknown, invalid
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
