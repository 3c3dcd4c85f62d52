package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
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
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// testServer is a real SSH server (x/crypto/ssh) on loopback.
type testServer struct {
	ln net.Listener
	// exec answers a command; it gets the script on stdin.
	exec func(cmd string, stdin []byte, ch xssh.Channel) uint32
	// jump: accept direct-tcpip forwards (a ProxyJump host).
	jump  bool
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn // open connections, for drop
	// refuse: close this many new connections before the handshake, as
	// sshd does past MaxStartups
	refuse int
}

// drop cuts every open connection, as a jump host that reboots or a
// firewall that expires idle flows does.
func (s *testServer) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func newSigner(t *testing.T, kind string) xssh.Signer {
	t.Helper()
	var key any
	switch kind {
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	default:
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		key = k
	}
	s, err := xssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t *testing.T, clientKey xssh.PublicKey, hostKeys ...xssh.Signer) *testServer {
	t.Helper()
	cfg := &xssh.ServerConfig{PublicKeyCallback: func(_ xssh.ConnMetadata, k xssh.PublicKey) (*xssh.Permissions, error) {
		if string(k.Marshal()) == string(clientKey.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("no")
	}}
	for _, hk := range hostKeys {
		cfg.AddHostKey(hk)
	}
	return serve(t, cfg, func(cmd string, stdin []byte, ch xssh.Channel) uint32 {
		_, _ = ch.Write([]byte("ran:" + cmd + "\n"))
		_, _ = ch.Write(stdin)
		return 0
	})
}

// serve accepts SSH connections with cfg until the test ends; exec
// answers each command.
func serve(t *testing.T, cfg *xssh.ServerConfig, exec func(cmd string, stdin []byte, ch xssh.Channel) uint32) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, exec: exec}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.handle(c, cfg)
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *testServer) handle(c net.Conn, cfg *xssh.ServerConfig) {
	defer c.Close()
	s.mu.Lock()
	if s.refuse > 0 {
		s.refuse--
		s.mu.Unlock()
		return
	}
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	sc, chans, reqs, err := xssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go xssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "direct-tcpip":
			if !s.jump {
				_ = nc.Reject(xssh.Prohibited, "no")
				continue
			}
			var p struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			_ = xssh.Unmarshal(nc.ExtraData(), &p)
			up, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
			if err != nil {
				_ = nc.Reject(xssh.ConnectionFailed, err.Error())
				continue
			}
			ch, r, _ := nc.Accept()
			go xssh.DiscardRequests(r)
			go func() { _, _ = io.Copy(ch, up); ch.Close() }()
			go func() { _, _ = io.Copy(up, ch); up.Close() }()
		case "session":
			ch, r, err := nc.Accept()
			if err != nil {
				return
			}
			go func() {
				defer ch.Close()
				for req := range r {
					if req.Type != "exec" {
						_ = req.Reply(false, nil)
						continue
					}
					var p struct{ Command string }
					_ = xssh.Unmarshal(req.Payload, &p)
					_ = req.Reply(true, nil)
					in, _ := io.ReadAll(ch)
					code := s.exec(p.Command, in, ch)
					_, _ = ch.SendRequest("exit-status", false, xssh.Marshal(struct{ Status uint32 }{code}))
					return
				}
			}()
		default:
			_ = nc.Reject(xssh.UnknownChannelType, "no")
		}
	}
}

func (s *testServer) hostPort() (string, int) {
	a := s.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

type fixture struct {
	dir     string
	keyPath string
	signer  xssh.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := xssh.MarshalPrivateKey(priv, "")
	p := filepath.Join(dir, "id")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := xssh.NewSignerFromKey(priv)
	return &fixture{dir: dir, keyPath: p, signer: s}
}

func (f *fixture) knownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(f.dir, "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func khLine(host string, port int, key xssh.PublicKey) string {
	return "[" + host + "]:" + strconv.Itoa(port) + " " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(key)))
}

