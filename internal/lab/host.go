package lab

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

func (l *Lab) startHost(ctx context.Context, h *Host, i int) error {
	h.dir = filepath.Join(l.Dir, "hosts", h.Name)
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	var err error
	switch {
	case h.ns == l.manager:
		// the manager's own namespace is already on the bridge
	case h.Router != nil:
		err = l.attachBehindRouter(ctx, h)
	default:
		err = l.attach(ctx, h.ns, fmt.Sprintf("vh%d", i), h.IP)
	}
	if err != nil {
		return err
	}
	b := &HostBuild{
		Dir: h.dir, Agent: true, Install: true,
		Resolv:  "nameserver " + ManagerIP + "\noptions timeout:2 attempts:1\n",
		LoadAvg: "0.15 0.10 0.05 1/120 4242\n",
		Hosts:   "127.0.0.1 localhost\n" + h.IP + " " + h.Name + "\n",
		DSMURL:  "https://" + ManagerName + ":4120/",
	}
	for _, f := range h.Setup {
		f(h, b)
	}
	if len(b.Errs) > 0 {
		return b.Errs[0]
	}
	for _, rule := range b.NetRules {
		if _, err := Run(ctx, "ip", append([]string{"netns", "exec", h.ns}, strings.Fields(rule)...)...); err != nil {
			return err
		}
	}
	for _, addr := range b.Listen {
		args := append([]string{"ip", "netns", "exec", h.ns}, l.helper...)
		if err := l.spawn(ctx, append(args, "listen", addr)...); err != nil {
			return err
		}
	}
	if h.Windows != nil {
		args := append([]string{"ip", "netns", "exec", h.ns}, l.helper...)
		args = append(args, "wsman", "addr="+h.IP+":"+h.Windows.Port(), "name="+KerberosName(h),
			"profile="+h.Windows.Profile, "behaviour="+h.Windows.Behaviour)
		if h.Windows.Kerberos {
			name := KerberosName(h)
			args = append(args, "keytab="+l.KDC.ServiceKeytab(name), "spn=HTTP/"+name)
		}
		if h.Windows.HTTPS != "" {
			args = append(args, "tls="+h.Windows.HTTPS, "ca="+h.CAFile())
		}
		return l.spawn(ctx, args...)
	}
	if h.Tarpit {
		args := append([]string{"ip", "netns", "exec", h.ns}, l.helper...)
		return l.spawn(ctx, append(args, "tarpit", h.IP+":22")...)
	}
	if h.NoSSHD {
		return nil
	}
	var priv crypto.PrivateKey
	if h.RSAHostKey {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return err
	}
	h.HostKey, _ = ssh.NewSignerFromKey(priv)
	block, err := ssh.MarshalPrivateKey(priv, h.Name)
	if err != nil {
		return err
	}
	write := func(name, body string, mode os.FileMode) error {
		return os.WriteFile(filepath.Join(h.dir, name), []byte(body), mode)
	}
	cfg := []string{
		"Port 22", "ListenAddress " + h.IP, "HostKey " + filepath.Join(h.dir, "host_key"),
		"PidFile /run/sshd.pid", "AuthorizedKeysFile " + filepath.Join(l.Dir, "keys", "%u"),
		"StrictModes no", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
		"KbdInteractiveAuthentication no", "UsePAM no", "UseDNS no", "MaxStartups 200", "MaxSessions 50",
		"LogLevel ERROR",
	}
	cfg = append(append([]string{}, h.SSHDConfig...), cfg...)
	if hc := h.HostCert; hc != nil {
		var principals []string
		for _, p := range hc.Principals {
			principals = append(principals, strings.ReplaceAll(p, "{ip}", h.IP))
		}
		cert := &ssh.Certificate{Key: h.HostKey.PublicKey(), Serial: hc.Serial, CertType: ssh.HostCert, KeyId: h.Name,
			ValidPrincipals: principals, ValidAfter: uint64(hc.ValidAfter.Unix()), ValidBefore: uint64(hc.ValidBefore.Unix())}
		if err := cert.SignCert(rand.Reader, hc.CA); err != nil {
			return err
		}
		if err := write("host_key-cert.pub", string(ssh.MarshalAuthorizedKey(cert)), 0o644); err != nil {
			return err
		}
		cfg = append(cfg, "HostCertificate "+filepath.Join(h.dir, "host_key-cert.pub"))
	}
	files := []struct {
		name, body string
		mode       os.FileMode
	}{
		{"host_key", string(pem.EncodeToMemory(block)), 0o600},
		{"sshd_config", strings.Join(cfg, "\n") + "\n", 0o644},
		{"resolv.conf", b.Resolv, 0o644},
		{"hosts", b.Hosts, 0o644},
		{"ds_agent.log", strings.Join(b.LogLines, "\n") + "\n", 0o644},
		{"dsa_query", dsaQuery(b.DSMURL, b.AgentStatus), 0o755},
		{"ds_agent.init", initScript, 0o755},
		{"init.sh", initSh(h, b), 0o755},
		{"loadavg", b.LoadAvg, 0o644},
	}
	for _, f := range files {
		if err := write(f.name, f.body, f.mode); err != nil {
			return err
		}
	}
	if len(b.Passwords) > 0 {
		if err := write("pam-sshd", pamSSHD, 0o644); err != nil {
			return err
		}
	}
	if len(b.Users) > 0 {
		if err := writeUsers(h.dir, b); err != nil {
			return err
		}
	}
	cmd, err := l.spawnCmd("ip", "netns", "exec", h.ns, "unshare", "--pid", "--mount", "--uts", "--fork",
		"--mount-proc", "--propagation", "private", "sh", filepath.Join(h.dir, "init.sh"))
	h.unshare = cmd
	return err
}

