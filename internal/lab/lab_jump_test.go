package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// OnlyViaJump: the host drops SSH from the bastion; only a jump host gets
// in, as in a zone reached through its own bastion.
func OnlyViaJump(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A INPUT -p tcp --dport 22 -s "+BastionIP+" -j DROP")
}

// TestLabJumpHosts is the SSH-path lab of issue 11: targets reachable only
// through a jump host, named the ways Ansible inventories and ssh_config
// name it (-J, -o ProxyJump=, -o "ProxyJump x", ProxyCommand with ssh -W,
// Match host), and jump hosts that fail — down, forwarding forbidden, a
// proxy command that gives up — each judged as a jump host (jump-failed),
// never as the target being off.
func TestLabJumpHosts(t *testing.T) {
	requireLab(t)
	h := func(name string, faults ...Fault) *Host { return &Host{Name: name, Setup: faults} }
	jumpOK, jumpNoFwd := h("jump-ok"), &Host{Name: "jump-noforward", SSHDConfig: []string{"AllowTcpForwarding no"}}
	jumpDown := &Host{Name: "jump-down", NoSSHD: true}
	behind := func(name string) *Host { return h(name, OnlyViaJump) }
	sc := []scenario{
		{host: jumpOK, status: result.Healthy},
		{host: jumpNoFwd, status: result.Healthy},
		{host: behind("behind-J"), status: result.Healthy, extra: "-J root@{jump-ok}"},
		{host: behind("behind-o-eq"), status: result.Healthy, extra: "-o ProxyJump=root@{jump-ok}"},
		{host: behind("behind-o-space"), status: result.Healthy, extra: `-o "ProxyJump root@{jump-ok}"`},
		{host: behind("behind-cmd"), status: result.Healthy,
			extra: `-o ProxyCommand="ssh -F /dev/null -i {key} -o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes -o BatchMode=yes -W %h:%p root@{jump-ok}"`},
		{host: behind("behind-match"), status: result.Healthy}, // ssh_config: Match host behind-match / ProxyJump
		{host: behind("behind-noforward"), status: result.Error, want: []string{string(result.JumpFailed)}, extra: "-J root@{jump-noforward}"},
		{host: behind("behind-jumpdown"), status: result.Error, want: []string{string(result.JumpFailed)}, extra: "-J root@{jump-down}"},
		{host: behind("behind-cmd-fails"), status: result.Error, want: []string{string(result.JumpFailed)}, extra: `-o ProxyCommand="{dir}/gw-down %h"`},
		// twin: the same host without its jump host is, truthfully, unreachable
		{host: behind("behind-no-jump"), status: result.Unreachable, want: []string{result.HostUnreachable}},
	}
	hosts := []*Host{jumpDown}
	for _, s := range sc {
		hosts = append(hosts, s.host)
	}
	l := startLab(t, hosts, nil)

	kh := filepath.Join(l.Dir, "known_hosts_jump")
	var k strings.Builder
	for _, x := range hosts {
		if x.HostKey != nil {
			k.WriteString(x.KnownHostsLine() + "\n")
		}
	}
	write := func(path, body string, mode os.FileMode) {
		if err := os.WriteFile(path, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(kh, k.String(), 0o600)
	write(filepath.Join(l.Dir, "gw-down"), "#!/bin/sh\necho \"gw01: no route to $1\" >&2\nexit 255\n", 0o755)
	sshcfg := filepath.Join(l.Dir, "ssh_config")
	write(sshcfg, "Match host behind-match\n  ProxyJump root@"+jumpOK.IP+"\n", 0o600)
	expand := strings.NewReplacer("{jump-ok}", jumpOK.IP, "{jump-noforward}", jumpNoFwd.IP, "{jump-down}", jumpDown.IP,
		"{key}", l.ClientKeyPath, "{kh}", kh, "{dir}", l.Dir)
	var inv strings.Builder
	fmt.Fprintf(&inv, "[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n\n[lab]\n", l.ClientKeyPath)
	var names []string
	for _, s := range sc {
		names = append(names, s.host.Name)
		fmt.Fprintf(&inv, "%s ansible_host=%s", s.host.Name, s.host.IP)
		if s.extra != "" {
			fmt.Fprintf(&inv, " ansible_ssh_common_args='%s'", expand.Replace(s.extra))
		}
		inv.WriteString("\n")
	}
	ini := filepath.Join(l.Dir, "jump.ini")
	write(ini, inv.String(), 0o600)

	run, code, _ := scan(t, l, "-i", ini, "--known-hosts", kh, "--manager", ManagerName, "--ssh-config", sshcfg,
		"-l", strings.Join(names, ","), "--timeout", "40s", "--connect-timeout", "4s")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")
	checkScenarios(t, run, sc, &table)
	byName := hostsByName(run)
	for name, want := range map[string]string{
		"behind-noforward": "does not allow forwarding",
		"behind-jumpdown":  "jump host " + jumpDown.IP,
		"behind-cmd-fails": "gw01: no route to " + byName["behind-cmd-fails"].Address,
	} {
		hs := byName[name]
		if hs == nil || hs.Error == nil || !strings.Contains(hs.Error.Message, want) || len(hs.Causes) != 0 {
			t.Errorf("%s: want jump-failed saying %q and no cause for the target: %+v", name, want, hs)
			continue
		}
		fmt.Fprintf(&table, "%-22s %s\n", name, hs.Error.Message)
	}
	t.Log(table.String())
}
