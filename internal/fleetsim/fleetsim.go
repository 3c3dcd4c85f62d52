// Package fleetsim simulates a fleet of SSH hosts on loopback addresses
// (127.x.y.z), each with its own host key, answering the playbook's script
// with the output a host of its profile would print. It drives the real
// transport, parsing and diagnosis code of `whyoffline scan`, for the demo,
// scale tests and benchmarks. Only loopback addresses are ever used.
package fleetsim

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host is one simulated host. Nothing is kept per host while the fleet
// runs: Fleet.Host derives it from its index (address, name, profile and a
// host key from the fleet's seed) whenever a connection arrives.
type Host struct {
	Index   int
	Name    string
	Addr    string // 127.x.y.z
	Port    int
	Profile *Profile
	HostKey ssh.Signer
	// KnownKey is the key written to known_hosts for this host (differs
	// from HostKey for a "changed key" host; nil: not written at all).
	KnownKey ssh.PublicKey

	managerAddr string
	// zoneAddr is the address and prefix the host reports as its own
	// (Spec.Zone), "" for its loopback one.
	zoneAddr string
}

// Options for a simulated fleet.
type Options struct {
	// Port of the one SSH listener every host shares (0: a free port).
	Port int
	// Latency is added before a host answers its script.
	Latency time.Duration
	// Base is the first address; hosts take consecutive addresses
	// (x.y.z.1 to x.y.z.254, then the next /24).
	Base [4]byte
}

// Fleet is a running simulated fleet: one wildcard listener per port that
// tells hosts apart by the local address each connection arrived on, so
// its size is not bounded by the open-file limit.
type Fleet struct {
	ClientKey  ssh.Signer
	clientPriv ed25519.PrivateKey
	Manager    net.Listener // a TCP listener standing in for the manager
	opt        Options
	groups     []hostGroup
	n          int
	seed       [32]byte
	basePos    int
	span       int          // address positions the groups take (zones start a /24)
	ln         net.Listener // every SSH-speaking (and tarpit) host
	port       int
	// refusedFD is a socket bound to a port and never listening: every
	// "nothing listens" host is that port, so connecting to it is refused
	// while no other program can take the port.
	refusedFD   int
	refusedPort int
	blackholes  map[int]blackhole // by host index
	cfgAuth     *ssh.ServerConfig
	cfgNoAuth   *ssh.ServerConfig
	wg          sync.WaitGroup
	closed      chan struct{}
	mu          sync.Mutex
	conns       map[net.Conn]struct{}
}

// hostGroup is the hosts one Spec asked for: indexes start..start+count-1.
type hostGroup struct {
	start, count int
	pos          int // the first host's address position, from basePos
	spec         Spec
	profile      *Profile
}

type blackhole struct {
	fd, port int
}

// Spec asks for count hosts of one profile; name prefixes their names.
type Spec struct {
	Profile string
	Count   int
	Name    string // optional fixed name (Count 1)
	// UnknownKey: leave the host out of known_hosts; ChangedKey: write a
	// different key for it.
	UnknownKey, ChangedKey bool
	// Zone, if set, puts the hosts in a loopback /24 of their own (the
	// next one free) and has each report its address with the Zone's
	// prefix length (10.2.3.0/24: /24) — a subnet fleet findings can
	// place them in by the address the bastion reaches them at.
	Zone string
}

// MaxHosts is the most hosts one fleet can address from its base (the
// 127.0.0.0/8 addresses with a last octet of 1 to 254).
const MaxHosts = 4 << 20