// dsaQuery is a stand-in for /opt/ds_agent/dsa_query: like the real one it
// answers only while the agent runs.
func dsaQuery(url string, extra []string) string {
	more := ""
	for _, l := range extra {
		more += "echo '" + strings.ReplaceAll(l, "'", "") + "'\n"
	}
	return `#!/bin/sh
[ "$1" = "-c" ] && [ "$2" = "GetAgentStatus" ] || { echo "usage: dsa_query -c GetAgentStatus" >&2; exit 1; }
if ! pidof ds_agent >/dev/null 2>&1; then echo "Failed to communicate with the agent (is ds_agent running?)" >&2; exit 1; fi
` + agentStatusLines(url) + `
echo "AgentStatus.lastCommunication: ` + time.Now().UTC().Format(time.RFC3339) + `"
` + more
}

// agentStatusLines is what dsa_query prints of the agent's binding: an
// activated agent's state and manager, or (url "") a never-activated
// agent's grey state and no dsmUrl.
func agentStatusLines(url string) string {
	if url == "" {
		return "echo \"AgentStatus.agentState: grey\""
	}
	return "echo \"AgentStatus.agentState: green\"\necho \"AgentStatus.dsmUrl: " + url + "\""
}

// AgentProxy: the agent was told to reach the manager through a proxy
// (dsa_control -x dsm_proxy://ADDR/; relay: -y relay_proxy://ADDR/), so
// its status names it.
func AgentProxy(kind, addr string) Fault {
	return func(_ *Host, b *HostBuild) {
		if kind == "relay" {
			b.AgentStatus = append(b.AgentStatus, "AgentStatus.relayProxy: relay_proxy://"+addr+"/")
			return
		}
		b.AgentStatus = append(b.AgentStatus, "AgentStatus.dsmProxy: dsm_proxy://"+addr+"/")
	}
}

// NotActivated: the agent runs but was never activated (or was
// deactivated): its status names no manager.
func NotActivated(_ *Host, b *HostBuild) { b.DSMURL = "" }

