// Package ssh is the SSH transport: keys (parsed once per run), ssh-agent,
// passwords from the environment, ~/.ssh/config, ProxyJump chains, strict
// host-key checking, and one session per host running one script.
package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Config for the SSH transport.
type Config struct {
	KnownHosts     []string // known_hosts files; the first receives accept-new keys
	HostKeyPolicy  string   // strict | accept-new
	ConnectTimeout time.Duration
	SSHConfigFile  string // "" = none
	DefaultUser    string
	Home           string
	Getenv         func(string) string
	// MaxPerAddress bounds logins in progress to one address:port (0: 8).
	MaxPerAddress int
	// Dial overrides how TCP connections are made (tests, simulators).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is the SSH transport for one run.
type Client struct {
	cfg      Config
	hostKeys *hostKeys
	keys     *keyring
	agent    *agentConn
	*Resolver

	jumpMu sync.Mutex
	jumps  map[string]*jumpEntry

	slotMu sync.Mutex
	slots  map[string]*slotEntry // by address:port: logins in progress
}

// New prepares the transport: reads known_hosts and ssh_config once.
func New(cfg Config) (*Client, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.MaxPerAddress <= 0 {
		cfg.MaxPerAddress = 8
	}
	if cfg.HostKeyPolicy == "" {
		cfg.HostKeyPolicy = Strict
	}
	hk, err := newHostKeys(cfg.KnownHosts, cfg.HostKeyPolicy)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		hostKeys: hk,
		keys:     newKeyring(cfg.Getenv, cfg.Home),
		agent:    &agentConn{sock: cfg.Getenv("SSH_AUTH_SOCK")},
		jumps:    map[string]*jumpEntry{},
		slots:    map[string]*slotEntry{},
	}
	if c.Resolver, err = NewResolver(cfg.SSHConfigFile, cfg.DefaultUser); err != nil {
		return nil, err
	}
	return c, nil
}

// Close releases shared connections (jump hosts).
func (c *Client) Close() {
	c.jumpMu.Lock()
	defer c.jumpMu.Unlock()
	for _, j := range c.jumps {
		if j.client != nil {
			j.client.Close()
		}
	}
	c.jumps = map[string]*jumpEntry{}
}

// target is where and how to log in, after ssh_config filled the gaps.
type target struct {
	alias    string
	host     string
	port     int
	user     string
	keyFiles []string
	// certFiles: ssh_config CertificateFile; identitiesOnly: offer only
	// the keys named, not every key ssh-agent holds
	certFiles      []string
	identitiesOnly bool
	jump           string
	command        string // ProxyCommand (when there is no jump host)
	legacy         bool   // allow old kex/ciphers/host keys (ssh_legacy)
}

func (t target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// DefaultPort is where SSH listens unless the inventory or ssh_config say
// otherwise.
const DefaultPort = 22

// Resolver derives each host's SSH endpoint: the inventory's settings, then
// ssh_config for what the inventory left unset, then the defaults. It
// reads nothing but ssh_config, so `whyoffline inventory` can use it
// without known_hosts or keys.
type Resolver struct {
	sshcfg      *sshConfig
	defaultUser string
}

// NewResolver reads sshConfigFile ("" = none; a missing file is no
// ssh_config).
func NewResolver(sshConfigFile, defaultUser string) (*Resolver, error) {
	r := &Resolver{defaultUser: defaultUser}
	if sshConfigFile == "" {
		return r, nil
	}
	// a regular file of at most 4 MiB (a FIFO would hang the run), no
	// line longer than 16 KiB (the parser is slow on those, and no
	// OpenSSH setting is that long)
	text, err := safefile.Read(sshConfigFile, 4<<20)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %v", sshConfigFile, unwrapPath(err))
	}
	for n, line := range bytes.Split(text, []byte("\n")) {
		if len(line) > 16<<10 {
			return nil, fmt.Errorf("ssh config %s:%d: a line of %d KiB: no OpenSSH setting is that long; is it the right file?", sshConfigFile, n+1, len(line)>>10)
		}
	}
	if r.sshcfg, err = newSSHConfig(sshConfigFile, string(text)); err != nil {
		return nil, err
	}
	return r, nil
}

// Warnings are what the ssh_config file holds that whyoffline does not
// apply (Match exec, ...), one line each, for stderr.
func (r *Resolver) Warnings() []string {
	if r.sshcfg == nil {
		return nil
	}
	return r.sshcfg.warnings
}