// Start brings up the fleet.
func Start(specs []Spec, opt Options) (*Fleet, error) {
	if opt.Base == [4]byte{} {
		opt.Base = [4]byte{127, 77, 0, 1}
	}
	if opt.Base[0] != 127 || opt.Base[3] == 0 || opt.Base[3] == 255 {
		return nil, errors.New("fleetsim: the base must be a loopback (127.0.0.0/8) address ending in 1-254")
	}
	f := &Fleet{opt: opt, closed: make(chan struct{}), conns: map[net.Conn]struct{}{}, blackholes: map[int]blackhole{}, refusedFD: -1}
	f.basePos = addrPos(opt.Base)
	for _, sp := range specs {
		p := Profiles[sp.Profile]
		if p == nil {
			return nil, fmt.Errorf("fleetsim: unknown profile %q", sp.Profile)
		}
		if sp.Zone != "" {
			// a zone is a /24 of its own on loopback: the hosts are
			// reached there, so what they report matches where the
			// bastion connects
			f.span += (254 - (f.basePos+f.span)%254) % 254
		}
		f.groups = append(f.groups, hostGroup{start: f.n, count: sp.Count, pos: f.span, spec: sp, profile: p})
		f.n += sp.Count
		f.span += sp.Count
	}
	if f.basePos+f.span > maxPos {
		return nil, fmt.Errorf("fleetsim: %d hosts do not fit in 127.0.0.0/8 from %v", f.n, opt.Base)
	}
	if _, err := rand.Read(f.seed[:]); err != nil {
		return nil, err
	}
	_, ck, _ := ed25519.GenerateKey(rand.Reader)
	f.clientPriv = ck
	f.ClientKey, _ = ssh.NewSignerFromKey(ck)
	clientPub := string(f.ClientKey.PublicKey().Marshal())
	f.cfgAuth = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == clientPub {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	f.cfgNoAuth = &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
			return nil, errors.New("denied")
		},
		PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, errors.New("denied") },
	}
	if err := f.listen(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *Fleet) listen() error {
	mgr, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f.Manager = mgr
	f.wg.Add(1)
	go f.acceptManager()
	// One listener on every address: connections are told apart by their
	// local address. Outside a private network namespace this also binds
	// the machine's real interfaces; serve refuses anything that did not
	// arrive on one of the fleet's loopback addresses.
	ln, err := net.Listen("tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(f.opt.Port)))
	if err != nil {
		return fmt.Errorf("fleetsim: listen on port %d: %w", f.opt.Port, err)
	}
	f.ln = ln
	f.port = ln.Addr().(*net.TCPAddr).Port
	if f.refusedFD, f.refusedPort, err = boundSocket([4]byte{}, 0); err != nil {
		return err
	}
	for _, g := range f.groups {
		if g.profile.Listen != listenBlackhole {
			continue
		}
		for i := g.start; i < g.start+g.count; i++ {
			if err := f.blackhole(i); err != nil {
				return err
			}
		}
	}
	f.wg.Add(1)
	go f.serve()
	return nil
}

// Len is the number of hosts.
func (f *Fleet) Len() int { return f.n }

// Host derives host i (0 ≤ i < Len()).
func (f *Fleet) Host(i int) *Host {
	g := f.groups[0]
	for _, x := range f.groups {
		if i >= x.start && i < x.start+x.count {
			g = x
			break
		}
	}
	h := &Host{Index: i, Name: fmt.Sprintf("%s-%03d", g.spec.Profile, i-g.start+1), Addr: posAddr(f.basePos + g.pos + i - g.start).String(),
		Port: f.port, Profile: g.profile, managerAddr: "127.0.0.1"}
	if g.spec.Name != "" {
		h.Name = g.spec.Name
	}
	if p, err := netip.ParsePrefix(g.spec.Zone); err == nil && p.Addr().Is4() {
		// the host reports its own address with the zone's prefix length
		h.zoneAddr = h.Addr + "/" + strconv.Itoa(p.Bits())
	}
	switch g.profile.Listen {
	case listenNone:
		h.Port = f.refusedPort
	case listenBlackhole:
		h.Port = f.blackholes[i].port
	}
	h.HostKey = f.derivedKey("host", i)
	switch {
	case g.spec.UnknownKey:
	case g.spec.ChangedKey:
		h.KnownKey = f.derivedKey("other", i).PublicKey()
	default:
		h.KnownKey = h.HostKey.PublicKey()
	}
	return h
}

// Hosts derives every host (tests and small fleets; large ones iterate
// Host(i) instead).
func (f *Fleet) Hosts() []*Host {
	out := make([]*Host, f.n)
	for i := range out {
		out[i] = f.Host(i)
	}
	return out
}

// derivedKey is host i's key of one purpose, from the fleet's seed: the
// same on every connection, held nowhere.
func (f *Fleet) derivedKey(purpose string, i int) ssh.Signer {
	h := sha256.New()
	h.Write(f.seed[:])
	h.Write([]byte(purpose))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
	s, _ := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(h.Sum(nil)))
	return s
}

// Addresses: a host's position counts x.y.z.1-254 addresses from
// 127.0.0.1, skipping .0 and .255 as real subnets' host parts do.
const maxPos = 256 * 256 * 254

func addrPos(ip [4]byte) int {
	return (int(ip[1])*256+int(ip[2]))*254 + int(ip[3]) - 1
}

func posAddr(pos int) net.IP {
	return net.IPv4(127, byte(pos/254/256), byte(pos/254%256), byte(pos%254+1))
}

// indexOf maps the local address a connection arrived on to a host index.
func (f *Fleet) indexOf(a net.Addr) (int, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return 0, false
	}
	ip := ta.IP.To4()
	if ip == nil || ip[0] != 127 || ip[3] == 0 || ip[3] == 255 {
		return 0, false
	}
	p := addrPos([4]byte(ip)) - f.basePos
	for _, g := range f.groups {
		if p >= g.pos && p < g.pos+g.count {
			return g.start + p - g.pos, true
		}
	}
	return 0, false
}

