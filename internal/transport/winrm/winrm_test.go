package winrm

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/transport"
	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
	"github.com/whyoffline/whyoffline/playbooks"
)

const (
	testUser     = `LAB\scanner`
	testPassword = "Corr3ct-Horse"
)

// testPKI is a CA file and a server certificate for names and IPs.
type testPKI struct {
	caFile string
	server tls.Certificate
}

func newPKI(t *testing.T, dnsNames []string, ips []net.IP) *testPKI {
	t.Helper()
	p, err := wsmantest.NewPKI(dnsNames, ips)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, p.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &testPKI{caFile: caFile, server: p.Server}
}

func startServer(t *testing.T, cfg wsmantest.Config) *wsmantest.Server {
	t.Helper()
	if cfg.User == "" {
		cfg.User, cfg.Password = testUser, testPassword
	}
	s, err := wsmantest.Start("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func hostFor(s *wsmantest.Server, mutate func(h *inventory.Host)) *inventory.Host {
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	h := &inventory.Host{Name: "win01", Address: host, Port: p, Transport: inventory.WinRM, OS: "windows", User: testUser,
		PasswordEnv: "TEST_WINRM_PASSWORD", Source: "test:1"}
	if mutate != nil {
		mutate(h)
	}
	return h
}

func newClient(password string) *Client {
	return New(Config{ConnectTimeout: 2 * time.Second, Getenv: func(k string) string {
		switch k {
		case "TEST_WINRM_PASSWORD":
			return password
		case "KRB5_CONFIG":
			return "/nonexistent/krb5.conf"
		}
		return ""
	}})
}

func script(t *testing.T) *playbook.Script {
	t.Helper()
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := set.RenderPowerShell(playbook.Params{Manager: "dsm.lab.test", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce()})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestRunThroughRealProtocol: the real client against the WS-Management
// server, over every auth method and scheme that should work.
func TestRunThroughRealProtocol(t *testing.T) {
	pki := newPKI(t, []string{"winhost.lab.test"}, []net.IP{net.ParseIP("127.0.0.1")})
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{pki.server}}
	cases := []struct {
		name   string
		server wsmantest.Config
		host   func(h *inventory.Host)
	}{
		{"ntlm over http, sealed (AllowUnencrypted=false)", wsmantest.Config{Auth: "ntlm", RequireEncryption: true}, nil},
		{"ntlm over http, server also takes clear", wsmantest.Config{Auth: "ntlm"}, nil},
		{"ntlm over https", wsmantest.Config{Auth: "ntlm", TLS: tlsCfg}, func(h *inventory.Host) { setOpts(h, "winrm_scheme", "https", "ca_file", pki.caFile) }},
		{"basic over https", wsmantest.Config{Auth: "basic", TLS: tlsCfg}, func(h *inventory.Host) {
			setOpts(h, "winrm_scheme", "https", "winrm_transport", "basic", "ca_file", pki.caFile)
		}},
		{"ansible ssl = basic over https", wsmantest.Config{Auth: "basic", TLS: tlsCfg}, func(h *inventory.Host) {
			setOpts(h, "winrm_transport", "ssl", "ca_file", pki.caFile)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, c.server)
			sc := script(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := newClient(testPassword).Run(ctx, hostFor(srv, c.host), transport.Request{Command: sc.Command, Stdin: sc.Body})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			raw := frame.SplitJSON(resp.Stdout, sc.Nonce)
			if !raw.Done || raw.Playbook != "windows" || len(raw.Sections) < 10 {
				t.Fatalf("answer: done=%v playbook=%q sections=%d\n%.400s", raw.Done, raw.Playbook, len(raw.Sections), resp.Stdout)
			}
			for _, action := range []string{"Create", "Command", "Send", "Receive", "Delete"} {
				if srv.Count(action) == 0 {
					t.Errorf("no %s request reached the server", action)
				}
			}
			if resp.Started.IsZero() || resp.Finished.Before(resp.Started) {
				t.Errorf("bad time window %v..%v", resp.Started, resp.Finished)
			}
			// NTLM over HTTP seals every message; TLS carries it in clear
			sealed := srv.Count("sealed")
			if over := c.server.TLS == nil && c.server.Auth == "ntlm"; (sealed > 0) != over || srv.Count("sealed-rejected") != 0 || srv.Count("clear-refused") != 0 {
				t.Errorf("sealed %d, rejected %d, clear refused %d (want sealing: %v)", sealed, srv.Count("sealed-rejected"), srv.Count("clear-refused"), over)
			}
		})
	}
}

// TestErrorKinds: every way a Windows host can fail maps to its kind,
// within the deadline.
func TestErrorKinds(t *testing.T) {
	pki := newPKI(t, []string{"other.lab.test"}, nil) // not the address we dial
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{pki.server}}
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	cases := []struct {
		name     string
		server   *wsmantest.Config
		host     func(h *inventory.Host)
		password string
		want     result.ErrorKind
		says     string // the message names this (what to do next)
	}{
		{"wrong password ntlm", &wsmantest.Config{Auth: "ntlm"}, nil, "wrong", result.AuthFailed, ""},
		{"wrong password basic", &wsmantest.Config{Auth: "basic", TLS: tlsCfg}, func(h *inventory.Host) {
			setOpts(h, "winrm_scheme", "https", "winrm_transport", "basic", "insecure_skip_verify", "true")
		}, "wrong", result.AuthFailed, ""},
		{"basic-only server never gets an ntlm user's password", &wsmantest.Config{Auth: "basic"}, nil, testPassword, result.AuthFailed, ""},
		{"certificate for another name", &wsmantest.Config{Auth: "ntlm", TLS: tlsCfg}, func(h *inventory.Host) { setOpts(h, "winrm_scheme", "https", "ca_file", pki.caFile) }, testPassword, result.CertificateInvalid, ""},
		{"certificate from an unknown CA", &wsmantest.Config{Auth: "ntlm", TLS: tlsCfg}, func(h *inventory.Host) { setOpts(h, "winrm_scheme", "https") }, testPassword, result.CertificateInvalid, ""},
		{"stall mid-receive", &wsmantest.Config{Auth: "ntlm", Behaviour: "stall"}, nil, testPassword, result.Timeout, ""},
		{"malformed soap", &wsmantest.Config{Auth: "ntlm", Behaviour: "malformed"}, nil, testPassword, result.ProtocolError, ""},
		// the library reads a Receive in a goroutine of its own, where a
		// body that is not XML was a nil-pointer panic ending the process
		{"receive answer not XML", &wsmantest.Config{Auth: "ntlm", Behaviour: "receive-not-xml"}, nil, testPassword, result.ProtocolError, "not a well-formed SOAP document"},
		{"endless output", &wsmantest.Config{Auth: "ntlm", Behaviour: "endless"}, nil, testPassword, result.ProtocolError, ""},
		{"authenticated but not allowed a shell", &wsmantest.Config{Auth: "ntlm", Denied: true}, nil, testPassword, result.PrivilegeDenied, "Remote Management Users"},
		{"shell quota exhausted", &wsmantest.Config{Auth: "ntlm", MaxShells: -1}, nil, testPassword, result.ProtocolError, "MaxShellsPerUser"},
		{"shell lost mid-run", &wsmantest.Config{Auth: "ntlm", Behaviour: "lose-shell"}, nil, testPassword, result.ProtocolError, "lost the remote shell"},
		{"a web server on the port", &wsmantest.Config{Auth: "ntlm", Behaviour: "web"}, nil, testPassword, result.ProtocolError, "not a WS-Management endpoint: HTTP 200 with text/html"},
		{"nothing listens", nil, func(h *inventory.Host) {
			host, port, _ := net.SplitHostPort(deadAddr)
			h.Address = host
			h.Port, _ = strconv.Atoi(port)
		}, testPassword, result.ConnectionRefused, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h *inventory.Host
			var srv *wsmantest.Server
			if c.server != nil {
				srv = startServer(t, *c.server)
				h = hostFor(srv, c.host)
			} else {
				h = &inventory.Host{Name: "win01", Transport: inventory.WinRM, OS: "windows", User: testUser, PasswordEnv: "TEST_WINRM_PASSWORD"}
				c.host(h)
			}
			sc := script(t)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			start := time.Now()
			resp, err := newClient(c.password).Run(ctx, h, transport.Request{Command: sc.Command, Stdin: sc.Body})
			if took := time.Since(start); took > 6*time.Second {
				t.Errorf("took %s, past the 4s deadline", took)
			}
			if err == nil {
				t.Fatalf("no error; stdout %.200s", resp.Stdout)
			}
			if k := transport.KindOf(err); k != c.want {
				t.Fatalf("kind %s (%v), want %s", k, err, c.want)
			}
			if c.says != "" && !strings.Contains(err.Error(), c.says) {
				t.Errorf("message %q does not say %q", err, c.says)
			}
			if strings.Contains(err.Error(), c.password) && c.password != "" {
				t.Errorf("error message contains the password: %v", err)
			}
			if srv != nil && h.Opt("winrm_transport") == "" && srv.Count("basic-auth") > 0 {
				t.Errorf("an NTLM host sent Basic credentials %d time(s)", srv.Count("basic-auth"))
			}
			if c.name == "endless output" && (resp == nil || len(resp.Stdout) > transport.MaxStdout) {
				t.Errorf("endless output not capped: %d bytes", len(resp.Stdout))
			}
		})
	}
}