// Endpoint is where and as whom the scan logs in to h; an error is an
// SSH option of h's that does not work, with the place it was set.
func (r *Resolver) Endpoint(h *inventory.Host) (transport.Endpoint, error) {
	o, err := optionsOf(h)
	if err != nil {
		return transport.Endpoint{}, err
	}
	t := r.resolveWith(h, o)
	via := t.jump
	if via == "" && t.command != "" {
		via = "ProxyCommand " + t.command
	}
	return transport.Endpoint{Transport: inventory.SSH, Address: t.host, Port: t.port, User: t.user, Via: via}, nil
}

// resolve applies ~/.ssh/config to what the inventory left unset. Options
// were checked by Preflight or Endpoint; one that fails here counts as
// unset.
func (r *Resolver) resolve(h *inventory.Host) target {
	o, _ := optionsOf(h)
	return r.resolveWith(h, o)
}

// resolveWith is resolve with h's options already read.
func (r *Resolver) resolveWith(h *inventory.Host, o hostOptions) target {
	t := target{alias: h.Name, host: h.Address, port: h.Port, user: h.User, jump: o.proxyJump, command: o.proxyCommand, legacy: o.legacy,
		identitiesOnly: o.identitiesOnly}
	if o.certFile != "" {
		t.certFiles = []string{o.certFile}
	}
	if t.port <= 0 {
		t.port = DefaultPort
	}
	if o.keyFile != "" {
		t.keyFiles = []string{o.keyFile}
	}
	if r.sshcfg != nil {
		r.applySSHConfig(h, &t)
	}
	if t.jump != "" {
		t.command = "" // as OpenSSH: one way in front of the host
	}
	if t.user == "" {
		t.user = r.defaultUser
	}
	return t
}

// applySSHConfig fills from ssh_config what the inventory left unset.
func (r *Resolver) applySSHConfig(h *inventory.Host, t *target) {
	u := t.user
	if u == "" {
		u = r.defaultUser
	}
	cfg, err := r.sshcfg.forUser(u)
	if err != nil {
		return // the file parsed for every user at start: cannot happen
	}
	get := func(key string) string {
		v, _ := cfg.Get(h.Name, key)
		return strings.TrimSpace(v)
	}
	if !h.Explicit("address") {
		if v := get("HostName"); v != "" {
			t.host = strings.ReplaceAll(v, "%h", h.Name)
		}
	}
	if !h.Explicit("user") && t.user == "" {
		t.user = get("User")
	}
	if !h.Explicit("port") {
		if p, err := strconv.Atoi(get("Port")); err == nil && p > 0 && p < 65536 {
			t.port = p
		}
	}
	if !h.Explicit("key_file") {
		if files, _ := cfg.GetAll(h.Name, "IdentityFile"); len(files) > 0 {
			t.keyFiles = files
		}
	}
	if files, _ := cfg.GetAll(h.Name, "CertificateFile"); len(files) > 0 && len(t.certFiles) == 0 {
		t.certFiles = files
	}
	if !h.Explicit("identities_only") && strings.EqualFold(get("IdentitiesOnly"), "yes") {
		t.identitiesOnly = true
	}
	// the inventory's jump host or proxy command, else ssh_config's
	if t.jump == "" && t.command == "" && !h.Explicit("proxy_jump") && !h.Explicit("proxy_command") {
		if v := get("ProxyJump"); v != "" && !strings.EqualFold(v, "none") {
			t.jump = v
		} else if v := get("ProxyCommand"); v != "" && !strings.EqualFold(v, "none") {
			t.command = v
		}
	}
}

// Preflight loads every private key the hosts name, so an unreadable or
// undecryptable key is a usage error before any host is contacted.
func (c *Client) Preflight(hosts []*inventory.Host) error {
	for _, h := range hosts {
		if h.Transport != inventory.SSH {
			continue
		}
		o, err := optionsOf(h)
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		t := c.resolveWith(h, o)
		for _, kf := range t.keyFiles {
			if _, err := c.keys.load(kf); err != nil {
				return fmt.Errorf("host %s (%s): %w", h.Name, h.Source, err)
			}
		}
		if _, err := c.keys.certificates(t.keyFiles, t.certFiles); err != nil {
			return fmt.Errorf("host %s (%s): %w", h.Name, h.Source, err)
		}
		if _, err := password(c.cfg.Getenv, h); err != nil {
			return fmt.Errorf("host %s (%s): %w", h.Name, h.Source, err)
		}
	}
	return nil
}

