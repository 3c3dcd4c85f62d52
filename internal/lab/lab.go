// Package lab builds a fleet of real hosts on this machine for integration
// tests: each host is a network namespace on a bridge with its own real
// sshd, running under unshare --pid --mount --uts so it has its own
// processes, files and hostname. Faults are injected for real (a stopped
// agent process, a broken resolv.conf, iptables rules, libfaketime, a full
// tmpfs, bind-mounted fake commands). A manager namespace serves DNS
// (dnsmasq) and a TLS listener on 4120. Only addresses in 10.77.0.0/16,
// inside namespaces the lab created, are ever used; everything is removed
// on Close, and stale lab namespaces from a crashed run on the next Start.
package lab

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Addresses. The whole lab lives in 10.77.0.0/16 inside its namespaces.
const (
	BastionIP   = "10.77.0.1"
	ManagerIP   = "10.77.0.2"
	ManagerName = "dsm.lab.test"
	// ProxyAddr is an HTTP proxy (CONNECT to lab addresses) on the
	// manager's network; AuthProxyAddr answers every CONNECT with 407.
	ProxyAddr = ManagerIP + ":3128"
	// SlowResolverIP is a resolver that answers, late (SlowDNSDelay).
	SlowResolverIP = "10.77.0.7"
	AuthProxyAddr  = ManagerIP + ":3129"
	prefix         = "wol" // namespace name prefix, for stale cleanup
)

// Tools the lab needs, with the Debian package that provides each.
var Tools = map[string]string{
	"ip": "iproute2", "unshare": "util-linux", "sshd": "openssh-server", "iptables": "iptables",
	"dnsmasq": "dnsmasq-base", "sudo": "sudo", "openssl": "openssl", "getent": "libc-bin",
	"ps": "procps", "ss": "iproute2", "bash": "bash", "timeout": "coreutils",
	"traceroute": "traceroute", "perl": "perl-base", "pidof": "procps",
	"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server", "kinit": "krb5-user",
}

// FakeTimeLib is libfaketime's preload library (Debian package faketime).
const FakeTimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

// Missing lists tools (and packages) the lab cannot find.
func Missing() []string {
	var out []string
	for tool, pkg := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + tool); err2 != nil {
				out = append(out, fmt.Sprintf("%s (apt-get install %s)", tool, pkg))
			}
		}
	}
	if _, err := os.Stat(FakeTimeLib); err != nil {
		out = append(out, "libfaketime (apt-get install faketime)")
	}
	return out
}

// Host is one lab host.
type Host struct {
	Name string
	IP   string
	// Faults to inject; see the Fault* functions.
	Setup []Fault
	// NoSSHD: do not start sshd (the namespace exists, port 22 refuses).
	NoSSHD bool
	// Tarpit: instead of sshd, something accepts on 22 and never speaks.
	Tarpit bool
	// SSHDConfig lines for this host's sshd_config; they come before the
	// lab's defaults, and sshd keeps the first value of each keyword.
	SSHDConfig []string
	// RSAHostKey: an RSA host key (old sshd) instead of ed25519.
	RSAHostKey bool
	// HostCert: sshd also presents a host certificate signed by this CA.
	HostCert *HostCert
	// Router puts the host behind its own router namespace; see Router.
	Router *Router
	// Windows makes the host an emulated Windows host: a WS-Management
	// server (NTLM, HTTP 5985 or HTTPS 5986) answering in a wsmantest
	// profile, no sshd.
	Windows *Windows

	ns      string
	dir     string
	HostKey ssh.Signer
	// unshare is the process that holds the host's pid namespace; its
	// one child is the host's init (sshd, pid 1 inside).
	unshare *exec.Cmd
}

// HostCert is a host certificate sshd presents (HostCertificate).
type HostCert struct {
	CA                      ssh.Signer
	Principals              []string // "{ip}" stands for the host's address
	ValidAfter, ValidBefore time.Time
	Serial                  uint64
}

// Fault prepares one fault; it may write files into the host's directory
// and add lines to its init script (run inside the host's namespaces).
type Fault func(h *Host, b *HostBuild)