func TestBadSettings(t *testing.T) {
	c := newClient(testPassword)
	cases := []struct {
		name string
		h    *inventory.Host
		want string
	}{
		{"basic over http", &inventory.Host{Name: "w", Address: "10.0.0.1", Transport: inventory.WinRM, Options: opts("winrm_transport", "basic"), User: "u", PasswordEnv: "TEST_WINRM_PASSWORD"}, "clear text"},
		{"no password", &inventory.Host{Name: "w", Address: "10.0.0.1", Transport: inventory.WinRM, User: "u"}, "no WinRM password"},
		{"missing ca file", &inventory.Host{Name: "w", Address: "10.0.0.1", Transport: inventory.WinRM, Options: opts("winrm_scheme", "https", "ca_file", "/nonexistent/ca.pem"), User: "u", PasswordEnv: "TEST_WINRM_PASSWORD"}, "ca_file"},
		{"kerberos without krb5.conf", &inventory.Host{Name: "w", Address: "10.0.0.1", Transport: inventory.WinRM, Options: opts("winrm_transport", "kerberos"), User: "u@LAB.TEST"}, "krb5"},
		{"an option the transport does not take names where it was set", &inventory.Host{Name: "w", Address: "10.0.0.1", Transport: inventory.WinRM, Options: inventory.Options{{Key: "winrm_scheme", Value: "ftp", Source: "fleet.ini:7"}}, User: "u", PasswordEnv: "TEST_WINRM_PASSWORD"}, `fleet.ini:7: winrm_scheme: "ftp" is not http or https`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Preflight([]*inventory.Host{tc.h})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// setOpts sets WinRM options on h as an inventory would (key, value, ...).
func setOpts(h *inventory.Host, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		h.SetOption(kv[i], kv[i+1], "test")
	}
}

// opts builds a host's options as an inventory would (key, value, ...).
func opts(kv ...string) inventory.Options {
	var o inventory.Options
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, inventory.Option{Key: kv[i], Value: kv[i+1], Source: "test"})
	}
	return o
}