// Run logs in to h, runs req once and returns its output.
func (c *Client) Run(ctx context.Context, h *inventory.Host, req transport.Request) (*transport.Response, error) {
	t := c.resolve(h)
	client, err := c.connect(ctx, h, t)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return runSession(ctx, client, t.addr(), req)
}

// handshakeState is what the handshake learns that its error does not
// say: why a host key was refused, and the authentication methods the
// server offered.
type handshakeState struct {
	failure result.ErrorKind
	offered []string
}

func (c *Client) clientConfig(h *inventory.Host, t target, st *handshakeState) (*xssh.ClientConfig, error) {
	methods, err := c.authMethods(h, t)
	if err != nil {
		return nil, transport.Errorf(result.AuthFailed, err, "%v", err)
	}
	if len(methods) == 0 {
		return nil, transport.Errorf(result.AuthFailed, nil, "no credentials for %s: give key_file (ansible_ssh_private_key_file), run ssh-agent, or set %s", h.Name, EnvPassword)
	}
	algs := xssh.SupportedAlgorithms()
	cfg := &xssh.ClientConfig{
		User:              t.user,
		Auth:              methods,
		HostKeyCallback:   c.hostKeys.callback(&st.failure),
		HostKeyAlgorithms: c.hostKeys.algorithms(t.addr(), t.legacy),
		Timeout:           c.cfg.ConnectTimeout,
		ClientVersion:     "SSH-2.0-whyoffline",
		// only listens: the methods the server says can continue, for the
		// error when none of ours works; the usual order picks the next
		AuthCallback: func(ac *xssh.ClientAuthContext) (xssh.AuthMethod, error) {
			st.offered = ac.AllowedMethods
			return nil, nil
		},
	}
	cfg.KeyExchanges = algs.KeyExchanges
	cfg.Ciphers = algs.Ciphers
	cfg.MACs = algs.MACs
	if t.legacy {
		// Old Solaris 10 / AIX sshd: only for hosts the inventory opts in.
		insecure := xssh.InsecureAlgorithms()
		cfg.KeyExchanges = append(append([]string{}, algs.KeyExchanges...), insecure.KeyExchanges...)
		cfg.Ciphers = append(append([]string{}, algs.Ciphers...), insecure.Ciphers...)
		cfg.MACs = append(append([]string{}, algs.MACs...), insecure.MACs...)
	}
	return cfg, nil
}

// connect dials (directly or through jump hosts) and completes the SSH
// handshake within ctx. At most MaxPerAddress logins to one address:port
// are in progress at once (many inventory names on one sshd, a shared
// gateway), and a connection dropped before the login (sshd MaxStartups)
// is tried once more after a random pause.
func (c *Client) connect(ctx context.Context, h *inventory.Host, t target) (*xssh.Client, error) {
	release, err := c.slot(ctx, t.addr())
	if err != nil {
		return nil, err
	}
	defer release()
	client, err := c.connectOnce(ctx, h, t)
	if err == nil || !droppedBeforeLogin(err) {
		return client, err
	}
	pause := 200*time.Millisecond + time.Duration(rand.Int64N(int64(time.Second)))
	select {
	case <-time.After(pause):
	case <-ctx.Done():
		return nil, err
	}
	client, err2 := c.connectOnce(ctx, h, t)
	if err2 != nil && droppedBeforeLogin(err2) {
		return nil, transport.Errorf(result.ProtocolError, err2, "%s closed the connection before the login, twice (sshd MaxStartups reached by other logins, tcp_wrappers or sshd's PerSourcePenalties, or not an SSH server): lower --per-address or raise MaxStartups", t.addr())
	}
	return client, err2
}

// droppedBeforeLogin: the server closed or reset the connection during
// the handshake.
func droppedBeforeLogin(err error) bool {
	var d *preLoginDrop
	// only as the host's own error: behind a ProxyCommand or jump host
	// the drop is theirs (jump-failed), not a busy sshd's
	return transport.KindOf(err) == result.ProtocolError && errors.As(err, &d)
}

// preLoginDrop marks a handshake the server ended by closing or resetting
// the connection (classifyHandshake decides it, once).
type preLoginDrop struct{ err error }

func (e *preLoginDrop) Error() string { return e.err.Error() }
func (e *preLoginDrop) Unwrap() error { return e.err }

