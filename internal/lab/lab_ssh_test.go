package lab

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/result"
)

// OnlyViaJump: the host drops SSH from the bastion; only a jump host gets
// in, as in a zone reached through its own bastion.
func OnlyViaJump(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A INPUT -p tcp --dport 22 -s "+BastionIP+" -j DROP")
}

// TestLabSSHPaths is the SSH-path lab of issue 11: targets reachable only
// through a jump host, named the ways Ansible inventories and ssh_config
// name it (-J, -o ProxyJump=, -o "ProxyJump x", ProxyCommand with ssh -W,
// Match host), and jump hosts that fail — down, forwarding forbidden, a
// proxy command that gives up — each judged as a jump host (jump-failed),
// never as the target being off; host certificates behind
// @cert-authority (valid, expired), an sshd that takes only user
// certificates, one with a low MaxStartups listed under several names, a
// ForceCommand maintenance host and a sudo limited to listed commands.
func TestLabSSHPaths(t *testing.T) {
	requireLab(t)
	ca, userCA := newLabSigner(t), newLabSigner(t)
	caDir := t.TempDir()
	userCAFile := filepath.Join(caDir, "user_ca.pub")
	if err := os.WriteFile(userCAFile, ssh.MarshalAuthorizedKey(userCA.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	hostCert := func(name string, after, before time.Time) *Host {
		return &Host{Name: name, HostCert: &HostCert{CA: ca, Principals: []string{"{ip}"}, ValidAfter: after, ValidBefore: before, Serial: 42}}
	}
	crowded := &Host{Name: "crowded", SSHDConfig: []string{"MaxStartups 3"}}
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
		// host certificates (known_hosts: @cert-authority only)
		{host: hostCert("cert-valid", now.Add(-time.Hour), now.Add(24*time.Hour)), status: result.Healthy},
		{host: hostCert("cert-expired", now.Add(-48*time.Hour), now.Add(-time.Hour)), status: result.Error, want: []string{string(result.CertificateInvalid)}},
		// an sshd that takes only user certificates from its CA
		{host: &Host{Name: "user-cert-only", SSHDConfig: []string{"TrustedUserCAKeys " + userCAFile, "AuthorizedKeysFile none"}}, status: result.Healthy, extra: "{certkey}"},
		{host: crowded, status: result.Healthy},
		// logins disabled for maintenance: the host's words are quoted
		{host: &Host{Name: "maintenance", SSHDConfig: []string{"ForceCommand echo 'maintenance window until 06:00 UTC: logins disabled (ops-oncall)'"}},
			status: result.Error, want: []string{string(result.ProtocolError)}},
		// sudo allows the scan user only listed commands
		{host: h("sudo-listed", User("ops", false), func(_ *Host, b *HostBuild) { b.Sudoers += "ops ALL=(root) NOPASSWD: /usr/bin/id\n" }),
			status: result.Error, want: []string{string(result.PrivilegeDenied)}, user: "ops", become: true},
	}
	hosts := []*Host{jumpDown}
	for _, s := range sc {
		hosts = append(hosts, s.host)
	}
	l := startLab(t, hosts, nil)

	kh := filepath.Join(l.Dir, "known_hosts_jump")
	var k strings.Builder
	for _, x := range hosts {
		if x.HostKey != nil && x.HostCert == nil {
			k.WriteString(x.KnownHostsLine() + "\n")
		}
	}
	// the certificate hosts are known only through their CA
	k.WriteString("@cert-authority 10.77.* " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey()))) + "\n")
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
	certKey := userCertKey(t, l.Dir, userCA)
	var inv strings.Builder
	fmt.Fprintf(&inv, "[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n\n[lab]\n", l.ClientKeyPath)
	var names []string
	for _, s := range sc {
		names = append(names, s.host.Name)
		fmt.Fprintf(&inv, "%s ansible_host=%s", s.host.Name, s.host.IP)
		switch {
		case s.extra == "{certkey}":
			// the key whose id-cert.pub sits next to it
			fmt.Fprintf(&inv, " ansible_ssh_private_key_file=%s", certKey)
		case s.extra != "":
			fmt.Fprintf(&inv, " ansible_ssh_common_args='%s'", expand.Replace(s.extra))
		}
		if s.user != "" {
			fmt.Fprintf(&inv, " ansible_user=%s", s.user)
		}
		if s.become {
			inv.WriteString(" ansible_become=true")
		}
		inv.WriteString("\n")
	}
	// the crowded sshd under more names than its MaxStartups
	var crowdedNames []string
	for i := 1; i <= 8; i++ {
		n := fmt.Sprintf("crowded-alias-%d", i)
		crowdedNames = append(crowdedNames, n)
		fmt.Fprintf(&inv, "%s ansible_host=%s\n", n, crowded.IP)
	}
	ini := filepath.Join(l.Dir, "jump.ini")
	write(ini, inv.String(), 0o600)

	run, code, _ := scan(t, l, "-i", ini, "--known-hosts", kh, "--manager", ManagerName, "--ssh-config", sshcfg,
		"-l", strings.Join(append(names, crowdedNames...), ","), "-f", "32", "--per-address", "3", "--timeout", "40s", "--connect-timeout", "4s")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")
	byName := hostsByName(run)
	for _, n := range crowdedNames {
		if hs := byName[n]; hs == nil || hs.Status != result.Healthy {
			t.Errorf("%s (one of 8 names on an sshd with MaxStartups 3): %+v", n, hs)
		}
	}
	run.Hosts = run.Hosts[:len(sc)] // the scenarios come first, in inventory order
	checkScenarios(t, run, sc, &table)
	for name, want := range map[string]string{
		"behind-noforward": "does not allow forwarding",
		"behind-jumpdown":  "jump host " + jumpDown.IP,
		"behind-cmd-fails": "gw01: no route to " + byName["behind-cmd-fails"].Address,
		"cert-expired":     "expired on",
		"maintenance":      "maintenance window until 06:00 UTC",
		"sudo-listed":      "ops ALL=(root) NOPASSWD: /bin/sh",
	} {
		hs := byName[name]
		if hs == nil || hs.Error == nil || !strings.Contains(hs.Error.Message, want) || len(hs.Causes) != 0 {
			t.Errorf("%s: want an error saying %q and no cause for the host: %+v %+v", name, want, hs, hs.Error)
			continue
		}
		fmt.Fprintf(&table, "%-22s %s\n", name, hs.Error.Message)
	}
	t.Log(table.String())
}

func newLabSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// userCertKey writes a new key for root with its certificate from ca next
// to it (KEY-cert.pub), as ssh-keygen -s leaves them; it returns KEY.
func userCertKey(t *testing.T, dir string, ca ssh.Signer) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "cert")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	cert := &ssh.Certificate{Key: sshPub, Serial: 1, CertType: ssh.UserCert, KeyId: "scanner", ValidPrincipals: []string{"root"},
		ValidAfter: uint64(time.Now().Add(-time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(24 * time.Hour).Unix()),
		Permissions: ssh.Permissions{Extensions: map[string]string{"permit-pty": ""}}}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_cert")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key+"-cert.pub", ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	return key
}