// TestShellsAreEndedOnDeadline: a host that hangs mid-command gets its
// command terminated and its shell deleted when the deadline passes, so a
// nightly sweep never exhausts the user's shell quota (5 on 2008 R2):
// more stalled runs than the quota allows, and the next run still opens a
// shell.
func TestShellsAreEndedOnDeadline(t *testing.T) {
	srv := startServer(t, wsmantest.Config{Auth: "ntlm", Behaviour: "stall", MaxShells: 2})
	h := hostFor(srv, nil)
	sc := script(t)
	c := newClient(testPassword)
	for i := 0; i < 4; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		_, err := c.Run(ctx, h, transport.Request{Command: sc.Command, Stdin: sc.Body})
		cancel()
		if k := transport.KindOf(err); k != result.Timeout {
			t.Fatalf("run %d: kind %s (%v), want timeout: a shell was left open", i+1, k, err)
		}
		if n := srv.OpenShells(); n != 0 {
			t.Fatalf("run %d: %d shells left open after the deadline", i+1, n)
		}
	}
	if srv.Count("terminate") != 4 || srv.Count("Delete") != 4 || srv.Count("quota-refused") != 0 {
		t.Errorf("terminate %d, delete %d, quota refusals %d; want 4, 4, 0", srv.Count("terminate"), srv.Count("Delete"), srv.Count("quota-refused"))
	}
}

