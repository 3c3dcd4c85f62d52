package inventory

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/become"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/vault"
)

// ansibleHosts resolves an Ansible source's hosts as Ansible does: each
// host's variables are merged first — the all group, then groups by depth,
// ansible_group_priority and name, then the host's own lines in file
// order — and only then read as connection settings, where a setting
// named by several variables takes the last of Ansible's list that is
// defined at any level (ansible_ssh_host over ansible_host, whichever
// group set it). A host Ansible would reach in a way whyoffline cannot is
// skipped with the reason, not a reason to refuse the file.
func (s *source) ansibleHosts(order []string, members map[string]*member, depth map[string]int) ([]*Host, []Skipped, error) {
	notes, err := s.loadVarsLayers(s.bases, order, s.vault)
	if err != nil {
		return nil, nil, err
	}
	s.notes = append(s.notes, notes...)
	hosts := make([]*Host, 0, len(order))
	var skipped []Skipped
	// hosts listed in the same groups share the merged group vars
	merged := map[string]vars{}
	opened := map[string]string{} // vaulted text → plaintext, decrypted once a run
	for _, name := range order {
		m := members[name]
		if len(m.groups) == 1 && m.groups["all"] {
			// Ansible puts a host of no other group in ungrouped (whose
			// group_vars then apply)
			m.groups["ungrouped"] = true
		}
		key := strings.Join(m.via, "\x00")
		gv, ok := merged[key]
		if !ok {
			gv = s.groupVars(m.groups, depth)
			merged[key] = gv
		}
		vs := make(vars, len(gv)+4)
		for k, v := range gv {
			vs[k] = v
		}
		for _, e := range m.entries {
			for k, v := range e.vars {
				vs[k] = v
			}
		}
		for _, layer := range s.hostLayers[name] {
			for k, v := range layer {
				vs[k] = v
			}
		}
		source := s.fileOfEntry(m.entries[0]) + ":" + strconv.Itoa(m.entries[0].line)
		h, err := s.ansibleHost(name, vs, opened)
		var skip skipHost
		switch {
		case errors.As(err, &skip):
			var g Host // its groups as a host's: sorted, without all and ungrouped
			for grp := range m.groups {
				g.addGroup(grp)
			}
			skipped = append(skipped, Skipped{Name: name, Source: source, Reason: string(skip), Groups: g.Groups})
			continue
		case err != nil:
			return nil, nil, err
		}
		h.Source = source
		for g := range m.groups {
			h.addGroup(g)
		}
		hosts = append(hosts, h)
	}
	return hosts, skipped, nil
}

// skipHost: the host is left out of the scan, for this reason.
type skipHost string

func (s skipHost) Error() string { return string(s) }

// groupVars merges group variables in Ansible's precedence: the all
// group's and then each group's vars from the inventory sources (by
// depth, ansible_group_priority and name); then group_vars/all of each -i
// source's directory, then each directory's other group_vars in the same
// group order.
func (s *source) groupVars(groups map[string]bool, depth map[string]int) vars {
	out := vars{}
	for k, v := range s.defaults {
		out[k] = v
	}
	ordered := s.orderGroups(groups, depth)
	for _, g := range ordered {
		for k, v := range s.groups[g].vars {
			out[k] = v
		}
	}
	// Ansible's VARIABLE_PRECEDENCE: group_vars/all of every source
	// (all_plugins_inventory), then each source's other groups
	// (groups_plugins_inventory) — source by source, not group by group
	apply := func(g string, layer int) {
		if ls := s.groups[g].layers; layer < len(ls) {
			for k, v := range ls[layer] {
				out[k] = v
			}
		}
	}
	for layer := 0; layer < s.layers; layer++ {
		apply("all", layer)
	}
	for layer := 0; layer < s.layers; layer++ {
		for _, g := range ordered {
			if g != "all" {
				apply(g, layer)
			}
		}
	}
	return out
}

// connections are the ansible_connection values (and whyoffline's own
// transport: values) each transport speaks, by name without the
// ansible.builtin./ansible.windows. collection prefix: psrp is PowerShell
// over the same WS-Management endpoint as winrm. One table, so the
// Ansible reader and the own format cannot disagree.
var connections = map[string]string{
	"ssh": SSH, "smart": SSH, "paramiko": SSH, "paramiko_ssh": SSH, "openssh": SSH,
	"winrm": WinRM, "psrp": WinRM,
}

// Connections is the connection-name table (a copy): name -> transport.
func Connections() map[string]string { return maps.Clone(connections) }

// transportFor is the transport a connection value names.
func transportFor(conn string) (string, bool) {
	c := strings.ToLower(strings.TrimSpace(conn))
	c = strings.TrimPrefix(strings.TrimPrefix(c, "ansible.builtin."), "ansible.windows.")
	t, ok := connections[c]
	return t, ok
}