// slot waits for a free login slot to addr. An address's entry lives only
// while someone holds or waits for it: a sweep of 100,000 addresses keeps
// none of them.
func (c *Client) slot(ctx context.Context, addr string) (func(), error) {
	c.slotMu.Lock()
	e := c.slots[addr]
	if e == nil {
		e = &slotEntry{ch: make(chan struct{}, c.cfg.MaxPerAddress)}
		c.slots[addr] = e
	}
	e.users++
	c.slotMu.Unlock()
	leave := func() {
		c.slotMu.Lock()
		if e.users--; e.users == 0 {
			delete(c.slots, addr)
		}
		c.slotMu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctxError(ctx, addr, "waiting for a free login slot (--per-address)")
	}
}

// slotEntry is one address's login slots and how many hold or want one.
type slotEntry struct {
	ch    chan struct{}
	users int
}

func (c *Client) connectOnce(ctx context.Context, h *inventory.Host, t target) (client *xssh.Client, err error) {
	// Dial first: a host that is off is "unreachable" whatever the
	// credentials situation.
	conn, err := c.dialTarget(ctx, h, t)
	if err != nil {
		return nil, err
	}
	// Like OpenSSH's ConnectTimeout, the connect timeout also bounds the
	// banner and key exchange: a tarpit costs that, not the host deadline.
	limit := c.cfg.ConnectTimeout
	if pc, ok := conn.(*commandConn); ok {
		// a proxy command makes its own connections (often a whole ssh
		// login to a bastion) before the host's banner can arrive
		limit *= 2
		defer func() {
			if err != nil {
				err = pc.failure(err, limit)
			}
		}()
	}
	hctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var st handshakeState
	cfg, err := c.clientConfig(h, t, &st)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return handshake(hctx, conn, t.addr(), cfg, &st)
}

func (c *Client) dialTarget(ctx context.Context, h *inventory.Host, t target) (net.Conn, error) {
	switch {
	case t.jump != "":
		return c.dialViaJump(ctx, h, t)
	case t.command != "":
		return dialCommand(ctx, t)
	}
	return c.dialTCP(ctx, t.addr())
}

func (c *Client) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	var err error
	if c.cfg.Dial != nil {
		conn, err = c.cfg.Dial(dctx, "tcp", addr)
	} else {
		d := net.Dialer{}
		conn, err = d.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		return nil, transport.ClassifyDial(ctx, addr, c.cfg.ConnectTimeout, err)
	}
	return conn, nil
}

// handshake runs the SSH handshake bounded by ctx: a tarpit that accepts TCP
// and never speaks costs at most the host's deadline.
func handshake(ctx context.Context, conn net.Conn, addr string, cfg *xssh.ClientConfig, st *handshakeState) (*xssh.Client, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	sc, chans, reqs, err := xssh.NewClientConn(conn, addr, cfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		return nil, classifyHandshake(ctx, addr, err, st, !stopped)
	}
	_ = conn.SetDeadline(time.Time{})
	return xssh.NewClient(sc, chans, reqs), nil
}