// posOf is host i's address position.
func (f *Fleet) posOf(i int) int {
	for _, g := range f.groups {
		if i >= g.start && i < g.start+g.count {
			return f.basePos + g.pos + i - g.start
		}
	}
	return f.basePos + i
}

func (f *Fleet) acceptManager() {
	defer f.wg.Done()
	for {
		c, err := f.Manager.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// boundSocket returns a TCP socket bound to ip:port and not listening.
func boundSocket(ip [4]byte, port int) (int, int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: ip}); err != nil {
		syscall.Close(fd)
		return -1, 0, fmt.Errorf("fleetsim: bind %v:%d: %w", net.IP(ip[:]), port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, 0, err
	}
	return fd, sa.(*syscall.SockaddrInet4).Port, nil
}

// blackhole makes host i's address never complete a TCP handshake, like a
// powered-off host behind a dropping firewall: a socket of its own
// listening with a backlog of zero that never accepts, its queue filled by
// one connection of ours, so the kernel drops every further SYN.
func (f *Fleet) blackhole(i int) error {
	ip := [4]byte(posAddr(f.posOf(i)).To4())
	fd, port, err := boundSocket(ip, 0)
	if err != nil {
		return err
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return err
	}
	f.blackholes[i] = blackhole{fd: fd, port: port}
	addr := net.JoinHostPort(net.IP(ip[:]).String(), strconv.Itoa(port))
	for k := 0; k < 2; k++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break // the queue is full
		}
		f.track(c)
	}
	return nil
}

func (f *Fleet) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
		return false
	default:
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Fleet) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *Fleet) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: back off rather than spin
			select {
			case <-f.closed:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		i, ok := f.indexOf(c.LocalAddr())
		if !ok || !f.track(c) {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			f.handle(f.Host(i), c)
		}()
	}
}

func (f *Fleet) handle(h *Host, c net.Conn) {
	switch h.Profile.Listen {
	case listenTarpit:
		<-f.closed // accept, say nothing, until the fleet stops
		return
	case listenNone, listenBlackhole:
		return // not this host's port
	}
	cfg := *f.cfgAuth
	if !h.Profile.Auth {
		cfg = *f.cfgNoAuth
	}
	cfg.AddHostKey(h.HostKey)
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	sc, chans, reqs, err := ssh.NewServerConn(c, &cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go f.session(h, ch, creqs)
	}
}

func (f *Fleet) session(h *Host, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		_ = ssh.Unmarshal(req.Payload, &payload)
		_ = req.Reply(true, nil)
		gone := make(chan struct{}) // closed when the client goes away
		go func() {
			for r := range reqs {
				_ = r.Reply(false, nil)
			}
			close(gone)
		}()
		script, _ := io.ReadAll(io.LimitReader(ch, 1<<20))
		status := f.answer(h, payload.Command, string(script), ch, gone)
		if status != noExitStatus {
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		}
		return
	}
}