func (f *fixture) client(t *testing.T, kh, policy string) *Client {
	t.Helper()
	c, err := New(Config{KnownHosts: []string{kh}, HostKeyPolicy: policy, ConnectTimeout: 2 * time.Second,
		DefaultUser: "u", Home: f.dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (f *fixture) host(addr string, port int) *inventory.Host {
	h := &inventory.Host{Name: "h", Address: addr, Port: port, Transport: inventory.SSH}
	h.SetOption("key_file", f.keyPath, "test")
	return h
}

func run(t *testing.T, c *Client, h *inventory.Host, timeout time.Duration) (*transport.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Run(ctx, h, transport.Request{Command: "sh -s", Stdin: []byte("echo hi\n")})
}

func TestRunAndHostKeys(t *testing.T) {
	f := newFixture(t)
	ed, rsaKey, other := newSigner(t, "ed25519"), newSigner(t, "rsa"), newSigner(t, "ed25519")
	// The server offers both key types, preferring ed25519.
	srv := startServer(t, f.signer.PublicKey(), ed, rsaKey)
	addr, port := srv.hostPort()
	cases := []struct {
		name   string
		known  []string
		policy string
		kind   result.ErrorKind // "" = success
	}{
		{"known ed25519", []string{khLine(addr, port, ed.PublicKey())}, Strict, ""},
		// known_hosts holds only the RSA key: the client must ask for RSA,
		// not call the server's ed25519 key "changed".
		{"known rsa only", []string{khLine(addr, port, rsaKey.PublicKey())}, Strict, ""},
		{"unknown", nil, Strict, result.HostKeyUnknown},
		{"changed", []string{khLine(addr, port, other.PublicKey())}, Strict, result.HostKeyMismatch},
		{"changed, accept-new still refuses", []string{khLine(addr, port, other.PublicKey())}, AcceptNew, result.HostKeyMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kh := f.knownHosts(t, c.known...)
			resp, err := run(t, f.client(t, kh, c.policy), f.host(addr, port), 5*time.Second)
			if c.kind == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if string(resp.Stdout) != "ran:sh -s\necho hi\n" || resp.ExitCode != 0 {
					t.Fatalf("output %q exit %d", resp.Stdout, resp.ExitCode)
				}
				return
			}
			if got := transport.KindOf(err); got != c.kind {
				t.Fatalf("kind %s (%v), want %s", got, err, c.kind)
			}
		})
	}
}

func TestAcceptNewRecordsKey(t *testing.T) {
	f := newFixture(t)
	hk := newSigner(t, "ed25519")
	srv := startServer(t, f.signer.PublicKey(), hk)
	addr, port := srv.hostPort()
	kh := filepath.Join(f.dir, "sub", "known_hosts") // directory does not exist yet
	if _, err := run(t, f.client(t, kh, AcceptNew), f.host(addr, port), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(kh)
	if err != nil || !strings.Contains(string(data), xssh.FingerprintSHA256(hk.PublicKey())[:0]+"ssh-ed25519") {
		t.Fatalf("known_hosts: %q %v", data, err)
	}
	if _, err := run(t, f.client(t, kh, Strict), f.host(addr, port), 5*time.Second); err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
}

func TestFailures(t *testing.T) {
	f := newFixture(t)
	hk := newSigner(t, "ed25519")
	srv := startServer(t, newSigner(t, "ed25519").PublicKey(), hk) // accepts another client key
	addr, port := srv.hostPort()
	kh := f.knownHosts(t, khLine(addr, port, hk.PublicKey()))
	if _, err := run(t, f.client(t, kh, Strict), f.host(addr, port), 5*time.Second); transport.KindOf(err) != result.AuthFailed {
		t.Errorf("wrong key: %v", err)
	}

	// refused: a port nothing listens on
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := run(t, f.client(t, kh, Strict), f.host("127.0.0.1", closedPort), 5*time.Second); transport.KindOf(err) != result.ConnectionRefused {
		t.Errorf("refused: %v", err)
	}

	// tarpit: accepts, never speaks; bounded by the connect timeout
	tp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer tp.Close()
	go func() {
		for {
			c, err := tp.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err := run(t, f.client(t, kh, Strict), f.host("127.0.0.1", tp.Addr().(*net.TCPAddr).Port), 30*time.Second)
	if transport.KindOf(err) != result.Timeout || time.Since(start) > 5*time.Second {
		t.Errorf("tarpit: %v after %s", err, time.Since(start))
	}
}

func TestOutputCappedAndDeadline(t *testing.T) {
	f := newFixture(t)
	hk := newSigner(t, "ed25519")
	srv := startServer(t, f.signer.PublicKey(), hk)
	addr, port := srv.hostPort()
	kh := f.knownHosts(t, khLine(addr, port, hk.PublicKey()))
	srv.exec = func(cmd string, _ []byte, ch xssh.Channel) uint32 {
		chunk := []byte(strings.Repeat("A", 64<<10))
		for i := 0; i < 64; i++ { // 4 MiB: more than the cap
			if _, err := ch.Write(chunk); err != nil {
				return 1
			}
		}
		return 0
	}
	resp, err := run(t, f.client(t, kh, Strict), f.host(addr, port), 20*time.Second)
	if err != nil || len(resp.Stdout) != transport.MaxStdout || !resp.Truncated {
		t.Fatalf("flood: err %v, %d bytes, truncated %v", err, len(resp.Stdout), resp.Truncated)
	}

	srv.exec = func(string, []byte, xssh.Channel) uint32 { time.Sleep(10 * time.Second); return 0 }
	start := time.Now()
	_, err = run(t, f.client(t, kh, Strict), f.host(addr, port), 1500*time.Millisecond)
	if transport.KindOf(err) != result.Timeout || time.Since(start) > 4*time.Second {
		t.Errorf("stall: %v after %s", err, time.Since(start))
	}
}

func TestProxyJump(t *testing.T) {
	f := newFixture(t)
	jk, tk := newSigner(t, "ed25519"), newSigner(t, "ed25519")
	jump := startServer(t, f.signer.PublicKey(), jk)
	jump.jump = true
	target := startServer(t, f.signer.PublicKey(), tk)
	ja, jp := jump.hostPort()
	ta, tp := target.hostPort()
	kh := f.knownHosts(t, khLine(ja, jp, jk.PublicKey()), khLine(ta, tp, tk.PublicKey()))
	c := f.client(t, kh, Strict)
	h := f.host(ta, tp)
	h.SetOption("proxy_jump", "u@"+net.JoinHostPort(ja, strconv.Itoa(jp)), "test")
	for i := 0; i < 3; i++ { // the jump connection is shared
		resp, err := run(t, c, h, 5*time.Second)
		if err != nil || !strings.HasPrefix(string(resp.Stdout), "ran:") {
			t.Fatalf("via jump: %v %+v", err, resp)
		}
	}
	if len(c.jumps) != 1 {
		t.Errorf("%d jump connections, want 1 shared", len(c.jumps))
	}
}

func TestKeyErrors(t *testing.T) {
	f := newFixture(t)
	bad := filepath.Join(f.dir, "bad")
	os.WriteFile(bad, []byte("garbage"), 0o600)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := xssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pw"))
	enc := filepath.Join(f.dir, "enc")
	os.WriteFile(enc, pem.EncodeToMemory(block), 0o600)
	cases := []struct {
		key, env, want string
	}{
		{filepath.Join(f.dir, "missing"), "", "no such file"},
		{bad, "", "not a usable private key"},
		{enc, "", EnvPassphrase},
		{enc, "Zq9-not-it", "wrong passphrase"},
		{enc, "pw", ""},
	}
	for _, c := range cases {
		cl, err := New(Config{Home: f.dir, Getenv: func(k string) string {
			if k == EnvPassphrase {
				return c.env
			}
			return ""
		}})
		if err != nil {
			t.Fatal(err)
		}
		err = cl.Preflight([]*inventory.Host{{Name: "h", Address: "h", Transport: inventory.SSH, Options: inventory.Options{{Key: "key_file", Value: c.key, Source: "inv:1"}}, Source: "inv:1"}})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.key, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s (%q): %v, want %q", c.key, c.env, err, c.want)
		}
		if c.env != "" && err != nil && strings.Contains(err.Error(), c.env) {
			t.Errorf("passphrase leaked into %v", err)
		}
	}
}

// TestJumpHostsAreJudgedAsJumpHosts: a jump host that is down or forbids
// forwarding fails the host behind it as jump-failed naming the jump
// host, never as the target's own problem; a shared jump connection that
// dropped is made anew for the next host.
func TestJumpHostsAreJudgedAsJumpHosts(t *testing.T) {
	f := newFixture(t)
	jk, tk, nk := newSigner(t, "ed25519"), newSigner(t, "ed25519"), newSigner(t, "ed25519")
	jump := startServer(t, f.signer.PublicKey(), jk)
	jump.jump = true
	noForward := startServer(t, f.signer.PublicKey(), nk)
	target := startServer(t, f.signer.PublicKey(), tk)
	ja, jp := jump.hostPort()
	na, np := noForward.hostPort()
	ta, tp := target.hostPort()
	kh := f.knownHosts(t, khLine(ja, jp, jk.PublicKey()), khLine(na, np, nk.PublicKey()), khLine(ta, tp, tk.PublicKey()))
	c := f.client(t, kh, Strict)
	via := func(addr string, port int) *inventory.Host {
		h := f.host(ta, tp)
		h.SetOption("proxy_jump", "u@"+net.JoinHostPort(addr, strconv.Itoa(port)), "test")
		return h
	}
	// a port where nothing listens: the jump host is down
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	downPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, tc := range []struct {
		name string
		h    *inventory.Host
		want string
	}{
		{"forwarding forbidden", via(na, np), "does not allow forwarding"},
		{"jump host down", via("127.0.0.1", downPort), "jump host 127.0.0.1"},
	} {
		_, err := run(t, c, tc.h, 5*time.Second)
		if transport.KindOf(err) != result.JumpFailed || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (kind %s), want jump-failed saying %q", tc.name, err, transport.KindOf(err), tc.want)
		}
	}
	h := via(ja, jp)
	if _, err := run(t, c, h, 5*time.Second); err != nil {
		t.Fatalf("via a working jump host: %v", err)
	}
	jump.drop()
	time.Sleep(100 * time.Millisecond)
	for i := 0; i < 2; i++ {
		if resp, err := run(t, c, h, 5*time.Second); err != nil || !strings.HasPrefix(string(resp.Stdout), "ran:") {
			t.Fatalf("run %d after the jump connection dropped: %v", i+1, err)
		}
	}
}

// TestProxyCommand: OpenSSH's ProxyCommand, its tokens expanded, carries
// the connection; one that fails is jump-failed with its own words.
func TestProxyCommand(t *testing.T) {
	f := newFixture(t)
	tk := newSigner(t, "ed25519")
	target := startServer(t, f.signer.PublicKey(), tk)
	ta, tp := target.hostPort()
	kh := f.knownHosts(t, khLine(ta, tp, tk.PublicKey()))
	c := f.client(t, kh, Strict)
	h := f.host(ta, tp)
	// a TCP relay in bash, as "nc %h %p" would be
	h.SetOption("proxy_command", `bash -c 'exec 3<>/dev/tcp/$0/$1; cat <&3 & exec cat >&3' %h %p`, "test")
	if resp, err := run(t, c, h, 5*time.Second); err != nil || !strings.HasPrefix(string(resp.Stdout), "ran:") {
		t.Fatalf("through a ProxyCommand: %v", err)
	}
	h = f.host(ta, tp)
	h.SetOption("proxy_command", `sh -c 'echo "gw01: no route to host %h" >&2; exit 255'`, "test")
	_, err := run(t, c, h, 5*time.Second)
	if transport.KindOf(err) != result.JumpFailed || !strings.Contains(err.Error(), "gw01: no route to host "+ta) || !strings.Contains(err.Error(), "status 255") {
		t.Errorf("failing ProxyCommand: %v (kind %s), want jump-failed quoting it", err, transport.KindOf(err))
	}
}

// TestProxySettingsFromAnsibleArgs: the forms Ansible inventories use in
// ansible_ssh_common_args, split as a shell splits them.
func TestProxySettingsFromAnsibleArgs(t *testing.T) {
	for _, tc := range []struct{ args, name, want string }{
		{`-o ProxyJump=ops@gw:2222`, "ProxyJump", "ops@gw:2222"},
		{`-o "ProxyJump ops@gw"`, "ProxyJump", "ops@gw"},
		{`-oProxyJump=gw`, "ProxyJump", "gw"},
		{`-J gw1,gw2 -o StrictHostKeyChecking=no`, "ProxyJump", "gw1,gw2"},
		{`-Jgw`, "ProxyJump", "gw"},
		{`-o ProxyCommand="ssh -W %h:%p -q bastion"`, "ProxyCommand", "ssh -W %h:%p -q bastion"},
		{`-o 'ProxyCommand=nc -X 5 -x socks:1080 %h %p'`, "ProxyCommand", "nc -X 5 -x socks:1080 %h %p"},
		{`-o ForwardAgent=yes`, "ProxyJump", ""},
		{`-J gw`, "ProxyCommand", ""},
	} {
		if got := sshOption(tc.args, tc.name); got != tc.want {
			t.Errorf("sshOption(%q, %s) = %q, want %q", tc.args, tc.name, got, tc.want)
		}
	}
	if got := expandProxyCommand("ssh -W %h:%p %r@gw %n %%", target{host: "a b", port: 22, user: "ops", alias: "web;rm"}); got != `ssh -W 'a b':22 ops@gw 'web;rm' %` {
		t.Errorf("expanded: %s", got)
	}
}

// signCert makes an OpenSSH certificate for key, signed by ca.
func signCert(t *testing.T, ca xssh.Signer, key xssh.PublicKey, kind uint32, principals []string, after, before time.Time, serial uint64) *xssh.Certificate {
	t.Helper()
	c := &xssh.Certificate{Key: key, Serial: serial, CertType: kind, KeyId: "test", ValidPrincipals: principals,
		ValidAfter: uint64(after.Unix()), ValidBefore: uint64(before.Unix())}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return c
}

// startCertServer serves with hostKey (a certificate signer or a key) and
// takes only user certificates signed by userCA.
func startCertServer(t *testing.T, userCA xssh.PublicKey, hostKey xssh.Signer) *testServer {
	t.Helper()
	checker := &xssh.CertChecker{IsUserAuthority: func(k xssh.PublicKey) bool { return bytes.Equal(k.Marshal(), userCA.Marshal()) }}
	return startAuthServer(t, hostKey, &xssh.ServerConfig{PublicKeyCallback: checker.Authenticate})
}

// TestHostCertificates: a host certificate known_hosts trusts through
// @cert-authority logs in; one expired, not yet valid, for other names,
// revoked or from another CA is certificate-invalid saying what to renew
// — never host-key-mismatch.
func TestHostCertificates(t *testing.T) {
	f := newFixture(t)
	ca, otherCA := newSigner(t, "ed25519"), newSigner(t, "ed25519")
	now := time.Now()
	caLine := "@cert-authority * " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(ca.PublicKey())))
	for _, tc := range []struct {
		name       string
		signer     xssh.Signer
		principals []string
		after      time.Time
		before     time.Time
		revoke     bool
		want       string // "" = logs in
	}{
		{"valid", ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour), false, ""},
		{"expired", ca, []string{"127.0.0.1"}, now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), false, "expired on"},
		{"not yet valid", ca, []string{"127.0.0.1"}, now.Add(24 * time.Hour), now.Add(48 * time.Hour), false, "not valid before"},
		{"other names", ca, []string{"db01.example.com"}, now.Add(-time.Hour), now.Add(time.Hour), false, "names db01.example.com, not 127.0.0.1"},
		{"revoked", ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour), true, "@revoked"},
		{"untrusted CA", otherCA, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour), false, "does not trust"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hk := newSigner(t, "ed25519")
			cert := signCert(t, tc.signer, hk.PublicKey(), xssh.HostCert, tc.principals, tc.after, tc.before, 7)
			cs, err := xssh.NewCertSigner(cert, hk)
			if err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, f.signer.PublicKey(), cs)
			lines := []string{caLine}
			if tc.revoke {
				lines = append(lines, "@revoked * "+strings.TrimSpace(string(xssh.MarshalAuthorizedKey(cert))))
			}
			c := f.client(t, f.knownHosts(t, lines...), Strict)
			_, err = run(t, c, f.host(srv.hostPort()), 5*time.Second)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("want a login, got %v", err)
			case tc.want != "" && (transport.KindOf(err) != result.CertificateInvalid || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v (kind %s), want certificate-invalid saying %q", err, transport.KindOf(err), tc.want)
			}
		})
	}
}