// TestScriptTravelsInPipeMode: the command is created with
// WINRS_CONSOLEMODE_STDIN=FALSE; the server (like Windows) does not hand
// stdin sent to a console-mode command to PowerShell's $input.
func TestScriptTravelsInPipeMode(t *testing.T) {
	srv := startServer(t, wsmantest.Config{Auth: "ntlm"})
	h := hostFor(srv, nil)
	sc := script(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := newClient(testPassword).Run(ctx, h, transport.Request{Command: sc.Command, Stdin: sc.Body})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Count("console-stdin") != 0 || !strings.Contains(string(resp.Stdout), "whyoffline") && len(resp.Stdout) == 0 {
		t.Fatalf("console-mode commands: %d; stdout %d bytes", srv.Count("console-stdin"), len(resp.Stdout))
	}
}

// TestDroppedConnectionIsTriedAgain: a connection cut at the first stdin
// Send loses a piece of the script. The library goes on regardless; the
// client must not let the host run part of a script, and tries the whole
// read-only exchange once more — NTLM over HTTP (sealed) and over HTTPS.
func TestDroppedConnectionIsTriedAgain(t *testing.T) {
	pki := newPKI(t, []string{"127.0.0.1"}, []net.IP{net.ParseIP("127.0.0.1")})
	for _, c := range []struct {
		name   string
		server wsmantest.Config
		host   func(h *inventory.Host)
	}{
		{"ntlm sealed over http", wsmantest.Config{Auth: "ntlm", Behaviour: "drop-once", RequireEncryption: true}, nil},
		{"ntlm over https", wsmantest.Config{Auth: "ntlm", Behaviour: "drop-once", TLS: &tls.Config{Certificates: []tls.Certificate{pki.server}}},
			func(h *inventory.Host) { setOpts(h, "winrm_scheme", "https", "ca_file", pki.caFile) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, c.server)
			h := hostFor(srv, c.host)
			sc := script(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := newClient(testPassword).Run(ctx, h, transport.Request{Command: sc.Command, Stdin: sc.Body})
			if err != nil {
				t.Fatalf("after one dropped connection: %v", err)
			}
			if !strings.Contains(string(resp.Stdout), sc.Nonce) || strings.Contains(string(resp.Stdout), "is not recognized") {
				t.Errorf("the host ran a broken script: %.200q", resp.Stdout)
			}
			if n := srv.Count("Create"); n != 2 {
				t.Errorf("%d shells created, want 2 (the first exchange, then its retry)", n)
			}
		})
	}
}

// TestEchoedCredentialsAreHidden: an HTTPS endpoint (or a proxy in front
// of it) that answers 500 with a SOAP body echoing the request's headers
// — Basic's base64 user:password, the password itself, URL-encoded —
// must not put any of them into the error every report quotes.
func TestEchoedCredentialsAreHidden(t *testing.T) {
	const password = "Echo-Me/Pa55&word"
	for _, fault := range []bool{false, true} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var echo strings.Builder
			for k, v := range r.Header {
				fmt.Fprintf(&echo, "%s: %s\n", k, strings.Join(v, ","))
			}
			echo.WriteString("debug: password=" + password + " encoded=" + url.QueryEscape(password))
			body := "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><p>" + html.EscapeString(echo.String()) + "</p></s:Body></s:Envelope>"
			if fault {
				body = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>" +
					"<s:Reason><s:Text xml:lang=\"en-US\">" + html.EscapeString(echo.String()) + "</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"
			}
			w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, body)
		}))
		defer srv.Close()
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
		p, _ := strconv.Atoi(port)
		h := &inventory.Host{Name: "win-echo", Address: host, Port: p, Transport: inventory.WinRM, OS: "windows", User: testUser,
			PasswordEnv: "TEST_WINRM_PASSWORD", Options: opts("winrm_scheme", "https", "winrm_transport", "basic", "ca_file", caFile), Source: "test:1"}
		sc := script(t)
		_, err := newClient(password).Run(context.Background(), h, transport.Request{Command: sc.Command, Stdin: sc.Body})
		if err == nil {
			t.Fatal("a 500 answer is not an error")
		}
		msg := err.Error()
		basic := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + password))
		for _, leak := range []string{password, url.QueryEscape(password), basic, html.EscapeString(password)} {
			if strings.Contains(msg, leak) {
				t.Errorf("fault=%v: the error quotes a credential (%q): %s", fault, leak, msg)
			}
		}
		if !strings.Contains(msg, "[secret hidden]") {
			t.Errorf("fault=%v: nothing was hidden: %s", fault, msg)
		}
	}
}