// initScript is a read-only SysV init script: status only.
const initScript = `#!/bin/sh
case "$1" in
  status)
    if pidof ds_agent >/dev/null 2>&1; then echo "ds_agent is running"; exit 0; fi
    echo "ds_agent is stopped"; exit 3 ;;
  *) echo "lab: $1 not supported" >&2; exit 1 ;;
esac
`

// initSh is run by unshare inside the host's own pid/mount/uts namespaces:
// it gives the host private /run, /opt, /var/log, /var/opt, /etc/init.d and
// its own resolv.conf and hosts, an empty /root, installs and starts the agent as asked,
// then becomes sshd.
func initSh(h *Host, b *HostBuild) string {
	d := h.dir
	var s []string
	s = append(s, "set -e", "hostname "+h.Name,
		"mount -t tmpfs -o size=16m tmpfs /run", "mkdir -p /run/sshd",
		"mount -t tmpfs -o size=32m tmpfs /opt",
		"mount -t tmpfs -o size=16m tmpfs /var/log", "mkdir -p /var/log/ds_agent",
		"mount -t tmpfs -o size=16m tmpfs /var/opt",
		"mount -t tmpfs -o size=1m tmpfs /etc/init.d",
		"mount -t tmpfs -o size=1m tmpfs /home",
		// the bastion's own root home (its .bashrc, pyenv hooks...) is
		// not this host's: sshd runs the login shell, which reads it
		"mount -t tmpfs -o size=1m,mode=0700 tmpfs /root",
		"mount --bind "+d+"/resolv.conf /etc/resolv.conf",
		"mount --bind "+d+"/hosts /etc/hosts",
		"mount --bind "+d+"/loadavg /proc/loadavg",
	)
	if b.Install {
		s = append(s,
			"mkdir -p /opt/ds_agent /var/opt/ds_agent/diag",
			"cp /usr/bin/sleep /opt/ds_agent/ds_agent",
			"cp "+d+"/dsa_query /opt/ds_agent/dsa_query",
			"cp "+d+"/ds_agent.init /etc/init.d/ds_agent",
			"cp "+d+"/ds_agent.log /var/log/ds_agent/ds_agent.log",
		)
	}
	if len(b.Users) > 0 {
		s = append(s,
			"mount --bind "+d+"/passwd /etc/passwd", "mount --bind "+d+"/group /etc/group",
			"mount --bind "+d+"/shadow /etc/shadow", "mount --bind "+d+"/sudoers /etc/sudoers",
			"mount -t tmpfs -o size=1m tmpfs /etc/sudoers.d",
		)
		if b.DoasConf != "" {
			// the mount point: an empty doas.conf permits nothing
			s = append(s, "[ -e /etc/doas.conf ] || : > /etc/doas.conf", "mount --bind "+d+"/doas.conf /etc/doas.conf")
		}
		for _, u := range b.Users {
			name := strings.SplitN(u, ":", 2)[0]
			s = append(s, "mkdir -p /home/"+name)
		}
	}
	if len(b.Passwords) > 0 {
		s = append(s, "mount --bind "+d+"/pam-sshd /etc/pam.d/sshd")
	}
	s = append(s, b.Init...)
	if len(b.Shims) > 0 {
		// the fakes: over the real command where the machine has one, and
		// on /usr/local/bin, which every PATH the scripts use contains
		for _, n := range b.Shims {
			s = append(s, "for p in /usr/bin/"+n+" /usr/sbin/"+n+"; do if [ -f \"$p\" ]; then mount --bind "+d+"/shims/"+n+" \"$p\"; fi; done")
		}
		s = append(s, "mount --bind "+d+"/shims /usr/local/bin")
	}
	if b.Install && b.Agent {
		// a real process named ds_agent (a copy of sleep), in this host's pid namespace
		s = append(s, "/opt/ds_agent/ds_agent infinity &")
	}
	s = append(s, "exec /usr/sbin/sshd -D -e -f "+d+"/sshd_config")
	return strings.Join(s, "\n") + "\n"
}

