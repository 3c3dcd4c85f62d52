package ssh

import (
	"fmt"
	"strings"

	"github.com/google/shlex"

	"github.com/whyoffline/whyoffline/internal/inventory"
)

// Options are the inventory settings the SSH transport takes, with the
// Ansible variables that set them. The inventory stores them raw; this
// transport alone says what they mean.
func Options() []inventory.OptionSpec {
	return []inventory.OptionSpec{
		{
			Key:     "key_file",
			Ansible: []string{"ansible_ssh_private_key_file", "ansible_private_key_file"},
			Check:   inventory.AnyText,
		},
		// Ansible inventories give these inside the ssh arguments (-J,
		// -o Name=value); other arguments there are not ours to apply.
		fromSSHArgs("proxy_jump", "ProxyJump", checkJumpList),
		// OpenSSH's ProxyCommand: run on the bastion, its stdin and
		// stdout are the connection (%h %p %r %n are expanded).
		fromSSHArgs("proxy_command", "ProxyCommand", checkProxyCommand),
		fromSSHArgs("certificate_file", "CertificateFile", inventory.AnyText),
		{
			Key:     "identities_only",
			Ansible: sshArgs,
			FromAnsible: func(_, v string) (string, bool) {
				switch strings.ToLower(sshOption(v, "IdentitiesOnly")) {
				case "yes":
					return "true", true
				case "no":
					return "false", true
				}
				return "", false
			},
			Check: inventory.Boolean,
		},
		{
			Key:     "ssh_legacy",
			Ansible: []string{"whyoffline_ssh_legacy"},
			Check:   inventory.Boolean,
		},
	}
}

// sshArgs are the Ansible variables that carry extra ssh arguments.
var sshArgs = []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"}

// fromSSHArgs is option key, set by ssh option name inside Ansible's ssh
// arguments.
func fromSSHArgs(key, name string, check func(string) (string, error)) inventory.OptionSpec {
	return inventory.OptionSpec{
		Key:     key,
		Ansible: sshArgs,
		FromAnsible: func(_, v string) (string, bool) {
			o := sshOption(v, name)
			return o, o != ""
		},
		Check: check,
	}
}

// checkJumpList accepts a ProxyJump value: "none", or a comma-separated
// chain of [user@]host[:port].
func checkJumpList(v string) (string, error) {
	if strings.EqualFold(v, "none") {
		return "", nil
	}
	for _, spec := range strings.Split(v, ",") {
		if _, err := parseJump(strings.TrimSpace(spec)); err != nil {
			return "", fmt.Errorf("is not a jump host list ([user@]host[:port],...)")
		}
	}
	return v, nil
}

// checkProxyCommand accepts a command line ("none" unsets it).
func checkProxyCommand(v string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "none") {
		return "", nil
	}
	if strings.ContainsAny(v, "\x00\r\n") {
		return "", fmt.Errorf("is not a one-line command")
	}
	return v, nil
}

// hostOptions are one host's SSH options, interpreted.
type hostOptions struct {
	keyFile        string
	proxyJump      string
	proxyCommand   string
	certFile       string
	identitiesOnly bool
	legacy         bool
}

// optionsOf reads h's SSH options; a value the inventory did not check
// (a host built in code) is checked here, its error naming where it was
// set.
func optionsOf(h *inventory.Host) (hostOptions, error) {
	var o hostOptions
	err := h.ReadOptions(Options(), func(key, v string) {
		switch key {
		case "key_file":
			o.keyFile = v
		case "proxy_jump":
			o.proxyJump = v
		case "proxy_command":
			o.proxyCommand = v
		case "certificate_file":
			o.certFile = v
		case "identities_only":
			o.identitiesOnly = v == "true"
		case "ssh_legacy":
			o.legacy = v == "true"
		}
	})
	return o, err
}

// sshOption finds option name (ProxyJump, ProxyCommand) in ssh command
// line arguments as Ansible passes them (ansible_ssh_common_args): split
// the way a shell would, "-o Name=value", "-o 'Name value'", "-oName=value",
// and for ProxyJump also "-J host". OpenSSH keeps an option's first value.
func sshOption(args, name string) string {
	f, err := shlex.Split(args)
	if err != nil {
		f = strings.Fields(args)
	}
	for i := 0; i < len(f); i++ {
		a := f[i]
		switch {
		case name == "ProxyJump" && a == "-J" && i+1 < len(f):
			return f[i+1]
		case name == "ProxyJump" && strings.HasPrefix(a, "-J") && len(a) > 2:
			return a[2:]
		case a == "-o" && i+1 < len(f):
			i++
			if v, ok := optionValue(f[i], name); ok {
				return v
			}
		case strings.HasPrefix(a, "-o"):
			if v, ok := optionValue(a[2:], name); ok {
				return v
			}
		}
	}
	return ""
}

// optionValue reads "Name=value" or "Name value" (ssh -o takes both).
func optionValue(o, name string) (string, bool) {
	o = strings.TrimSpace(o)
	i := strings.IndexAny(o, "= \t")
	if i < 0 || !strings.EqualFold(o[:i], name) {
		return "", false
	}
	v := strings.TrimLeft(o[i:], " \t")
	v = strings.TrimPrefix(v, "=")
	return strings.TrimSpace(v), true
}
