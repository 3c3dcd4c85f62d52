package winrm

import (
	"net"
	"strings"

	"github.com/whyoffline/whyoffline/internal/inventory"
)

// Options are the inventory settings the WinRM transport takes, with the
// Ansible variables that set them. The inventory stores them raw; this
// transport alone says what they mean (Endpoint derives scheme and port
// from them).
func Options() []inventory.OptionSpec {
	return []inventory.OptionSpec{
		{
			Key:     "winrm_transport",
			Ansible: []string{"ansible_winrm_transport"},
			Check:   inventory.OneOf("a WinRM transport (ntlm, basic, kerberos)", "ntlm", "basic", "kerberos", "plaintext", "ssl"),
		},
		{
			Key:     "winrm_scheme",
			Ansible: []string{"ansible_winrm_scheme"},
			Check:   inventory.OneOf("http or https", "http", "https"),
		},
		{
			Key:     "ca_file",
			Ansible: []string{"ansible_winrm_ca_trust_path"},
			Check:   inventory.AnyText,
		},
		{
			Key:     "insecure_skip_verify",
			Ansible: []string{"ansible_winrm_server_cert_validation"},
			// Ansible's "ignore" is our true; "validate" (its default) false.
			FromAnsible: func(_, v string) (string, bool) {
				return boolWord(strings.EqualFold(v, "ignore")), true
			},
			Check: inventory.Boolean,
		},
		{
			Key:     "kerberos_realm",
			Ansible: []string{"ansible_winrm_realm"},
			Check: func(v string) (string, error) {
				if strings.ContainsAny(v, " \t'\"`$;&|/") {
					return "", errNotA("a Kerberos realm like CORP.EXAMPLE.COM")
				}
				return strings.ToUpper(v), nil
			},
		},
		{
			Key:     "kerberos_keytab",
			Ansible: []string{"whyoffline_kerberos_keytab"},
			Check:   inventory.AnyText,
		},
		{
			Key:     "kerberos_ccache",
			Ansible: []string{"whyoffline_kerberos_ccache"},
			Check:   func(v string) (string, error) { return strings.TrimPrefix(v, "FILE:"), nil },
		},
		{
			Key:     "kerberos_hostname",
			Ansible: []string{"ansible_winrm_kerberos_hostname_override"},
			Check: func(v string) (string, error) {
				if !inventory.IsHostName(v) || net.ParseIP(strings.Trim(v, "[]")) != nil {
					return "", errNotA("the host's DNS name as registered in its SPN, like web01.corp.example.com")
				}
				return v, nil
			},
		},
	}
}

type errNotA string

func (e errNotA) Error() string { return "is not " + string(e) }

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// hostOptions are one host's WinRM options, interpreted.
type hostOptions struct {
	transport, scheme, caFile      string
	insecure                       bool
	krbRealm, krbKeytab, krbCCache string
	krbHostname                    string
}

// optionsOf reads h's WinRM options; a value the inventory did not check
// (a host built in code) is checked here, its error naming where it was
// set.
func optionsOf(h *inventory.Host) (hostOptions, error) {
	var o hostOptions
	err := h.ReadOptions(Options(), func(key, v string) {
		switch key {
		case "winrm_transport":
			o.transport = v
		case "winrm_scheme":
			o.scheme = v
		case "ca_file":
			o.caFile = v
		case "insecure_skip_verify":
			o.insecure = v == "true"
		case "kerberos_realm":
			o.krbRealm = v
		case "kerberos_keytab":
			o.krbKeytab = v
		case "kerberos_ccache":
			o.krbCCache = v
		case "kerberos_hostname":
			o.krbHostname = v
		}
	})
	return o, err
}