// TestUserCertificate: a host that takes only certificates signed by its
// CA (TrustedUserCAKeys, no authorized_keys) lets in the key whose
// <key>-cert.pub sits next to it, as ssh(1) presents it; the bare key is
// refused.
func TestUserCertificate(t *testing.T) {
	f := newFixture(t)
	userCA, hk := newSigner(t, "ed25519"), newSigner(t, "ed25519")
	srv := startCertServer(t, userCA.PublicKey(), hk)
	a, p := srv.hostPort()
	c := f.client(t, f.knownHosts(t, khLine(a, p, hk.PublicKey())), Strict)
	if _, err := run(t, c, f.host(a, p), 5*time.Second); transport.KindOf(err) != result.AuthFailed {
		t.Fatalf("without a certificate: %v, want auth-failed", err)
	}
	cert := signCert(t, userCA, f.signer.PublicKey(), xssh.UserCert, []string{"u"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 1)
	if err := os.WriteFile(f.keyPath+"-cert.pub", xssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	c = f.client(t, f.knownHosts(t, khLine(a, p, hk.PublicKey())), Strict)
	if resp, err := run(t, c, f.host(a, p), 5*time.Second); err != nil || !strings.HasPrefix(string(resp.Stdout), "ran:") {
		t.Fatalf("with id-cert.pub next to the key: %v", err)
	}
}

// TestDroppedBeforeLoginIsTriedAgain: sshd past its MaxStartups closes a
// new connection before the banner; the login is tried once more after a
// pause, and a second drop says what it likely is.
func TestDroppedBeforeLoginIsTriedAgain(t *testing.T) {
	f := newFixture(t)
	hk := newSigner(t, "ed25519")
	srv := startServer(t, f.signer.PublicKey(), hk)
	a, p := srv.hostPort()
	c := f.client(t, f.knownHosts(t, khLine(a, p, hk.PublicKey())), Strict)
	srv.mu.Lock()
	srv.refuse = 1
	srv.mu.Unlock()
	if _, err := run(t, c, f.host(a, p), 10*time.Second); err != nil {
		t.Fatalf("one drop: %v, want the second try to log in", err)
	}
	srv.mu.Lock()
	srv.refuse = 2
	srv.mu.Unlock()
	_, err := run(t, c, f.host(a, p), 10*time.Second)
	if transport.KindOf(err) != result.ProtocolError || !strings.Contains(err.Error(), "MaxStartups") {
		t.Errorf("two drops: %v, want protocol-error naming MaxStartups", err)
	}
	if len(c.slots) != 0 {
		t.Errorf("%d login slot entries left after the logins ended", len(c.slots))
	}
}

// TestSSHConfigMatch: Match blocks as OpenSSH applies them — host and
// originalhost as host patterns, user and localuser decided for the login
// user, and a criterion whyoffline cannot judge (exec) dropped with a
// warning naming the line, not refused and not silently taken.
func TestSSHConfigMatch(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	text := `Match host web*,!web9 user ops
  ProxyJump gw-ops
Match originalhost db* user *,!root
  Port 2222
Match exec "test -f /etc/vpn-up"
  ProxyJump vpn-gw
Match all
  User fallback
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(cfg, "ops")
	if err != nil {
		t.Fatalf("a file with Match exec is not bad input: %v", err)
	}
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], "config:5: Match exec is not supported") {
		t.Errorf("warnings %q, want one for line 5", w)
	}
	end := func(name, user string) transport.Endpoint {
		h := &inventory.Host{Name: name, Address: name, User: user, Transport: inventory.SSH}
		e, err := r.Endpoint(h)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		name, user, want string
	}{
		// no user in the inventory: Match user sees the default login
		// user (ops); the later Match all still gives User, as ssh does
		{"web01", "", "fallback@web01:22 via gw-ops"},
		{"web01", "deploy", "deploy@web01:22 via "},
		{"db01", "", "fallback@db01:2222 via "},
		{"db01", "root", "root@db01:22 via "},
		{"mail", "", "fallback@mail:22 via "},
	} {
		e := end(c.name, c.user)
		if got := fmt.Sprintf("%s@%s:%d via %s", e.User, e.Address, e.Port, e.Via); got != c.want {
			t.Errorf("%s as %q: %s, want %s", c.name, c.user, got, c.want)
		}
	}
}

// startAuthServer serves with hostKey and authenticates as cfg says.
func startAuthServer(t *testing.T, hostKey xssh.Signer, cfg *xssh.ServerConfig) *testServer {
	t.Helper()
	cfg.AddHostKey(hostKey)
	return serve(t, cfg, func(cmd string, _ []byte, ch xssh.Channel) uint32 {
		_, _ = ch.Write([]byte("ran:" + cmd + "\n"))
		return 0
	})
}

// TestAuthFailuresSayWhatTheServerOffered: a refused login names the
// methods the server offered and what was tried, with the fix that fits:
// a password for a keyboard-interactive-only host, IdentitiesOnly when the
// server cut the login after too many keys.
func TestAuthFailuresSayWhatTheServerOffered(t *testing.T) {
	f := newFixture(t)
	hk := newSigner(t, "ed25519")
	kbd := startAuthServer(t, hk, &xssh.ServerConfig{KeyboardInteractiveCallback: func(xssh.ConnMetadata, xssh.KeyboardInteractiveChallenge) (*xssh.Permissions, error) {
		return nil, errors.New("no")
	}})
	a, p := kbd.hostPort()
	c := f.client(t, f.knownHosts(t, khLine(a, p, hk.PublicKey())), Strict)
	_, err := run(t, c, f.host(a, p), 5*time.Second)
	if transport.KindOf(err) != result.AuthFailed || !strings.Contains(err.Error(), "the server offers keyboard-interactive") || !strings.Contains(err.Error(), EnvPassword) {
		t.Errorf("keyboard-interactive only: %v", err)
	}

	other := newSigner(t, "ed25519")
	strict := startAuthServer(t, hk, &xssh.ServerConfig{MaxAuthTries: 1, PublicKeyCallback: func(_ xssh.ConnMetadata, k xssh.PublicKey) (*xssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), other.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, errors.New("no")
	}})
	a, p = strict.hostPort()
	c = f.client(t, f.knownHosts(t, khLine(a, p, hk.PublicKey())), Strict)
	h := f.host(a, p)
	// a second key file: two keys offered where one is allowed
	second := filepath.Join(f.dir, "id2")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := xssh.MarshalPrivateKey(priv, "")
	if err := os.WriteFile(second, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(f.dir, "config")
	if err := os.WriteFile(cfg, []byte("Host *\n  IdentityFile "+f.keyPath+"\n  IdentityFile "+second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cl, err := New(Config{KnownHosts: []string{filepath.Join(f.dir, "known_hosts")}, ConnectTimeout: 2 * time.Second, SSHConfigFile: cfg,
		DefaultUser: "u", Home: f.dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	h.Options = nil // the keys come from ssh_config
	_, err = run(t, cl, h, 5*time.Second)
	if transport.KindOf(err) != result.AuthFailed || !strings.Contains(err.Error(), "IdentitiesOnly") {
		t.Errorf("too many keys: %v", err)
	}
}
