// Package fleetsim simulates a fleet of SSH hosts on loopback addresses
// (127.x.y.z), each with its own host key, answering the playbook's script
// with the output a host of its profile would print. It drives the real
// transport, parsing and diagnosis code of `whyoffline scan`, for the demo,
// scale tests and benchmarks. Only loopback addresses are ever used.
package fleetsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
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

// Host is one simulated host.
type Host struct {
	Name    string
	Addr    string // 127.x.y.z
	Port    int
	Profile *Profile
	HostKey ssh.Signer
	// KnownKey is the key written to known_hosts for this host (differs
	// from HostKey for a "changed key" host; nil: not written at all).
	KnownKey ssh.PublicKey

	managerAddr string
	ln          net.Listener
	fd          int // blackhole socket
}

// Options for a simulated fleet.
type Options struct {
	Port int // SSH port on every address (default 2222)
	// Latency is added before a host answers its script.
	Latency time.Duration
	// Base is the first address; hosts take consecutive addresses.
	Base [4]byte
}

// Fleet is a running simulated fleet.
type Fleet struct {
	Hosts      []*Host
	ClientKey  ssh.Signer
	clientPriv ed25519.PrivateKey
	Manager    net.Listener // a TCP listener standing in for the manager
	opt        Options
	cfgAuth    *ssh.ServerConfig
	cfgNoAuth  *ssh.ServerConfig
	wg         sync.WaitGroup
	closed     chan struct{}
	mu         sync.Mutex
	conns      map[net.Conn]struct{}
}

// Spec asks for count hosts of one profile; name prefixes their names.
type Spec struct {
	Profile string
	Count   int
	Name    string // optional fixed name (Count 1)
	// UnknownKey: leave the host out of known_hosts; ChangedKey: write a
	// different key for it.
	UnknownKey, ChangedKey bool
}

// Start brings up the fleet.
func Start(specs []Spec, opt Options) (*Fleet, error) {
	if opt.Port == 0 {
		opt.Port = 2222
	}
	if opt.Base == [4]byte{} {
		opt.Base = [4]byte{127, 77, 0, 1}
	}
	if opt.Base[0] != 127 {
		return nil, errors.New("fleetsim: only loopback (127.0.0.0/8) addresses are allowed")
	}
	f := &Fleet{opt: opt, closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
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
	mgr, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.Manager = mgr
	f.wg.Add(1)
	go f.acceptManager()

	ip := opt.Base
	next := func() string {
		s := net.IPv4(ip[0], ip[1], ip[2], ip[3]).String()
		ip[3]++
		if ip[3] == 0 || ip[3] == 255 {
			ip[3] = 1
			ip[2]++
			if ip[2] == 0 {
				ip[1]++
			}
		}
		return s
	}
	n := 0
	for _, sp := range specs {
		p := Profiles[sp.Profile]
		if p == nil {
			f.Close()
			return nil, fmt.Errorf("fleetsim: unknown profile %q", sp.Profile)
		}
		for i := 0; i < sp.Count; i++ {
			n++
			h := &Host{Name: fmt.Sprintf("%s-%03d", sp.Profile, i+1), Addr: next(), Port: opt.Port, Profile: p, managerAddr: "127.0.0.1"}
			if sp.Name != "" {
				h.Name = sp.Name
			}
			_, hk, _ := ed25519.GenerateKey(rand.Reader)
			h.HostKey, _ = ssh.NewSignerFromKey(hk)
			switch {
			case sp.UnknownKey:
			case sp.ChangedKey:
				_, other, _ := ed25519.GenerateKey(rand.Reader)
				wrong, _ := ssh.NewSignerFromKey(other)
				h.KnownKey = wrong.PublicKey()
			default:
				h.KnownKey = h.HostKey.PublicKey()
			}
			if err := f.listen(h); err != nil {
				f.Close()
				return nil, err
			}
			f.Hosts = append(f.Hosts, h)
		}
	}
	return f, nil
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

func (f *Fleet) listen(h *Host) error {
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	switch h.Profile.Listen {
	case listenNone:
		return nil
	case listenBlackhole:
		return f.blackhole(h)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fleetsim: listen %s: %w", addr, err)
	}
	h.ln = ln
	f.wg.Add(1)
	go f.serve(h)
	return nil
}

// blackhole makes an address that never completes a TCP handshake, like a
// powered-off host behind a dropping firewall: a socket listening with a
// backlog of zero that never accepts, its queue filled by one connection
// of our own, so the kernel drops every further SYN.
func (f *Fleet) blackhole(h *Host) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	ip := net.ParseIP(h.Addr).To4()
	sa := &syscall.SockaddrInet4{Port: h.Port}
	copy(sa.Addr[:], ip)
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("fleetsim: bind %s: %w", h.Addr, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return err
	}
	h.fd = fd
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	for i := 0; i < 2; i++ {
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

func (f *Fleet) serve(h *Host) {
	defer f.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			f.handle(h, c)
		}()
	}
}

func (f *Fleet) handle(h *Host, c net.Conn) {
	if h.Profile.Listen == listenTarpit {
		<-f.closed // accept, say nothing, until the fleet stops
		return
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
	for _, h := range f.Hosts {
		if h.ln != nil {
			h.ln.Close()
		}
		if h.fd > 0 {
			syscall.Close(h.fd)
		}
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
	var kh, inv strings.Builder
	fmt.Fprintf(&inv, "# written by fleetsim: %d simulated hosts on loopback\n", len(f.Hosts))
	fmt.Fprintf(&inv, "manager:\n  host: localhost\n  port: %d\n", f.ManagerPort())
	fmt.Fprintf(&inv, "defaults:\n  user: demo\n  key_file: %s\n  os: linux\nhosts:\n", keyPath)
	for _, h := range f.Hosts {
		if h.KnownKey != nil {
			kh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)))}, h.KnownKey) + "\n")
		}
		fmt.Fprintf(&inv, "  %s: {address: %s, port: %d", h.Name, h.Addr, h.Port)
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
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(kh.String()), 0o600); err != nil {
		return "", err
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	return invPath, os.WriteFile(invPath, []byte(inv.String()), 0o600)
}

// ManagerPort is the port of the stand-in manager on 127.0.0.1.
func (f *Fleet) ManagerPort() int { return f.Manager.Addr().(*net.TCPAddr).Port }