func classifyHandshake(ctx context.Context, addr string, err error, st *handshakeState, ctxFired bool) error {
	failure := st.failure
	var te *transport.Error
	if errors.As(err, &te) {
		return te
	}
	if failure != "" {
		return transport.Errorf(failure, err, "%s: host key rejected", addr)
	}
	msg := err.Error()
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return transport.Errorf(result.Interrupted, err, "scan interrupted during the SSH handshake with %s", addr)
	case ctxFired || transport.IsTimeout(err):
		return transport.Errorf(result.Timeout, err, "%s accepted TCP but the SSH handshake did not finish in time (overloaded sshd, tarpit or a middlebox swallowing traffic)", addr)
	case strings.Contains(strings.ToLower(msg), "too many authentication failures"):
		return transport.Errorf(result.AuthFailed, err, "%s cut the login short: too many keys were offered before the right one (ssh-agent holds many; sshd MaxAuthTries): set IdentitiesOnly yes for the host (ssh_config, or -o IdentitiesOnly=yes in ansible_ssh_common_args) and name its key", addr)
	case strings.Contains(msg, "unable to authenticate"):
		offered := "the server named no methods"
		if len(st.offered) > 0 {
			offered = "the server offers " + textsafe.Line(strings.Join(st.offered, ", "), 120)
		}
		hint := ""
		wantsPassword := slices.Contains(st.offered, "password") || slices.Contains(st.offered, "keyboard-interactive")
		if wantsPassword && !strings.Contains(msg, "password") && !strings.Contains(msg, "keyboard-interactive") {
			hint = "; it would take a password (keyboard-interactive, PAM): set " + EnvPassword + " or " + EnvPasswordFile
		}
		if !slices.Contains(st.offered, "publickey") && len(st.offered) > 0 {
			hint += "; it takes no keys from this user (sshd PubkeyAuthentication, or a Match block)"
		}
		return transport.Errorf(result.AuthFailed, err, "%s rejected every credential offered (%s; %s): check the user, the key (ansible_ssh_private_key_file / key_file), its certificate and authorized_keys on the host%s", addr, textsafe.Line(strings.TrimPrefix(msg, "ssh: handshake failed: "), 200), offered, hint)
	case strings.Contains(msg, "no common algorithm"):
		return transport.Errorf(result.ProtocolError, err, "%s and whyoffline share no SSH algorithm (%s): for an old sshd set ssh_legacy: true (whyoffline_ssh_legacy) on that host or group", addr, textsafe.Line(strings.TrimPrefix(msg, "ssh: handshake failed: "), 200))
	case errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset"):
		return transport.Errorf(result.ProtocolError, &preLoginDrop{err}, "%s closed the connection during the SSH handshake (sshd MaxStartups, tcp_wrappers, or not an SSH server)", addr)
	}
	return transport.Errorf(result.ProtocolError, err, "SSH handshake with %s failed: %s", addr, textsafe.Line(msg, 300))
}

// runSession runs one command with the script on stdin, bounded by ctx.
func runSession(ctx context.Context, client *xssh.Client, addr string, req transport.Request) (*transport.Response, error) {
	sess, err := client.NewSession()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx, addr, "opening a session")
		}
		return nil, transport.Errorf(result.ProtocolError, err, "%s: cannot open an SSH session: %s", addr, textsafe.Line(err.Error(), 200))
	}
	defer sess.Close()
	stdout := &textsafe.CappedBuffer{Limit: transport.MaxStdout}
	stderr := &textsafe.CappedBuffer{Limit: transport.MaxStderr}
	sess.Stdout = stdout
	sess.Stderr = stderr
	// stdin is written here, not copied by the session: a remote that
	// exits without reading it (ForceCommand /bin/true) makes that copy
	// fail, and the session would report the copy's error instead of the
	// exit status — a race a busy bastion loses. What the host did with
	// the script shows in what it printed.
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, transport.Errorf(result.ProtocolError, err, "%s: cannot open the session's input: %s", addr, textsafe.Line(err.Error(), 200))
	}
	resp := &transport.Response{Started: time.Now(), RemoteAddr: hostOf(client.RemoteAddr())}
	done := make(chan error, 1)
	if err := sess.Start(req.Command); err != nil {
		return nil, transport.Errorf(result.ProtocolError, err, "%s: cannot start the check command: %s", addr, textsafe.Line(err.Error(), 200))
	}
	go func() {
		_, _ = stdin.Write(req.Stdin)
		_ = stdin.Close()
	}()
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(xssh.SIGKILL)
		client.Close() // unblocks Run
		<-done
		resp.Finished = time.Now()
		resp.Stdout, resp.Stderr = stdout.Bytes(), stderr.Bytes()
		return resp, ctxError(ctx, addr, "running the checks")
	}
	resp.Finished = time.Now()
	resp.Stdout, resp.Stderr = stdout.Bytes(), stderr.Bytes()
	resp.Truncated = stdout.Truncated() || stderr.Truncated()
	var exitErr *xssh.ExitError
	var missing *xssh.ExitMissingError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		resp.ExitCode = exitErr.ExitStatus()
	case errors.As(err, &missing):
		resp.ExitCode = -1
	default:
		return resp, transport.Errorf(result.ProtocolError, err, "%s: session failed: %s", addr, textsafe.Line(err.Error(), 200))
	}
	return resp, nil
}

func ctxError(ctx context.Context, addr, doing string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return transport.Errorf(result.Interrupted, ctx.Err(), "scan interrupted while %s on %s", doing, addr)
	}
	return transport.Errorf(result.Timeout, ctx.Err(), "%s: the host's deadline passed while %s", addr, doing)
}

// hostOf is the IP address of a connection's remote end ("" when it is
// not an IP: a ProxyCommand's pipe).
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().String()
	}
	return ""
}