// answer writes what the script would print on this host.
func (f *Fleet) answer(h *Host, command, script string, ch ssh.Channel, gone <-chan struct{}) uint32 {
	if f.opt.Latency > 0 {
		select {
		case <-time.After(f.opt.Latency):
		case <-f.closed:
			return 255
		}
	}
	if strings.Contains(command, "sudo -n") && h.Profile.BecomeDenied != "" {
		fmt.Fprintln(ch.Stderr(), h.Profile.BecomeDenied)
		return 1
	}
	if h.Profile.Windows != "" {
		// Windows over OpenSSH: the default shell (cmd.exe or PowerShell)
		// runs only the PowerShell bootstrap; a POSIX script fails there
		if !strings.HasPrefix(command, "powershell.exe ") {
			fmt.Fprint(ch.Stderr(), "'exec' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
			return 1
		}
		_, _ = ch.Write(wsmantest.Answer(script, h.Profile.Windows, time.Now().UTC(), "127.0.0.1"))
		return 0
	}
	if h.Profile.HangAt == "login" {
		return f.hang(gone)
	}
	hdr, err := frame.ParseHeader(script)
	if err != nil {
		fmt.Fprintln(ch.Stderr(), "sh: syntax error")
		return 2
	}
	call := &Call{Host: h, Now: time.Now().UTC(), Port: "4120", Manager: hdr.Manager}
	if hdr.Port > 0 {
		call.Port = strconv.Itoa(hdr.Port)
	}
	osName := h.Profile.OS
	if osName == "" {
		osName = "Linux"
	}
	b := frame.NewWriter(hdr.Nonce).OS(osName)
	checks, ok := hdr.Checks["linux"]
	if osName != "Linux" || !ok {
		// only the Linux branch of the script is "run" here
		b.Unsupported().Done()
		_, _ = io.WriteString(ch, b.String())
		return 0
	}
	b.Playbook("linux")
	for _, id := range checks {
		if id == h.Profile.HangAt {
			b.Begin(id)
			_, _ = io.WriteString(ch, b.String())
			return f.hang(gone)
		}
		if param, ok := h.Profile.Waits[id]; ok {
			// send what came before, then take as long as the probe would
			if _, err := io.WriteString(ch, b.String()); err != nil {
				return 255
			}
			b = frame.NewWriter(hdr.Nonce)
			secs, _ := strconv.Atoi(hdr.Params["linux"][param])
			select {
			case <-time.After(time.Duration(secs) * time.Second):
			case <-gone:
				return 255
			case <-f.closed:
				return 255
			}
		}
		b.Section(id, h.Profile.output(id, call), 0)
	}
	b.Done()
	if h.Profile.Drip > 0 {
		return f.drip(ch, b.String(), h.Profile.Drip, gone)
	}
	if h.Profile.Cut != nil {
		out, status := h.Profile.Cut(b.String())
		_, _ = io.WriteString(ch, out)
		return status
	}
	_, _ = io.WriteString(ch, b.String())
	return 0
}

// noExitStatus: the session closes without an exit status, like a
// connection dropped mid-script.
const noExitStatus = 1 << 31

// drip writes out a line at a time, every, until done or the client
// gives up.
func (f *Fleet) drip(ch ssh.Channel, out string, every time.Duration, gone <-chan struct{}) uint32 {
	t := time.NewTicker(every)
	defer t.Stop()
	for _, line := range strings.SplitAfter(out, "\n") {
		if _, err := io.WriteString(ch, line); err != nil {
			return 255
		}
		select {
		case <-t.C:
		case <-gone:
			return 255
		case <-f.closed:
			return 255
		}
	}
	return 0
}

// hang blocks like a command that never returns, until the client gives
// up or the fleet closes.
func (f *Fleet) hang(gone <-chan struct{}) uint32 {
	select {
	case <-f.closed:
	case <-gone:
	}
	return 255
}

// Close stops every host and waits for their goroutines.
func (f *Fleet) Close() {
	f.mu.Lock()
	select {
	case <-f.closed:
		f.mu.Unlock()
		return
	default:
	}
	close(f.closed)
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	if f.Manager != nil {
		f.Manager.Close()
	}
	if f.ln != nil {
		f.ln.Close()
	}
	if f.refusedFD >= 0 {
		syscall.Close(f.refusedFD)
	}
	for _, b := range f.blackholes {
		syscall.Close(b.fd)
	}
	f.wg.Wait()
}

// WriteFiles writes an inventory, a known_hosts file and the client key
// into dir, ready for `whyoffline scan`. It returns the inventory path.
func (f *Fleet) WriteFiles(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	block, err := ssh.MarshalPrivateKey(f.clientPriv, "whyoffline fleetsim")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	err = writeFile(invPath, func(inv *bufio.Writer) error {
		return writeFile(filepath.Join(dir, "known_hosts"), func(kh *bufio.Writer) error {
			fmt.Fprintf(inv, "# written by fleetsim: %d simulated hosts on loopback\n", f.n)
			fmt.Fprintf(inv, "manager:\n  host: localhost\n  port: %d\n", f.ManagerPort())
			fmt.Fprintf(inv, "defaults:\n  user: demo\n  key_file: %s\n  os: linux\nhosts:\n", keyPath)
			for i := 0; i < f.n; i++ {
				h := f.Host(i)
				if h.KnownKey != nil {
					kh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)))}, h.KnownKey) + "\n")
				}
				fmt.Fprintf(inv, "  %s: {address: %s, port: %d", h.Name, h.Addr, h.Port)
				if h.Profile.BecomeDenied != "" {
					inv.WriteString(", become: true")
				}
				switch {
				case h.Profile.Windows != "":
					inv.WriteString(", os: windows")
				case h.Profile.OS != "":
					inv.WriteString(", os: \"\"")
				}
				inv.WriteString("}\n")
			}
			return nil
		})
	})
	return invPath, err
}

// writeFile writes path (mode 0600) through a buffer fill writes.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(fh, 1<<16)
	err = fill(w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// ManagerPort is the port of the stand-in manager on 127.0.0.1.
func (f *Fleet) ManagerPort() int { return f.Manager.Addr().(*net.TCPAddr).Port }
