// Package inventory reads every inventory format whyoffline accepts — its own
// YAML, Ansible INI and YAML, plain host lists — into hosts with their
// effective settings. Errors name the file and line and say what to fix.
package inventory

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/become"
	"github.com/whyoffline/whyoffline/internal/result"
)

// Transports.
const (
	SSH   = "ssh"
	WinRM = "winrm"
)

// Secret is a credential read from an inventory (Ansible users keep
// ansible_password in protected or vaulted files). It never prints itself.
type Secret string

func (Secret) String() string                { return "(secret)" }
func (Secret) GoString() string              { return "(secret)" }
func (Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte("(secret)")) }
func (Secret) MarshalText() ([]byte, error)  { return []byte("(secret)"), nil }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a secret was given.
func (s Secret) IsSet() bool { return s != "" }

// Host is one inventory host with its effective settings: host vars over
// child-group vars over parent-group vars over defaults.
type Host struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Port      int      `json:"port,omitempty"` // 0: the transport's default
	User      string   `json:"user,omitempty"`
	Transport string   `json:"transport"`
	OS        string   `json:"os,omitempty"` // "" = detect with uname -s
	Role      string   `json:"role,omitempty"`
	Groups    []string `json:"groups,omitempty"`

	PasswordEnv  string `json:"password_env,omitempty"`  // name of the environment variable holding the password
	PasswordFile string `json:"password_file,omitempty"` // file holding the password
	Password     Secret `json:"-"`                       // from ansible_password; never printed
	Become       bool   `json:"become,omitempty"`
	BecomeMethod string `json:"become_method,omitempty"` // sudo | pfexec | doas | dzdo (internal/become)
	BecomeUser   string `json:"become_user,omitempty"`   // "" = root

	// Options are the transports' own settings (key_file, winrm_scheme,
	// ...), kept raw with their file:line: each transport declares, checks
	// and interprets its own (see OptionSpec).
	Options Options `json:"options,omitempty"`

	Timeout time.Duration `json:"timeout,omitempty"` // overrides --timeout for this host

	// ManagerStatus is what the manager's API says of the host's agent
	// (--from-manager), carried into the reports.
	ManagerStatus string `json:"manager_status,omitempty"`
	// Computer is the manager's record of the host's computer
	// (--from-manager), carried into the reports.
	Computer *result.ManagerComputer `json:"computer,omitempty"`

	// Source is where the host was defined: "file:line".
	Source string `json:"source"`

	// setFrom records which settings came from the inventory (rather than
	// defaults), so that ~/.ssh/config fills only the gaps.
	explicit []string // a handful at most: a slice costs less than a map
}

// Explicit reports whether setting key (address, user, port, or any
// transport option) was given by the inventory, rather than by a default
// or in code (SetOption), so that ssh_config fills only the gaps.
func (h *Host) Explicit(key string) bool {
	for _, k := range h.explicit {
		if k == key {
			return true
		}
	}
	return false
}

// clone copies h, its slices too, so that changing the copy never
// changes h.
func (h *Host) clone() *Host {
	c := *h
	c.Groups = append([]string(nil), h.Groups...)
	c.Options = append(Options(nil), h.Options...)
	c.explicit = append([]string(nil), h.explicit...)
	return &c
}

// BecomeUserOrRoot is the user become runs the checks as.
func (h *Host) BecomeUserOrRoot() string {
	if h.BecomeUser == "" {
		return "root"
	}
	return h.BecomeUser
}

// InGroup reports membership in group g ("all" contains every host).
func (h *Host) InGroup(g string) bool {
	if g == "all" {
		return true
	}
	for _, x := range h.Groups {
		if x == g {
			return true
		}
	}
	return false
}

func (h *Host) addGroup(g string) {
	if g == "" || g == "all" || g == "ungrouped" || h.InGroup(g) {
		return
	}
	h.Groups = append(h.Groups, g)
	sort.Strings(h.Groups)
}

// Manager is manager settings an inventory may carry (own YAML format).
type Manager struct {
	Host string
	Port int
	Mode string
}

// Inventory is the resolved set of hosts from one or more sources.
type Inventory struct {
	Hosts   []*Host
	Manager Manager
	// Skipped are hosts Ansible would reach in a way whyoffline cannot
	// (ansible_connection=local or network_cli, become_method=su, a
	// template it cannot render, a vaulted setting without the
	// password): listed with the reason, never scanned.
	Skipped []Skipped
	// Notes are what the user should know about the sources: a script
	// or plugin config not run (with the pipe that reads it), vars files
	// Ansible ignores. Never fatal.
	Notes []string
}

// Skipped is one host left out of the scan, and why.
type Skipped struct {
	Name   string   `json:"name"`
	Source string   `json:"source"`
	Reason string   `json:"reason"`
	Groups []string `json:"groups,omitempty"` // for --limit
}