func writeUsers(dir string, b *HostBuild) error {
	read := func(p string) string {
		data, _ := os.ReadFile(p)
		return string(data)
	}
	passwd, group, shadow := read("/etc/passwd"), read("/etc/group"), read("/etc/shadow")
	for _, u := range b.Users {
		f := strings.Split(u, ":")
		passwd += u + "\n"
		group += f[0] + ":x:" + f[3] + ":\n"
		hash := b.Passwords[f[0]]
		if hash == "" {
			hash = "*"
		}
		shadow += f[0] + ":" + hash + ":19000:0:99999:7:::\n"
	}
	sudoers := "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n" + b.Sudoers
	files := map[string]string{"passwd": passwd, "group": group, "shadow": shadow, "sudoers": sudoers}
	if b.DoasConf != "" {
		files["doas.conf"] = b.DoasConf
	}
	for name, body := range files {
		mode := os.FileMode(0o644)
		if name == "shadow" || name == "sudoers" || name == "doas.conf" {
			mode = 0o440
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			return err
		}
	}
	return nil
}

// pamSSHD is a minimal real PAM stack for sshd: password checks against
// the host's /etc/shadow (no loginuid, which a namespace cannot set).
const pamSSHD = `auth     required pam_unix.so
account  required pam_unix.so
session  required pam_unix.so
password required pam_unix.so
`

// Faults. Each is applied for real inside the host's namespaces.

// AgentStopped: installed, process not running.
func AgentStopped(_ *Host, b *HostBuild) { b.Agent = false }

// AgentImpostor: the agent is stopped, but a process named ds_agent runs
// from elsewhere (a wrapper, its init script, a look-alike): it must not
// count as the agent.
func AgentImpostor(_ *Host, b *HostBuild) {
	b.Agent = false
	b.Init = append(b.Init, "mkdir -p /run/fake && cp /usr/bin/sleep /run/fake/ds_agent && /run/fake/ds_agent infinity &")
}

// ChattyBashrc: root's ~/.bashrc sleeps 2 s and prints a banner, as slow
// and noisy startup files do (pyenv/conda inits, motd scripts); no verdict
// may change.
func ChattyBashrc(_ *Host, b *HostBuild) {
	b.Init = append(b.Init, "printf '%s\\n' 'sleep 2' 'echo \"*** Welcome to $(hostname) — authorised use only ***\"' 'stty -echo 2>/dev/null' > /root/.bashrc")
}

// ScriptKilled: the check script is SIGKILLed mid-way, as an OOM killer or
// a session limit would: a command the fs.agent check runs (df) kills
// every shell above it up to sshd.
func ScriptKilled(_ *Host, b *HostBuild) {
	shim(b, "df", `#!/bin/sh
p=$PPID
while [ "$p" -gt 1 ]; do
  case "$(ps -o comm= -p "$p")" in sshd*) exit 0 ;; esac
  q=$(ps -o ppid= -p "$p" | tr -d ' ')
  kill -KILL "$p"
  p=$q
done
`)
}

// ConnectionCut: the connection drops mid-script with no exit status: a
// command the fs.agent check runs (df) kills the host's sshd session
// process.
func ConnectionCut(_ *Host, b *HostBuild) {
	shim(b, "df", `#!/bin/sh
p=$PPID
while [ "$p" -gt 1 ]; do
  case "$(ps -o comm= -p "$p")" in sshd*) kill -KILL "$p"; exit 0 ;; esac
  p=$(ps -o ppid= -p "$p" | tr -d ' ')
done
`)
}

// OutputFlood: one check's command prints without end (df): the output
// passes the bastion's cap and the script never reaches its end.
func OutputFlood(_ *Host, b *HostBuild) {
	shim(b, "df", "#!/bin/sh\nwhile :; do echo 'Filesystem 1024-blocks Used Available Capacity Mounted on ....................'; done\n")
}

