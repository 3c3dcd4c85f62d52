// Package become owns privilege escalation: which methods whyoffline
// uses (each only in a form that fails instead of asking for a password —
// a sweep has no terminal), how a method runs the script as another user,
// which methods the inventory accepts and why others are skipped, what a
// refusal means and how to fix it, and the read-only question that makes
// a refusal precise (sudo -n -l).
package become

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Method is one way to become root without a prompt.
type Method struct {
	Name    string // the inventory's become_method (Ansible's name)
	Program string // what the become command runs first
	// UserFlag switches to a become_user other than root ("" when the
	// method cannot: pfexec runs with the login user's profiles).
	UserFlag string
	// List asks, read-only, what the user may run without a password
	// ("" when the method has no such question).
	List string
	// Config is where an administrator allows the scan user.
	Config string
}

// methods are the non-interactive methods: sudo -n, pfexec (Solaris
// profiles, never a password), doas -n (OpenBSD's, Linux's OpenDoas),
// dzdo -n (Centrify/Delinea, sudo's options).
var methods = map[string]Method{
	"sudo":   {Name: "sudo", Program: "sudo", UserFlag: "-u", List: "sudo -n -l", Config: "sudoers"},
	"pfexec": {Name: "pfexec", Program: "pfexec", Config: "the user's RBAC profiles (user_attr)"},
	"doas":   {Name: "doas", Program: "doas", UserFlag: "-u", Config: "/etc/doas.conf"},
	"dzdo":   {Name: "dzdo", Program: "dzdo", UserFlag: "-u", List: "dzdo -n -l", Config: "the Centrify/Delinea DirectAuthorize role (dzdo)"},
}

// skipped are become methods Ansible knows that whyoffline does not use,
// and why: each would wait for a password or a terminal.
var skipped = map[string]string{
	"su":         "su asks for the target user's password on a terminal",
	"runas":      "runas is Windows' (WinRM already runs as the login user)",
	"pbrun":      "pbrun (PowerBroker) asks its policy server, which may prompt; it has no mode that fails instead",
	"pmrun":      "pmrun (Privilege Manager) may prompt; it has no mode that fails instead",
	"ksu":        "ksu asks for a Kerberos password",
	"machinectl": "machinectl shell wants a terminal and polkit",
	"enable":     "enable is for network devices",
	"sesu":       "sesu (CA Privileged Access Manager) asks for a password",
}

// Lookup returns the method named (Ansible's fully-qualified names too).
func Lookup(name string) (Method, bool) {
	m, ok := methods[short(name)]
	return m, ok
}

// Names are the methods the inventory accepts, sorted.
func Names() []string {
	out := make([]string, 0, len(methods))
	for n := range methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// WhySkipped says why a host with become method name is skipped ("" when
// whyoffline uses it).
func WhySkipped(name string) string {
	n := short(name)
	if len(n) > 40 {
		n = n[:40] + "…"
	}
	if _, ok := methods[n]; ok {
		return ""
	}
	if why, ok := skipped[n]; ok {
		return fmt.Sprintf("ansible_become_method=%s: %s; whyoffline becomes root only without a prompt (%s)", n, why, strings.Join(Names(), ", "))
	}
	return fmt.Sprintf("ansible_become_method=%s: not a method whyoffline uses without a prompt (%s)", n, strings.Join(Names(), ", "))
}

func short(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range []string{"ansible.builtin.", "community.general."} {
		name = strings.TrimPrefix(name, p)
	}
	return name
}

// AsUser makes a become command run as user (root: unchanged): the
// method's user flag after its non-interactive flag, the user quoted.
func (m Method) AsUser(cmd, user string, quote func(string) string) (string, error) {
	if user == "" || user == "root" {
		return cmd, nil
	}
	if m.UserFlag == "" {
		return "", fmt.Errorf("become_method %s cannot run the checks as %s (it runs with the login user's profiles): set become_user root or use sudo or doas", m.Name, user)
	}
	prefix := m.Program + " -n "
	if !strings.Contains(cmd, prefix) {
		return "", fmt.Errorf("the %s command does not start with %q", m.Name, prefix)
	}
	return strings.Replace(cmd, prefix, prefix+m.UserFlag+" "+quote(user)+" ", 1), nil
}

// Target is the program a become command asks the method to run ("exec
// sudo -n /bin/sh -c ..." → /bin/sh), for the line that allows it.
func (m Method) Target(cmd string) string {
	f := strings.Fields(cmd)
	for i := 0; i+1 < len(f); i++ {
		if f[i] != m.Program && !strings.HasSuffix(f[i], "/"+m.Program) {
			continue
		}
		for j := i + 1; j < len(f); j++ {
			a := f[j]
			switch {
			case a == m.UserFlag && m.UserFlag != "":
				j++ // its argument
			case strings.HasPrefix(a, "-"):
			default:
				return a
			}
		}
	}
	return ""
}

// Reason is what a refusal means.
type Reason string

const (
	NeedsPassword Reason = "needs-password"
	NeedsTTY      Reason = "needs-tty"
	NotAllowed    Reason = "not-allowed"
	NotInstalled  Reason = "not-installed"
	Other         Reason = "other"
)

var (
	ttyRe       = regexp.MustCompile(`(?i)must have a tty|a terminal is required|no tty present|requiretty`)
	notAllowed  = regexp.MustCompile(`(?i)is not allowed to (execute|run)|not in the sudoers file|may not run|operation not permitted|not permitted`)
	notFound    = regexp.MustCompile(`(?i)(command )?not found|no such file or directory`)
	passwordReq = regexp.MustCompile(`(?i)password is required|authentication (failed|required)|a password|account validation failure`)
)

// Classify reads what the method said on stderr when it refused.
func (m Method) Classify(stderr string) Reason {
	switch {
	case ttyRe.MatchString(stderr):
		return NeedsTTY
	case notFound.MatchString(stderr) && strings.Contains(stderr, m.Program):
		return NotInstalled
	case notAllowed.MatchString(stderr):
		return NotAllowed
	case passwordReq.MatchString(stderr):
		return NeedsPassword
	}
	return Other
}

// Fix says how to let user run target through the method, for a reason.
func (m Method) Fix(r Reason, user, target string) string {
	if target == "" {
		target = "/bin/sh"
	}
	switch {
	case r == NotInstalled:
		return fmt.Sprintf("%s is not installed on the host: install it, set another become_method, or scan without become", m.Program)
	case r == NeedsTTY && m.Name == "sudo":
		return fmt.Sprintf("sudo wants a terminal (Defaults requiretty): add \"Defaults:%s !requiretty\" to sudoers, or scan without become", user)
	case m.Name == "sudo":
		return fmt.Sprintf("allow NOPASSWD for the scan user: add \"%s ALL=(root) NOPASSWD: %s\" to sudoers, or scan without become", user, target)
	case m.Name == "doas":
		return fmt.Sprintf("allow it without a password: add \"permit nopass %s as root cmd %s\" to /etc/doas.conf, or scan without become", user, target)
	case m.Name == "pfexec":
		return "give the scan user a profile that grants root (e.g. \"Primary Administrator\"), or scan without become"
	}
	return fmt.Sprintf("let %s run %s without a password in %s, or scan without become", user, target, m.Config)
}