// HostBuild collects a host's init script while faults are applied.
type HostBuild struct {
	Dir     string
	Init    []string // shell run in the host's namespaces before sshd
	Agent   bool     // start the fake ds_agent process
	Install bool     // install the agent files
	Resolv  string   // resolv.conf content
	Hosts   string   // /etc/hosts content
	DSMURL  string   // what dsa_query reports as AgentStatus.dsmUrl
	// AgentStatus: more "AgentStatus.key: value" lines dsa_query prints
	AgentStatus []string
	LogLines    []string // lines for /var/log/ds_agent/ds_agent.log
	NetRules    []string // iptables commands run in the host's netns
	Users       []string // extra passwd lines (with sudoers in Sudoers)
	Sudoers     string
	DoasConf    string // /etc/doas.conf, when set
	// Passwords: user -> crypt(3) hash for /etc/shadow (PAM logins).
	Passwords map[string]string
	// Shims: fake commands in Dir/shims, mounted in the host's namespace.
	Shims []string
	// Listen: TCP addresses something listens on (the agent's 4118).
	Listen []string
	// LoadAvg is the host's /proc/loadavg. Every lab host shares this
	// machine's kernel, whose load is the whole lab's (70 sshd hosts
	// scanned at once): each host gets a calm one of its own unless a
	// fault says otherwise, as a real machine would have.
	LoadAvg string
	// Errs: a fault that could not be prepared.
	Errs []error
}

// Lab is a running lab.
type Lab struct {
	ID      string
	Dir     string
	Hosts   []*Host
	Bastion string // namespace the scanner runs in
	manager string
	// ClientKey authorises root (and lab users) on every host.
	ClientKeyPath string
	OtherKeyPath  string // a key no host accepts
	helper        []string

	// ManagerHost, when set before Start, is a host (sshd, agent files)
	// in the manager's own namespace, at ManagerIP: the "role: manager"
	// host that probes agents from the manager's side.
	ManagerHost *Host

	// KDC is the realm's KDC, started when a Windows host takes Kerberos.
	KDC *KDC

	routers  []string // router namespaces
	mu       sync.Mutex
	children []*exec.Cmd
	logs     bytes.Buffer
}

// Run runs a command, returning combined output on failure.
func Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// CleanStale removes namespaces left behind by a crashed lab run.
func CleanStale(ctx context.Context) {
	out, _ := Run(ctx, "ip", "netns", "list")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			killNetns(ctx, f[0])
			_, _ = Run(ctx, "ip", "netns", "del", f[0])
		}
	}
}

func killNetns(ctx context.Context, ns string) {
	out, _ := Run(ctx, "ip", "netns", "pids", ns)
	for _, p := range strings.Fields(out) {
		_, _ = Run(ctx, "kill", "-9", p)
	}
}

// Start builds the lab. helper is the command (and args) that runs this
// test binary as a helper process: the lab appends a mode and address.
func Start(ctx context.Context, dir string, hosts []*Host, helper []string) (*Lab, error) {
	return StartWithManager(ctx, dir, hosts, nil, helper)
}