// Error is a problem in an inventory file, with the place to fix it.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// validOS lists the values os: may take.
var validOS = map[string]bool{"linux": true, "solaris": true, "aix": true, "windows": true}

// vars is a bag of settings as read from a file, before they are applied.
type vars map[string]varValue

type varValue struct {
	val  string
	line int
	// file is where the value was set when that is not the source's
	// file (a group_vars or host_vars file, another -i source).
	file string
	// vault is the vaulted text of a !vault value; val is empty until
	// it is decrypted.
	vault string
}

// where is the file:line a value was set at, in source s.
func (v varValue) where(file string) string {
	if v.file != "" {
		file = v.file
	}
	return fmt.Sprintf("%s:%d", file, v.line)
}

// apply sets one of whyoffline's own setting names on h: a core setting,
// or an option some transport in schema declares.
func (h *Host) apply(key string, v varValue, file string, schema Schema) error {
	val := strings.TrimSpace(v.val)
	if v.file != "" {
		file = v.file
	}
	if v.vault != "" {
		// a decrypted value is a secret: an error never quotes it
		if err := h.applyChecked(key, v, val, file, schema); err != nil {
			return errorf(file, v.line, "%s: the vault-encrypted value is not one whyoffline accepts for it", key)
		}
		return nil
	}
	return h.applyChecked(key, v, val, file, schema)
}

func (h *Host) applyChecked(key string, v varValue, val, file string, schema Schema) error {
	set, ok := setters[key]
	if !ok {
		spec, ok := schema.spec(key)
		if !ok {
			return errorf(file, v.line, "unknown setting %q%s", clip(key), suggest(key, append(schema.keys(), ownKeys...)))
		}
		norm, err := spec.Check(val)
		if err != nil {
			return errorf(file, v.line, "%s: %q %v", key, clipValue(key, val), err)
		}
		h.SetOption(key, norm, fmt.Sprintf("%s:%d", file, v.line))
		h.markExplicit(key)
		return nil
	}
	if err := set(h, val); err != nil {
		var n notA
		if errors.As(err, &n) {
			return errorf(file, v.line, "%s: %q is not %s", key, clipValue(key, val), string(n))
		}
		return errorf(file, v.line, "%s: %v", key, err)
	}
	h.markExplicit(key)
	return nil
}

func (h *Host) markExplicit(key string) {
	if h.explicit == nil {
		h.explicit = make([]string, 0, 4)
	}
	if !h.Explicit(key) {
		h.explicit = append(h.explicit, key)
	}
}

// setter applies one setting's (trimmed) value to a host.
type setter func(h *Host, val string) error

// notA is a setter's complaint: the value is not what the setting takes.
type notA string

func (n notA) Error() string { return "is not " + string(n) }

// setters are whyoffline's own settings, each with its validation.
var setters = map[string]setter{
	"address": func(h *Host, v string) error {
		if err := checkAddress(v); err != nil {
			return err
		}
		h.Address = v
		return nil
	},
	"port": func(h *Host, v string) error {
		p, ok := parsePort(v)
		if !ok {
			return notA("a port number (1-65535)")
		}
		h.Port = p
		return nil
	},
	"user": func(h *Host, v string) error {
		if err := checkUser(v); err != nil {
			return err
		}
		h.User = v
		return nil
	},
	"transport": func(h *Host, v string) error {
		t, ok := transportFor(v)
		if !ok {
			return notA("a transport (ssh or winrm)")
		}
		h.Transport = t
		return nil
	},
	"os": func(h *Host, v string) error {
		v = strings.ToLower(v)
		if v != "" && !validOS[v] {
			return notA("an OS whyoffline knows (linux, solaris, aix, windows)")
		}
		h.OS = v
		return nil
	},
	"role":          text(func(h *Host) *string { return &h.Role }),
	"password_env":  text(func(h *Host) *string { return &h.PasswordEnv }),
	"password_file": text(func(h *Host) *string { return &h.PasswordFile }),
	"password":      func(h *Host, v string) error { h.Password = Secret(v); return nil },
	"become":        boolean(func(h *Host) *bool { return &h.Become }),
	"become_user": func(h *Host, v string) error {
		if err := checkUser(v); err != nil {
			return err
		}
		h.BecomeUser = v
		return nil
	},
	"become_method": func(h *Host, v string) error {
		m, ok := become.Lookup(v)
		if !ok {
			return notA("a become method whyoffline uses without a prompt (" + strings.Join(become.Names(), ", ") + ")")
		}
		h.BecomeMethod = m.Name
		return nil
	},
	"timeout": func(h *Host, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return notA("a duration like 30s or 2m")
		}
		h.Timeout = d
		return nil
	},
}