// ansibleHost reads one host's merged Ansible variables, or says why the
// host is skipped. opened caches decrypted vault values for the run.
func (s *source) ansibleHost(name string, vs vars, opened map[string]string) (*Host, error) {
	if sealed, ok := vs[sealedKey]; ok {
		return nil, skipHost(fmt.Sprintf("%s is vault-encrypted and cannot be opened (%s)%s; it may hold this host's connection settings, so the host is not scanned with a guess", sealed.val, vault.ErrNoSecret, s.vaultNote))
	}
	for k, v := range vs {
		if v.file == "" {
			v.file = s.file
			vs[k] = v
		}
	}
	if err := s.openVault(vs, opened); err != nil {
		return nil, err
	}
	if err := s.renderVars(name, vs); err != nil {
		return nil, err
	}
	winrm, err := unusable(vs)
	if err != nil {
		return nil, err
	}
	// a connection plugin reads only its own variables: ansible_ssh_user
	// is nothing to winrm, ansible_winrm_password nothing to ssh
	for k := range vs {
		if _, core := ansibleKeys[k]; !core {
			continue
		}
		sshOnly := strings.HasPrefix(k, "ansible_ssh_")
		winOnly := strings.HasPrefix(k, "ansible_winrm_") || strings.HasPrefix(k, "ansible_psrp_")
		if (winrm && sshOnly) || (!winrm && winOnly) {
			delete(vs, k)
		}
	}
	h := &Host{Name: name, Address: name, Transport: SSH}
	// A host named user@address (Ansible keeps the whole as its name):
	// ssh takes the user from it unless ansible_user sets one.
	destUser, destAddr, hasUser := strings.Cut(name, "@")
	if hasUser {
		if a, _, ok := splitHostPort(destAddr); ok {
			destAddr = a
		}
		h.Address = destAddr
	}
	if err := h.applyAnsible(vs, s.file, s.schema); err != nil {
		var e *Error
		if errors.As(err, &e) {
			// Ansible takes any value here and fails at connect time:
			// the host is skipped, the rest of the file scanned
			return nil, skipHost(e.Error())
		}
		return nil, err
	}
	if hasUser && h.User == "" {
		h.User = destUser
	}
	h.fillDefaults()
	if _, set := h.Options.Get("winrm_scheme"); h.Transport == WinRM && !set {
		// Ansible's rule: HTTPS (5986) unless port 5985 says HTTP
		scheme := "https"
		if h.Port == 5985 {
			scheme = "http"
		}
		h.SetOption("winrm_scheme", scheme, s.file+" (Ansible's default for ansible_connection=winrm)")
	}
	return h, nil
}

// openVault decrypts the vaulted values whyoffline reads — connection
// settings and the variables their templates name — and no others.
// Without a password the host is skipped, saying which value; a wrong
// password is an error: nothing is scanned with a guess.
func (s *source) openVault(vs vars, opened map[string]string) error {
	var templates []string
	for k, v := range vs {
		if v.vault == "" && strings.Contains(v.val, "{{") && s.connectionVar(k) {
			templates = append(templates, v.val)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		v := vs[k]
		if v.vault == "" || v.val != "" {
			continue
		}
		needed := s.connectionVar(k)
		for _, t := range templates {
			needed = needed || strings.Contains(t, k)
		}
		if !needed {
			continue
		}
		plain, ok := opened[v.vault]
		if !ok {
			b, err := s.vault.Decrypt([]byte(v.vault))
			switch {
			case err == vault.ErrNoSecret:
				return skipHost(fmt.Sprintf("%s (%s) is vault-encrypted and %s%s", k, v.where(s.file), vault.ErrNoSecret, s.vaultNote))
			case err != nil:
				return errorf(v.file, v.line, "%s is vault-encrypted: %v", k, err)
			}
			plain = string(b)
			opened[v.vault] = plain
		}
		v.val = plain
		vs[k] = v
	}
	return nil
}

// renderVars renders the templates of the variables whyoffline reads.
func (s *source) renderVars(name string, vs vars) error {
	for k, v := range vs {
		if !strings.Contains(v.val, "{{") || !s.connectionVar(k) {
			continue
		}
		r, ok := renderTemplate(v.val, vs, name)
		if !ok {
			return skipHost(fmt.Sprintf("%s (%s): the template %q needs more than the inventory's variables (whyoffline renders {{ var }}, {{ inventory_hostname }} and | default(...))", k, v.where(s.file), clip(v.val)))
		}
		vs[k] = varValue{val: r, line: v.line}
	}
	return nil
}

// unusable says why whyoffline cannot reach a host the way Ansible would
// (a skipHost error), and whether Ansible reaches it over WinRM. Without
// become, the become method and user are dropped: Ansible uses neither.
func unusable(vs vars) (winrm bool, err error) {
	conn := strings.TrimSpace(vs["ansible_connection"].val)
	t, known := transportFor(conn)
	winrm = t == WinRM
	if conn != "" && !known {
		return false, skipHost(fmt.Sprintf("ansible_connection=%s: whyoffline reaches hosts over ssh or winrm only", clip(conn)))
	}
	if b, ok := parseBool(vs["ansible_become"].val); ok && b {
		if m := strings.TrimSpace(vs["ansible_become_method"].val); m != "" {
			if why := become.WhySkipped(m); why != "" {
				return false, skipHost(textsafe.Line(why, 400))
			}
		}
	} else {
		delete(vs, "ansible_become_method")
		delete(vs, "ansible_become_user")
	}
	for _, k := range []string{"ansible_winrm_transport", "ansible_psrp_auth"} {
		if strings.EqualFold(strings.TrimSpace(vs[k].val), "credssp") {
			return false, skipHost(k + "=credssp: whyoffline's WinRM speaks NTLM, Kerberos and Basic, not CredSSP")
		}
	}
	return winrm, nil
}

// connectionVar reports whether k is a variable whyoffline reads.
func (s *source) connectionVar(k string) bool {
	if _, ok := ansibleKeys[k]; ok {
		return true
	}
	return len(s.schema.ansible(k)) > 0
}