// StartWithManager is Start with a scannable manager host (see ManagerHost).
func StartWithManager(ctx context.Context, dir string, hosts []*Host, manager *Host, helper []string) (*Lab, error) {
	CleanStale(ctx)
	idb := make([]byte, 2)
	_, _ = rand.Read(idb)
	l := &Lab{ID: hex.EncodeToString(idb), Dir: dir, Hosts: hosts, helper: helper, ManagerHost: manager}
	l.Bastion = prefix + l.ID + "b"
	l.manager = prefix + l.ID + "m"
	if err := l.start(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lab) start(ctx context.Context) error {
	// sshd reads a user's authorized keys with that user's rights: the lab
	// directory (a 0700 temp dir) must be traversable by lab users.
	for d := l.Dir; d != "/" && d != "." && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	var err error
	if l.ClientKeyPath, err = writeClientKey(filepath.Join(l.Dir, "id_lab")); err != nil {
		return err
	}
	if l.OtherKeyPath, err = writeClientKey(filepath.Join(l.Dir, "id_other")); err != nil {
		return err
	}
	pub, err := os.ReadFile(l.ClientKeyPath + ".pub")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(l.Dir, "keys"), 0o755); err != nil {
		return err
	}
	for _, u := range []string{"root", "ops", "ops2"} {
		if err := os.WriteFile(filepath.Join(l.Dir, "keys", u), pub, 0o644); err != nil {
			return err
		}
	}
	sh := func(args ...string) error { _, err := Run(ctx, args[0], args[1:]...); return err }
	// bastion namespace: the bridge every host hangs off
	for _, c := range [][]string{
		{"ip", "netns", "add", l.Bastion},
		{"ip", "-n", l.Bastion, "link", "set", "lo", "up"},
		{"ip", "-n", l.Bastion, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", l.Bastion, "addr", "add", BastionIP + "/16", "dev", "br0"},
		{"ip", "-n", l.Bastion, "link", "set", "br0", "up"},
	} {
		if err := sh(c...); err != nil {
			return err
		}
	}
	if err := l.attach(ctx, l.manager, "vm0", ManagerIP); err != nil {
		return err
	}
	if err := l.startManager(ctx); err != nil {
		return err
	}
	var krbNames []string
	stale := map[string]bool{}
	for _, h := range l.Hosts {
		if h.Windows != nil && h.Windows.Kerberos {
			krbNames = append(krbNames, KerberosName(h))
			stale[KerberosName(h)] = h.Windows.StaleServiceKey
		}
	}
	if len(krbNames) > 0 {
		if err := l.startKDC(ctx, krbNames, stale); err != nil {
			return fmt.Errorf("kdc: %w", err)
		}
	}
	all := l.Hosts
	if m := l.ManagerHost; m != nil {
		m.ns, m.IP = l.manager, ManagerIP
		if err := l.startHost(ctx, m, len(l.Hosts)); err != nil {
			return fmt.Errorf("manager host %s: %w", m.Name, err)
		}
		all = append(append([]*Host{}, l.Hosts...), m)
	}
	for i, h := range l.Hosts {
		if h.IP == "" {
			h.IP = fmt.Sprintf("10.77.%d.%d", 1+i/200, 10+i%200)
		}
		h.ns = fmt.Sprintf("%s%sh%d", prefix, l.ID, i)
		if err := l.startHost(ctx, h, i); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, h := range all {
		if h.NoSSHD {
			continue
		}
		port := "22"
		if h.Windows != nil {
			port = h.Windows.Port()
		}
		for !listening(ctx, h.ns, "", port) {
			if time.Now().After(deadline) {
				return fmt.Errorf("host %s: nothing listens on port %s after 20s; daemon log:\n%s", h.Name, port, l.Logs())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Windows is an emulated Windows host's profile and protocol behaviour.
type Windows struct {
	Profile   string // wsmantest profile (healthy, service-stopped, ...; NAME@ps2|ps51|ps7 for a Windows version)
	Behaviour string // "", stall, malformed, endless, lose-shell, web, denied
	// Kerberos: the host takes Kerberos (Negotiate) instead of NTLM, as
	// HTTP/<name>.lab.test, with a keytab from the lab's KDC.
	Kerberos bool
	// StaleServiceKey: the host's keytab predates a key change at the
	// KDC, so it cannot read the tickets the KDC issues for it.
	StaleServiceKey bool
	// HTTPS: "" serves HTTP on 5985; "valid" HTTPS on 5986 with a
	// certificate for the host's name and address from a CA in CAFile;
	// "wrong-name" one issued for another host.
	HTTPS string
}

// Port is the WinRM port the host listens on.
func (w *Windows) Port() string {
	if w.HTTPS != "" {
		return "5986"
	}
	return "5985"
}

// CAFile is where an HTTPS Windows host's issuing CA certificate is.
func (h *Host) CAFile() string { return filepath.Join(h.dir, "ca.pem") }

// Router puts hosts behind a router namespace: every host given the same
// *Router shares its subnet (10.77.200+k.0/24, the router at .1), as the
// machines of one zone behind its firewall do. The router's route to the
// subnet carries MTU, so a large packet towards a host needs ICMP
// "fragmentation needed" sent back to its sender.
type Router struct {
	MTU int
	// BlockFragNeeded: the router never sends that ICMP to the manager
	// (others still get it): the manager's large packets vanish.
	BlockFragNeeded bool
	// DropHeartbeat: the router drops forwarded TCP to port 4120 — the
	// zone's egress firewall blocks the heartbeat for all its hosts.
	DropHeartbeat bool

	ns    string // set when the first host is attached
	k     int
	hosts int
}

// attachBehindRouter: bridge — router (10.77.0.200+k) — its subnet's
// bridge — host (10.77.200+k.2, .3, ...).
func (l *Lab) attachBehindRouter(ctx context.Context, h *Host) error {
	r := h.Router
	if r.ns == "" {
		if err := l.startRouter(ctx, r); err != nil {
			return err
		}
	}
	r.hosts++
	if r.hosts > 200 {
		return fmt.Errorf("at most 200 hosts behind one router")
	}
	gw := fmt.Sprintf("10.77.%d.1", 200+r.k)
	h.IP = fmt.Sprintf("10.77.%d.%d", 200+r.k, 1+r.hosts)
	port := fmt.Sprintf("h%d", r.hosts)
	for _, c := range [][]string{
		{"ip", "netns", "add", h.ns},
		{"ip", "-n", h.ns, "link", "set", "lo", "up"},
		{"ip", "link", "add", port, "netns", r.ns, "type", "veth", "peer", "name", "eth0", "netns", h.ns},
		{"ip", "-n", r.ns, "link", "set", port, "master", "hbr"},
		{"ip", "-n", r.ns, "link", "set", port, "up"},
		{"ip", "-n", h.ns, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"ip", "-n", h.ns, "link", "set", "eth0", "up"},
		{"ip", "-n", h.ns, "route", "add", "default", "via", gw},
	} {
		if _, err := Run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// startRouter creates r's namespace, its leg on the lab bridge and the
// bridge its hosts hang off.
func (l *Lab) startRouter(ctx context.Context, r *Router) error {
	k := len(l.routers)
	if k >= 50 {
		return fmt.Errorf("at most 50 routers")
	}
	r.k = k
	r.ns = fmt.Sprintf("%s%sr%d", prefix, l.ID, k)
	l.routers = append(l.routers, r.ns)
	bridgeIP := fmt.Sprintf("10.77.0.%d", 200+k)
	subnet := fmt.Sprintf("10.77.%d.0/24", 200+k)
	gw := fmt.Sprintf("10.77.%d.1", 200+k)
	rns := r.ns
	cmds := [][]string{
		{"ip", "netns", "add", rns},
		{"ip", "-n", rns, "link", "set", "lo", "up"},
		{"ip", "link", "add", fmt.Sprintf("vr%d", k), "netns", l.Bastion, "type", "veth", "peer", "name", "eth0", "netns", rns},
		{"ip", "-n", l.Bastion, "link", "set", fmt.Sprintf("vr%d", k), "master", "br0"},
		{"ip", "-n", l.Bastion, "link", "set", fmt.Sprintf("vr%d", k), "up"},
		{"ip", "-n", rns, "addr", "add", bridgeIP + "/16", "dev", "eth0"},
		{"ip", "-n", rns, "link", "set", "eth0", "up"},
		{"ip", "-n", rns, "link", "add", "hbr", "type", "bridge"},
		{"ip", "-n", rns, "addr", "add", gw + "/24", "dev", "hbr"},
		{"ip", "-n", rns, "link", "set", "hbr", "up"},
		{"ip", "netns", "exec", rns, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{"ip", "-n", l.Bastion, "route", "add", subnet, "via", bridgeIP},
		{"ip", "-n", l.manager, "route", "add", subnet, "via", bridgeIP},
	}
	if r.MTU > 0 {
		cmds = append(cmds, []string{"ip", "-n", rns, "route", "replace", subnet, "dev", "hbr", "src", gw, "mtu", "lock", fmt.Sprint(r.MTU)})
	}
	if r.BlockFragNeeded {
		cmds = append(cmds, []string{"ip", "netns", "exec", rns, "iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "fragmentation-needed", "-d", ManagerIP, "-j", "DROP"})
	}
	if r.DropHeartbeat {
		cmds = append(cmds, []string{"ip", "netns", "exec", rns, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "4120", "-j", "DROP"})
	}
	for _, c := range cmds {
		if _, err := Run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// attach creates namespace ns with eth0 on the bridge at ip.
func (l *Lab) attach(ctx context.Context, ns, veth, ip string) error {
	for _, c := range [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "link", "add", veth, "netns", l.Bastion, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "-n", l.Bastion, "link", "set", veth, "master", "br0"},
		{"ip", "-n", l.Bastion, "link", "set", veth, "up"},
		{"ip", "-n", ns, "addr", "add", ip + "/16", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", BastionIP},
	} {
		if _, err := Run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lab) spawn(ctx context.Context, args ...string) error {
	_, err := l.spawnCmd(args...)
	return err
}

func (l *Lab) spawnCmd(args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = &lockedWriter{l: l}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.children = append(l.children, cmd)
	l.mu.Unlock()
	go func() { _ = cmd.Wait() }()
	return cmd, nil
}

type lockedWriter struct{ l *Lab }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if w.l.logs.Len() < 1<<20 {
		w.l.logs.Write(p)
	}
	return len(p), nil
}

// Logs returns what the lab's daemons printed.
func (l *Lab) Logs() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logs.String()
}

func (l *Lab) startManager(ctx context.Context) error {
	pid := filepath.Join(l.Dir, "dnsmasq.pid")
	if err := l.spawn(ctx, "ip", "netns", "exec", l.manager, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		"--no-poll", "--listen-address="+ManagerIP, "--bind-interfaces", "--pid-file="+pid, "--user=root", "--group=root",
		"--local=/lab.test/", "--address=/"+ManagerName+"/"+ManagerIP, "--log-facility=-"); err != nil {
		return err
	}
	// the manager's heartbeat listener, and the site's proxies beside it:
	// one that tunnels to lab addresses, one that wants credentials
	if _, err := Run(ctx, "ip", "-n", l.manager, "addr", "add", SlowResolverIP+"/16", "dev", "eth0"); err != nil {
		return err
	}
	for _, role := range [][]string{{"tls", ManagerIP + ":4120"}, {"proxy", ProxyAddr}, {"proxy-auth", AuthProxyAddr}, {"dns-slow", SlowResolverIP + ":53"}} {
		args := append(append([]string{"ip", "netns", "exec", l.manager}, l.helper...), role...)
		if err := l.spawn(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// ServeManager starts another manager heartbeat listener (helper mode
// "tls": a fresh certificate each start; "tls-expired": one that expired
// yesterday) on ip:4120 in the manager's namespace, adding the address
// there once. stop ends it and waits until the port is free, so a second
// start presents a new certificate — a manager whose certificate changed.
func (l *Lab) ServeManager(ctx context.Context, ip, mode string) (stop func(), err error) {
	out, _ := Run(ctx, "ip", "-n", l.manager, "-o", "addr", "show", "dev", "eth0")
	if !strings.Contains(out, " "+ip+"/") {
		if _, err := Run(ctx, "ip", "-n", l.manager, "addr", "add", ip+"/16", "dev", "eth0"); err != nil {
			return nil, err
		}
	}
	args := append(append([]string{"ip", "netns", "exec", l.manager}, l.helper...), mode, ip+":4120")
	cmd, err := l.spawnCmd(args...)
	if err != nil {
		return nil, err
	}
	wait := func(want bool) error {
		for deadline := time.Now().Add(10 * time.Second); listening(ctx, l.manager, ip, "4120") != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("manager listener %s:4120 (%s): listening is not %v after 10s; log:\n%s", ip, mode, want, l.Logs())
			}
		}
		return nil
	}
	if err := wait(true); err != nil {
		return nil, err
	}
	return func() {
		_ = cmd.Process.Kill()
		_ = wait(false)
	}, nil
}

// listening reports whether something in namespace ns listens on TCP
// port (on address ip, if given).
func listening(ctx context.Context, ns, ip, port string) bool {
	args := []string{"netns", "exec", ns, "ss", "-Hltn"}
	if ip != "" {
		args = append(args, "src", ip)
	}
	out, _ := Run(ctx, "ip", append(args, "sport", "= :"+port)...)
	return strings.Contains(out, ":"+port)
}

func writeClientKey(path string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "lab")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	sp, _ := ssh.NewPublicKey(pub)
	return path, os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sp), 0o644)
}

// KnownHostsLine is the known_hosts line for h's real key.
func (h *Host) KnownHostsLine() string {
	return h.IP + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey.PublicKey())))
}

// Exec runs a command inside a host's namespaces (for assertions).
func (l *Lab) Exec(ctx context.Context, h *Host, args ...string) (string, error) {
	return Run(ctx, "ip", append([]string{"netns", "exec", h.ns}, args...)...)
}

// BastionCommand wraps argv to run in the bastion namespace with the lab's
// resolv.conf and hosts bind-mounted (so the scanner resolves the manager
// through the lab's DNS, like a real bastion).
func (l *Lab) BastionCommand(ctx context.Context, argv ...string) *exec.Cmd {
	resolv := filepath.Join(l.Dir, "bastion-resolv.conf")
	hosts := filepath.Join(l.Dir, "bastion-hosts")
	_ = os.WriteFile(resolv, []byte("nameserver "+ManagerIP+"\noptions timeout:2 attempts:1\n"), 0o644)
	// the hosts by name, as a bastion's DNS would know them
	names := "127.0.0.1 localhost\n"
	for _, h := range l.Hosts {
		names += h.IP + " " + h.Name + ".lab.test\n"
	}
	_ = os.WriteFile(hosts, []byte(names), 0o644)
	script := `mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"`
	args := append([]string{"netns", "exec", l.Bastion, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", resolv, hosts}, argv...)
	return exec.CommandContext(ctx, "ip", args...)
}

// Close stops every process and removes every namespace the lab made.
func (l *Lab) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nss := []string{l.manager}
	for _, h := range l.Hosts {
		if h.ns != "" {
			nss = append(nss, h.ns)
		}
	}
	nss = append(nss, l.routers...)
	nss = append(nss, l.Bastion)
	for _, ns := range nss {
		killNetns(ctx, ns)
	}
	l.mu.Lock()
	for _, c := range l.children {
		if c.Process != nil {
			_ = c.Process.Kill()
		}
	}
	l.mu.Unlock()
	for _, ns := range nss {
		_, _ = Run(ctx, "ip", "netns", "del", ns)
	}
}