// EmptyAnswer: sshd runs /bin/true whatever the command (ForceCommand, or
// command= in authorized_keys): the host answers nothing, exit 0.
func EmptyAnswer(h *Host, _ *HostBuild) {
	h.SSHDConfig = append(h.SSHDConfig, "ForceCommand /bin/true")
}

// MarkersOnly: something between sshd and the script (a filtering
// ForceCommand, a broken proxy) lets only the section markers through:
// every check "ran" and printed nothing.
func MarkersOnly(h *Host, b *HostBuild) {
	shim(b, "wo-markers-only", "#!/bin/sh\neval \"$SSH_ORIGINAL_COMMAND\" | grep '^<<WO:'\n")
	h.SSHDConfig = append(h.SSHDConfig, "ForceCommand /usr/local/bin/wo-markers-only")
}

// LoginShellHangs: root's ~/.bashrc waits forever, so every SSH command
// there stalls before it starts (sshd runs commands through the login
// shell, and bash reads ~/.bashrc when sshd starts it).
func LoginShellHangs(_ *Host, b *HostBuild) {
	b.Init = append(b.Init, "echo 'read wo_never </dev/tty 2>/dev/null || sleep 3600' > /root/.bashrc")
}

// AgentMissing: nothing of the agent on the host.
func AgentMissing(_ *Host, b *HostBuild) { b.Install, b.Agent = false, false }

// DNSServerDown: resolv.conf points at an address where no server answers.
func DNSServerDown(_ *Host, b *HostBuild) {
	b.Resolv = "nameserver 10.77.0.99\noptions timeout:2 attempts:1\n"
}

// SlowResolver: resolv.conf points at a resolver that answers, late.
func SlowResolver(_ *Host, b *HostBuild) {
	b.Resolv = "nameserver " + SlowResolverIP + "\noptions timeout:4 attempts:1\n"
}

// StaleManagerName: the agent's own dsmUrl names a host DNS does not know.
func StaleManagerName(_ *Host, b *HostBuild) { b.DSMURL = "https://dsm-old.lab.test:4120/" }

// HostsOverride: /etc/hosts pins the manager's name to a dead address.
func HostsOverride(_ *Host, b *HostBuild) { b.Hosts += "10.77.0.3 " + ManagerName + "\n" }

// PortDropped: an iptables OUTPUT rule drops the heartbeat port.
func PortDropped(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A OUTPUT -p tcp --dport 4120 -j DROP")
}

// PortRejected: an iptables OUTPUT rule rejects the heartbeat port.
func PortRejected(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A OUTPUT -p tcp --dport 4120 -j REJECT --reject-with tcp-reset")
}

// SSHDropped: the host is up but drops SSH (looks powered off).
func SSHDropped(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A INPUT -p tcp --dport 22 -j DROP")
}

// ClockAhead: libfaketime makes every login session's clock run 3h ahead.
func ClockAhead(h *Host, _ *HostBuild) {
	h.SSHDConfig = append(h.SSHDConfig, "SetEnv LD_PRELOAD="+FakeTimeLib+" FAKETIME=+3h")
}

// TLSErrorsInLog: the agent log shows certificate failures.
func TLSErrorsInLog(_ *Host, b *HostBuild) {
	now := time.Now().UTC().Add(-10 * time.Minute).Format("2006-01-02 15:04:05.000000")
	b.LogLines = append(b.LogLines,
		now+" [+0000]: [Warning/2] | [dsa.Heartbeat] Heartbeat started",
		now+" [+0000]: [Error/1] | [SSL] SSL_connect failed: error:0A000086:SSL routines::certificate verify failed",
		now+" [+0000]: [Error/1] | [dsa.Heartbeat] Heartbeat failed: TLS handshake error with manager")
}

