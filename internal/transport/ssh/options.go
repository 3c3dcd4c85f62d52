package ssh

import (
	"fmt"
	"strings"

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
		{
			Key: "proxy_jump",
			// Ansible inventories name a jump host inside extra ssh
			// arguments; other arguments there are not ours to apply.
			Ansible: []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"},
			FromAnsible: func(_, v string) (string, bool) {
				j := proxyJumpFromArgs(v)
				return j, j != ""
			},
			Check: checkJumpList,
		},
		{
			Key:     "ssh_legacy",
			Ansible: []string{"whyoffline_ssh_legacy"},
			Check:   inventory.Boolean,
		},
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

// hostOptions are one host's SSH options, interpreted.
type hostOptions struct {
	keyFile   string
	proxyJump string
	legacy    bool
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
		case "ssh_legacy":
			o.legacy = v == "true"
		}
	})
	return o, err
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
