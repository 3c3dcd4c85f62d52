// Package inventory reads every inventory format whyoffline accepts — its own
// YAML, Ansible INI and YAML, plain host lists — into hosts with their
// effective settings. Errors name the file and line and say what to fix.
package inventory

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
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

	KeyFile      string `json:"key_file,omitempty"`
	PasswordEnv  string `json:"password_env,omitempty"`  // name of the environment variable holding the password
	PasswordFile string `json:"password_file,omitempty"` // file holding the password
	Password     Secret `json:"-"`                       // from ansible_password; never printed
	Become       bool   `json:"become,omitempty"`
	BecomeMethod string `json:"become_method,omitempty"` // sudo | pfexec
	ProxyJump    string `json:"proxy_jump,omitempty"`
	SSHLegacy    bool   `json:"ssh_legacy,omitempty"` // allow old kex/ciphers/host keys for this host

	WinRMTransport string `json:"winrm_transport,omitempty"` // ntlm | basic | kerberos
	WinRMScheme    string `json:"winrm_scheme,omitempty"`    // http | https
	CAFile         string `json:"ca_file,omitempty"`
	Insecure       bool   `json:"insecure_skip_verify,omitempty"`
	// Kerberos (winrm_transport: kerberos): the realm (default: the part
	// of user after @), and a keytab or credential cache (default
	// $KRB5CCNAME) instead of a password.
	KrbRealm  string `json:"kerberos_realm,omitempty"`
	KrbKeytab string `json:"kerberos_keytab,omitempty"`
	KrbCCache string `json:"kerberos_ccache,omitempty"`
	// KrbHostname is the name in the host's SPN (HTTP/name) when the
	// address is not it — an IP address, or an alias without an SPN.
	KrbHostname string `json:"kerberos_hostname,omitempty"`

	Timeout time.Duration `json:"timeout,omitempty"` // overrides --timeout for this host

	// Source is where the host was defined: "file:line".
	Source string `json:"source"`

	// setFrom records which settings came from the inventory (rather than
	// defaults), so that ~/.ssh/config fills only the gaps.
	explicit map[string]bool
}

// Explicit reports whether setting key (address, user, port, key_file,
// proxy_jump) was given by the inventory.
func (h *Host) Explicit(key string) bool { return h.explicit[key] }

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
}