// RuleUpdateStuck: the log shows a rule update started and never finished.
func RuleUpdateStuck(_ *Host, b *HostBuild) {
	now := time.Now().UTC().Add(-3 * time.Minute).Format("2006-01-02 15:04:05.000000")
	b.LogLines = append(b.LogLines,
		now+" [+0000]: [Info/3] | Security Update: rule update completed",
		now+" [+0000]: [Info/3] | Security Update: rule update started")
}

// HighLoad: the host's 5-minute load is far above 4 per CPU, as far as
// /proc/loadavg (and uptime, which reads it) tell.
func HighLoad(_ *Host, b *HostBuild) {
	b.LoadAvg = "31.20 24.60 18.00 40/300 4242\n"
}

// DiskFull: the agent's /var/opt/ds_agent is a tiny tmpfs, filled up.
func DiskFull(_ *Host, b *HostBuild) {
	b.Init = append(b.Init,
		"mount -t tmpfs -o size=256k tmpfs /var/opt/ds_agent",
		"dd if=/dev/zero of=/var/opt/ds_agent/fill bs=4k 2>/dev/null || true")
}

// Systemd makes the host a systemd one for the checks: /run/systemd/system
// exists (in the host's private /run) and systemctl answers for
// ds_agent.service as a real one does. Built from systemctl(1) (`show`
// prints the properties -p/--property names as KEY=value lines, in its
// own order, not the order asked) and org.freedesktop.systemd1(5)
// (LoadState loaded|not-found|…, ActiveState active|failed|inactive|…;
// a unit that does not exist still shows every property, with
// LoadState=not-found and defaults). state: "running", "failed" (the
// agent exited 1 and systemd gave up; the agent is stopped) or
// "not-found" (no unit).
func Systemd(state string) Fault {
	return func(_ *Host, b *HostBuild) {
		props := map[string]string{
			"Result": "success", "ExecMainStatus": "0", "LoadState": "loaded", "ActiveState": "active",
			"SubState": "running", "UnitFileState": "enabled",
		}
		switch state {
		case "failed":
			props["Result"], props["ExecMainStatus"], props["ActiveState"], props["SubState"] = "exit-code", "1", "failed", "failed"
			b.Agent = false
		case "not-found":
			props["LoadState"], props["ActiveState"], props["SubState"], props["UnitFileState"] = "not-found", "inactive", "dead", ""
		}
		var body strings.Builder
		body.WriteString("#!/bin/sh\n# lab stand-in for systemctl: show -p ... ds_agent only\n")
		body.WriteString("[ \"$1\" = show ] || { echo \"lab systemctl: $1 not supported\" >&2; exit 1; }\nshift; want=' '\n")
		body.WriteString("while [ $# -gt 0 ]; do case $1 in -p) want=\"$want$2 \"; shift 2 ;; --property=*) want=\"$want${1#--property=} \"; shift ;; *) unit=$1; shift ;; esac; done\n")
		body.WriteString("case $unit in ds_agent|ds_agent.service) ;; *) echo \"lab systemctl: unit $unit\" >&2; exit 1 ;; esac\n")
		// printed in an order of its own, not the -p order
		for _, k := range []string{"ExecMainStatus", "Result", "UnitFileState", "SubState", "LoadState", "ActiveState"} {
			fmt.Fprintf(&body, "case \"$want\" in *' %s '*) echo '%s=%s' ;; esac\n", k, k, props[k])
		}
		shim(b, "systemctl", body.String())
		b.Init = append(b.Init, "mkdir -p /run/systemd/system")
	}
}

// ShIsBash makes the host's /bin/sh bash, as on RHEL, SUSE and Amazon
// Linux (Debian's is dash): bash line-buffers its stdout, so the
// script's concurrent lanes interleave line by line. /bin/sh is a link
// to dash here; the bind follows it, in this host's namespace only.
func ShIsBash(_ *Host, b *HostBuild) {
	b.Init = append(b.Init, "mount --bind /bin/bash \"$(readlink -f /bin/sh)\"")
}

