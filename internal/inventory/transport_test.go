package inventory

import "testing"

// TestTransportFor: one table of connection names serves the Ansible
// reader and the own format's transport: setting.
func TestTransportFor(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"ssh", SSH, true}, {" SSH ", SSH, true}, {"ansible.builtin.ssh", SSH, true}, {"smart", SSH, true},
		{"paramiko", SSH, true}, {"ansible.builtin.paramiko_ssh", SSH, true},
		{"winrm", WinRM, true}, {"ansible.builtin.winrm", WinRM, true}, {"psrp", WinRM, true}, {"ansible.windows.psrp", WinRM, true},
		{"local", "", false}, {"docker", "", false}, {"community.general.lxd", "", false}, {"", "", false},
	} {
		got, ok := transportFor(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("transportFor(%q) = %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