// apply sets one of whyoffline's own setting names on h.
func (h *Host) apply(key string, v varValue, file string) error {
	val := strings.TrimSpace(v.val)
	set, ok := setters[key]
	if !ok {
		return errorf(file, v.line, "unknown setting %q%s", clip(key), suggest(key, ownKeys))
	}
	if err := set(h, val); err != nil {
		var n notA
		if errors.As(err, &n) {
			return errorf(file, v.line, "%s: %q is not %s", key, clip(val), string(n))
		}
		return errorf(file, v.line, "%s: %v", key, err)
	}
	if h.explicit == nil {
		h.explicit = map[string]bool{}
	}
	h.explicit[key] = true
	return nil
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
		switch strings.ToLower(v) {
		case SSH, "smart", "paramiko", "openssh":
			h.Transport = SSH
		case WinRM, "psrp":
			h.Transport = WinRM
		default:
			return notA("a transport (ssh or winrm)")
		}
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
	"role":                 text(func(h *Host) *string { return &h.Role }),
	"key_file":             text(func(h *Host) *string { return &h.KeyFile }),
	"password_env":         text(func(h *Host) *string { return &h.PasswordEnv }),
	"password_file":        text(func(h *Host) *string { return &h.PasswordFile }),
	"password":             func(h *Host, v string) error { h.Password = Secret(v); return nil },
	"become":               boolean(func(h *Host) *bool { return &h.Become }),
	"become_method":        oneOf(func(h *Host) *string { return &h.BecomeMethod }, "a become method whyoffline supports (sudo, pfexec)", false, "sudo", "pfexec"),
	"proxy_jump":           text(func(h *Host) *string { return &h.ProxyJump }),
	"ssh_legacy":           boolean(func(h *Host) *bool { return &h.SSHLegacy }),
	"winrm_transport":      oneOf(func(h *Host) *string { return &h.WinRMTransport }, "a WinRM transport (ntlm, basic, kerberos)", true, "ntlm", "basic", "kerberos", "plaintext", "ssl"),
	"winrm_scheme":         oneOf(func(h *Host) *string { return &h.WinRMScheme }, "http or https", true, "http", "https"),
	"ca_file":              text(func(h *Host) *string { return &h.CAFile }),
	"insecure_skip_verify": boolean(func(h *Host) *bool { return &h.Insecure }),
	"kerberos_realm": func(h *Host, v string) error {
		if strings.ContainsAny(v, " \t'\"`$;&|/") {
			return notA("a Kerberos realm like CORP.EXAMPLE.COM")
		}
		h.KrbRealm = strings.ToUpper(v)
		return nil
	},
	"kerberos_keytab": text(func(h *Host) *string { return &h.KrbKeytab }),
	"kerberos_ccache": func(h *Host, v string) error { h.KrbCCache = strings.TrimPrefix(v, "FILE:"); return nil },
	"kerberos_hostname": func(h *Host, v string) error {
		if checkAddress(v) != nil || net.ParseIP(strings.Trim(v, "[]")) != nil {
			return notA("the host's DNS name as registered in its SPN, like web01.corp.example.com")
		}
		h.KrbHostname = v
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

// ownKeys are the settings of whyoffline's own format, for suggestions.
var ownKeys = []string{"address", "port", "user", "transport", "os", "role", "key_file",
	"password_env", "password_file", "become", "become_method", "proxy_jump", "ssh_legacy",
	"winrm_transport", "winrm_scheme", "ca_file", "insecure_skip_verify", "timeout",
	"kerberos_realm", "kerberos_keytab", "kerberos_ccache", "kerberos_hostname"}

// ansibleKeys maps Ansible connection variables to whyoffline settings.
var ansibleKeys = map[string]string{
	"ansible_host":                             "address",
	"ansible_ssh_host":                         "address",
	"ansible_port":                             "port",
	"ansible_ssh_port":                         "port",
	"ansible_user":                             "user",
	"ansible_ssh_user":                         "user",
	"ansible_ssh_private_key_file":             "key_file",
	"ansible_private_key_file":                 "key_file",
	"ansible_connection":                       "transport",
	"ansible_winrm_transport":                  "winrm_transport",
	"ansible_winrm_scheme":                     "winrm_scheme",
	"ansible_winrm_ca_trust_path":              "ca_file",
	"ansible_winrm_realm":                      "kerberos_realm",
	"whyoffline_kerberos_keytab":               "kerberos_keytab",
	"whyoffline_kerberos_ccache":               "kerberos_ccache",
	"ansible_winrm_kerberos_hostname_override": "kerberos_hostname",
	"ansible_become":                           "become",
	"ansible_become_method":                    "become_method",
	"ansible_password":                         "password",
	"ansible_ssh_pass":                         "password",
	"ansible_winrm_password":                   "password",
	"whyoffline_role":                          "role",
	"whyoffline_os":                            "os",
	"whyoffline_ssh_legacy":                    "ssh_legacy",
	"whyoffline_password_env":                  "password_env",
	"whyoffline_timeout":                       "timeout",
	"ansible_winrm_server_cert_validation":     "insecure_skip_verify",
	"ansible_ssh_common_args":                  "proxy_jump",
	"ansible_ssh_extra_args":                   "proxy_jump",
}

// applyAnsible applies Ansible variables; ones whyoffline has no use for
// (application vars, ansible_python_interpreter, ...) are ignored, as
// Ansible inventories carry plenty of those.
func (h *Host) applyAnsible(vs vars, file string) error {
	for _, k := range sortedKeys(vs) {
		v := vs[k]
		own, ok := ansibleKeys[k]
		if !ok {
			switch k {
			case "role", "os":
				own = k // plain vars some teams use; harmless to honour
			default:
				continue
			}
		}
		switch k {
		case "ansible_winrm_server_cert_validation":
			v.val = fmt.Sprint(strings.EqualFold(strings.TrimSpace(v.val), "ignore"))
		case "ansible_ssh_common_args", "ansible_ssh_extra_args":
			j := proxyJumpFromArgs(v.val)
			if j == "" {
				continue
			}
			v.val = j
		case "ansible_connection":
			if strings.EqualFold(v.val, "local") {
				return errorf(file, v.line, "ansible_connection=local: whyoffline scans remote hosts only; give the host's address and ssh or winrm")
			}
		case "ansible_become_method":
			if v.val == "su" || v.val == "runas" || v.val == "doas" {
				return errorf(file, v.line, "ansible_become_method=%s: whyoffline becomes root only with sudo -n or pfexec (it never types a password); use one of those or run without become", clip(v.val))
			}
		}
		if err := h.apply(own, v, file); err != nil {
			return err
		}
	}
	return nil
}

// proxyJumpFromArgs finds a jump host in ssh arguments (-J host or
// -o ProxyJump=host), the usual way Ansible inventories say it.
func proxyJumpFromArgs(args string) string {
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		a := strings.Trim(f[i], `'"`)
		switch {
		case a == "-J" && i+1 < len(f):
			return strings.Trim(f[i+1], `'"`)
		case strings.HasPrefix(a, "-J") && len(a) > 2:
			return a[2:]
		case a == "-o" && i+1 < len(f):
			if j := proxyJumpOption(strings.Trim(f[i+1], `'"`)); j != "" {
				return j
			}
		case strings.HasPrefix(a, "-o"):
			if j := proxyJumpOption(a[2:]); j != "" {
				return j
			}
		}
	}
	return ""
}

func proxyJumpOption(o string) string {
	k, v, ok := strings.Cut(o, "=")
	if ok && strings.EqualFold(strings.TrimSpace(k), "ProxyJump") {
		return strings.TrimSpace(v)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