// FakeUname bind-mounts a uname that reports another OS.
func FakeUname(sysname string) Fault {
	return func(h *Host, b *HostBuild) {
		body := "#!/bin/sh\ncase \"$1\" in -s|'') echo " + sysname + " ;; -r) echo 1.0 ;; -n) hostname ;; *) echo " + sysname + " ;; esac\n"
		_ = os.WriteFile(filepath.Join(b.Dir, "uname"), []byte(body), 0o755)
		b.Init = append(b.Init, "mount --bind "+b.Dir+"/uname /usr/bin/uname")
	}
}

// User adds a login user; with nopasswd it may sudo without a password.
func User(name string, nopasswd bool) Fault {
	return func(_ *Host, b *HostBuild) {
		b.Users = append(b.Users, name+":x:2001:2001::/home/"+name+":/bin/sh")
		if nopasswd {
			b.Sudoers += name + " ALL=(ALL) NOPASSWD: ALL\n"
		}
	}
}

// Doas is the host's /etc/doas.conf (OpenBSD's doas, Debian's package):
// "permit nopass ops as root" lets doas -n run the checks, "permit ops as
// root" makes it ask for a password, which -n refuses.
func Doas(conf string) Fault {
	return func(_ *Host, b *HostBuild) { b.DoasConf = conf }
}

// RequireTTY: sudo insists on a terminal for user (Defaults requiretty,
// as RHEL 5-7 shipped it), so even NOPASSWD sudo -n is refused.
func RequireTTY(user string) Fault {
	return func(_ *Host, b *HostBuild) { b.Sudoers += "Defaults:" + user + " requiretty\n" }
}

// PasswordUser adds a login user whose password (hashed into the host's
// shadow file) is the only way in: sshd offers keyboard-interactive
// through PAM and nothing else, like a PAM-only Solaris or AIX host.
func PasswordUser(name, password string) Fault {
	return func(h *Host, b *HostBuild) {
		cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
		cmd.Stdin = strings.NewReader(password + "\n")
		hash, err := cmd.Output()
		if err != nil {
			b.Errs = append(b.Errs, fmt.Errorf("openssl passwd: %v", err))
			return
		}
		b.Users = append(b.Users, name+":x:2002:2002::/home/"+name+":/bin/sh")
		if b.Passwords == nil {
			b.Passwords = map[string]string{}
		}
		b.Passwords[name] = strings.TrimSpace(string(hash))
		h.SSHDConfig = append(h.SSHDConfig, "UsePAM yes", "KbdInteractiveAuthentication yes",
			"PasswordAuthentication no", "PubkeyAuthentication no", "AuthenticationMethods keyboard-interactive")
	}
}

// LegacySSHD: an old sshd that speaks only SHA-1 key exchange, an
// ssh-rsa host key and CBC ciphers (Solaris 10 / old AIX vintage).
func LegacySSHD(h *Host, _ *HostBuild) {
	h.RSAHostKey = true
	h.SSHDConfig = append(h.SSHDConfig,
		"KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group1-sha1",
		"HostKeyAlgorithms ssh-rsa", "Ciphers aes128-cbc,3des-cbc", "MACs hmac-sha1")
}

// AgentListening: the agent listens on 4118 (manager-initiated mode).
func AgentListening(h *Host, b *HostBuild) { b.Listen = append(b.Listen, h.IP+":4118") }

// InboundFromManagerDropped: the host drops the manager's connections to
// the agent port; everyone else (the bastion) still gets through.
func InboundFromManagerDropped(_ *Host, b *HostBuild) {
	b.NetRules = append(b.NetRules, "iptables -A INPUT -p tcp -s "+ManagerIP+" --dport 4118 -j DROP")
}