func text(field func(*Host) *string) setter {
	return func(h *Host, v string) error { *field(h) = v; return nil }
}

func boolean(field func(*Host) *bool) setter {
	return func(h *Host, v string) error {
		b, ok := parseBool(v)
		if !ok {
			return notA("true or false")
		}
		*field(h) = b
		return nil
	}
}

// oneOf takes one of allowed (compared lower-cased when fold is set).
func oneOf(field func(*Host) *string, what string, fold bool, allowed ...string) setter {
	return func(h *Host, v string) error {
		if fold {
			v = strings.ToLower(v)
		}
		for _, a := range allowed {
			if v == a {
				*field(h) = v
				return nil
			}
		}
		return notA(what)
	}
}

// ownKeys are the core settings of whyoffline's own format, for
// suggestions (transport options come from the schema).
var ownKeys = []string{"address", "port", "user", "transport", "os", "role",
	"password_env", "password_file", "become", "become_method", "become_user", "timeout"}

// ansibleKeys maps Ansible connection variables to whyoffline settings.
var ansibleKeys = map[string]string{
	"ansible_host":            "address",
	"ansible_ssh_host":        "address",
	"ansible_port":            "port",
	"ansible_ssh_port":        "port",
	"ansible_user":            "user",
	"ansible_ssh_user":        "user",
	"ansible_connection":      "transport",
	"ansible_become":          "become",
	"ansible_become_method":   "become_method",
	"ansible_become_user":     "become_user",
	"ansible_password":        "password",
	"ansible_ssh_pass":        "password",
	"ansible_winrm_password":  "password",
	"ansible_winrm_pass":      "password",
	"ansible_psrp_pass":       "password",
	"ansible_psrp_password":   "password",
	"ansible_winrm_host":      "address",
	"ansible_psrp_host":       "address",
	"ansible_winrm_port":      "port",
	"ansible_psrp_port":       "port",
	"ansible_winrm_user":      "user",
	"ansible_psrp_user":       "user",
	"whyoffline_role":         "role",
	"whyoffline_os":           "os",
	"whyoffline_password_env": "password_env",
	"whyoffline_timeout":      "timeout",
}

// applyAnsible applies Ansible variables; ones whyoffline has no use for
// (application vars, ansible_python_interpreter, ...) are ignored, as
// Ansible inventories carry plenty of those.
func (h *Host) applyAnsible(vs vars, file string, schema Schema) error {
	for _, k := range ansibleOrder(vs) {
		v := vs[k]
		own, ok := ansibleKeys[k]
		if ok && strings.TrimSpace(v.val) == "" && v.vault == "" && own != "address" && own != "transport" {
			// ansible_user: "" is unset for Ansible too
			continue
		}
		if !ok {
			switch k {
			case "role", "os":
				own = k // plain vars some teams use; harmless to honour
			default:
				if err := h.applyAnsibleOption(k, v, file, schema); err != nil {
					return err
				}
				continue
			}
		}
		switch k {
		case "ansible_connection":
			if strings.EqualFold(v.val, "local") {
				return errorf(file, v.line, "ansible_connection=local: whyoffline scans remote hosts only; give the host's address and ssh or winrm")
			}
		case "ansible_become_method":
			if why := become.WhySkipped(v.val); why != "" {
				return errorf(file, v.line, "%s", why)
			}
		}
		if err := h.apply(own, v, file, schema); err != nil {
			return err
		}
	}
	return nil
}

// ansibleOrder is vs's keys in the order Ansible's connection plugins
// take them: a plugin's own variant of a variable (ansible_ssh_user,
// ansible_winrm_port) after the plain one (ansible_user, ansible_port),
// so the variant wins as the last of the plugin's list does.
func ansibleOrder(vs vars) []string {
	keys := slices.Sorted(maps.Keys(vs))
	variant := func(k string) bool {
		return strings.HasPrefix(k, "ansible_ssh_") || strings.HasPrefix(k, "ansible_winrm_") || strings.HasPrefix(k, "ansible_psrp_")
	}
	sort.SliceStable(keys, func(i, j int) bool { return !variant(keys[i]) && variant(keys[j]) })
	return keys
}

// applyAnsibleOption sets every transport option Ansible variable k
// carries.
func (h *Host) applyAnsibleOption(k string, v varValue, file string, schema Schema) error {
	for _, spec := range schema.ansible(k) {
		w := v
		if spec.FromAnsible != nil {
			var ok bool
			if w.val, ok = spec.FromAnsible(k, strings.TrimSpace(v.val)); !ok {
				continue
			}
		}
		if err := h.apply(spec.Key, w, file, schema); err != nil {
			return err
		}
	}
	return nil
}
