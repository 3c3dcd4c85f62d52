// Package winrm runs one command on a Windows host over WS-Management
// (WinRM), HTTP 5985 or HTTPS 5986, with NTLM, Basic (HTTPS only) or
// Kerberos authentication. The SOAP shell protocol (Create, Command,
// Receive, Signal, Delete) comes from github.com/masterzen/winrm; the HTTP
// exchange under it is ours, so that every request carries the host's
// deadline, responses are size-capped, certificates are verified, and a
// password is never sent where it was not meant to go.
package winrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/go-ntlmssp"
	mz "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Environment variables for the WinRM password when the host names none.
const (
	EnvPassword     = "WHYOFFLINE_WINRM_PASSWORD"
	EnvPasswordFile = "WHYOFFLINE_WINRM_PASSWORD_FILE"
)

// maxEnvelope caps one HTTP response body: a Receive answer is at most the
// negotiated envelope size (150 KiB), so anything much larger is hostile.
const maxEnvelope = 4 << 20

// Config is the run-wide WinRM configuration.
type Config struct {
	ConnectTimeout time.Duration
	Getenv         func(string) string
	// DefaultUser is used when the host names none.
	DefaultUser string
	// Dial overrides how TCP connections are made (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client runs commands over WinRM. It holds no connections between hosts.
type Client struct {
	cfg Config

	krbMu sync.Mutex
	krb   map[string]*krbSettings // Kerberos clients by principal: log in once
}

// New returns a client.
func New(cfg Config) *Client {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return &Client{cfg: cfg}
}

// settings are one host's resolved WinRM settings.
type settings struct {
	addr     string // host:port
	url      string
	https    bool
	auth     string // ntlm | basic | kerberos
	user     string
	password string
	tls      *tls.Config
	krb      *krbSettings
	opts     hostOptions
}

// Preflight checks every WinRM host's settings before anything is
// scanned: bad input is reported once, as a usage error, not per host.
func (c *Client) Preflight(hosts []*inventory.Host) error {
	for _, h := range hosts {
		if h.Transport != inventory.WinRM {
			continue
		}
		if _, err := c.settings(h); err != nil {
			return fmt.Errorf("%s (%s): %v", h.Name, h.Source, err)
		}
	}
	return nil
}

// InsecureHosts names the hosts whose certificate will not be verified.
func InsecureHosts(hosts []*inventory.Host) []string {
	var out []string
	for _, h := range hosts {
		if o, _ := optionsOf(h); h.Transport == inventory.WinRM && o.insecure {
			out = append(out, h.Name)
		}
	}
	return out
}

// Default ports of WS-Management.
const (
	HTTPPort  = 5985
	HTTPSPort = 5986
)

// Endpoint is what the scan dials for h: scheme, port and auth derived
// from winrm_scheme, winrm_transport and port the way the scan uses them.
// Ansible's "ssl" transport is Basic over HTTPS; an explicit port 5986
// without a scheme means HTTPS. Basic over plain HTTP is refused: it would
// send the password in clear text.
func Endpoint(h *inventory.Host, defaultUser string) (transport.Endpoint, error) {
	o, err := optionsOf(h)
	if err != nil {
		return transport.Endpoint{}, err
	}
	return endpoint(h, o, defaultUser)
}

// endpoint is Endpoint with h's options already read.
func endpoint(h *inventory.Host, o hostOptions, defaultUser string) (transport.Endpoint, error) {
	https, auth := o.scheme == "https", o.transport
	switch auth {
	case "", "ntlm":
		auth = "ntlm"
	case "ssl":
		auth, https = "basic", true
	case "plaintext":
		auth = "basic"
	}
	if h.Port == HTTPSPort && o.scheme == "" {
		https = true
	}
	port := h.Port
	if port <= 0 {
		port = HTTPPort
		if https {
			port = HTTPSPort
		}
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	user := h.User
	if user == "" {
		user = defaultUser
	}
	e := transport.Endpoint{Transport: inventory.WinRM, Address: h.Address, Port: port, Scheme: scheme, Auth: auth, User: user}
	if auth == "basic" && !https {
		return e, fmt.Errorf("winrm_transport basic over http would send the password in clear text: use winrm_scheme https (port 5986) or ntlm/kerberos")
	}
	return e, nil
}

func (c *Client) settings(h *inventory.Host) (*settings, error) {
	o, err := optionsOf(h)
	if err != nil {
		return nil, err
	}
	e, err := endpoint(h, o, c.cfg.DefaultUser)
	if err != nil {
		return nil, err
	}
	s := &settings{https: e.Scheme == "https", auth: e.Auth, user: e.User, opts: o}
	s.addr = net.JoinHostPort(e.Address, strconv.Itoa(e.Port))
	s.url = e.Scheme + "://" + s.addr + "/wsman"
	if s.https {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := s.opts.caFile; ca != "" {
			pem, err := safefile.Read(ca, 4<<20)
			if err != nil {
				return nil, fmt.Errorf("ca_file: cannot read %s: %v", ca, transport.UnwrapPath(err))
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s holds no PEM certificate", ca)
			}
			cfg.RootCAs = pool
		}
		if net.ParseIP(h.Address) == nil {
			cfg.ServerName = h.Address
		}
		cfg.InsecureSkipVerify = s.opts.insecure
		s.tls = cfg
	}
	if s.auth == "kerberos" {
		k, err := c.kerberos(h, s)
		if err != nil {
			return nil, err
		}
		s.krb = k
		return s, nil
	}
	pw, err := transport.Password(c.cfg.Getenv, h, EnvPassword, EnvPasswordFile)
	if err != nil {
		return nil, err
	}
	if pw == "" {
		return nil, fmt.Errorf("no WinRM password: set password_env or password_file on the host, or %s / %s", EnvPassword, EnvPasswordFile)
	}
	if s.user == "" {
		return nil, fmt.Errorf("no WinRM user: set user (ansible_user) on the host")
	}
	s.password = pw
	return s, nil
}

// Run executes req.Command with req.Stdin as its standard input and
// returns its output.
func (c *Client) Run(ctx context.Context, h *inventory.Host, req transport.Request) (*transport.Response, error) {
	s, err := c.settings(h)
	if err != nil {
		return nil, transport.Errorf(result.AuthFailed, err, "%s: %v", h.Name, err)
	}
	resp, err := c.runOnce(ctx, h, s, req)
	if err != nil && transient(err) && ctx.Err() == nil {
		// a connection dropped mid-exchange (the script never ran whole):
		// the read-only exchange is made again, once
		resp, err = c.runOnce(ctx, h, s, req)
	}
	var te *transport.Error
	switch {
	case err == nil:
		return resp, nil
	case errors.As(err, &te):
		return resp, scrubbed(s, err)
	}
	return nil, scrubbed(s, c.classify(ctx, h, s, err))
}

// scrubbed hides the host's credentials, and any credential header an
// endpoint or a proxy echoed back, in what an error quotes: a WinRM
// server's error body is the remote's text, and reaches every report.
func scrubbed(s *settings, err error) error {
	if err == nil {
		return nil
	}
	sc := secret.New()
	sc.AddCredential(s.user, s.password)
	var te *transport.Error
	if errors.As(err, &te) {
		te.Msg = sc.Scrub(te.Msg)
		te.Err = errors.New(sc.Scrub(errString(te.Err)))
		return te
	}
	return errors.New(sc.Scrub(err.Error()))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// transient reports whether err is a dropped connection or a lost piece
// of the script rather than anything the host decided.
func transient(err error) bool {
	var se *stdinError
	if errors.As(err, &se) || errors.Is(err, errConnChanged) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "server closed idle connection")
}

// runOnce is one exchange with the host: a shell, the command, its output.
// A *transport.Error is final; any other error is classified by Run.
func (c *Client) runOnce(ctx context.Context, h *inventory.Host, s *settings, req transport.Request) (*transport.Response, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := c.newHTTP(rctx, s)
	defer t.close()

	params := mz.NewParameters("PT20S", "en-US", 153600)
	params.TransportDecorator = func() mz.Transporter { return t }
	endpoint := mz.NewEndpoint(h.Address, 0, s.https, false, nil, nil, nil, 0)
	client, err := mz.NewClientWithParameters(endpoint, s.user, "", params)
	if err != nil {
		return nil, transport.Errorf(result.ProtocolError, err, "%s: %v", h.Name, err)
	}
	stdout := &textsafe.CappedBuffer{Limit: transport.MaxStdout, OnFull: cancel}
	stderr := &textsafe.CappedBuffer{Limit: transport.MaxStderr}
	resp := &transport.Response{Started: time.Now()}
	type outcome struct {
		code int
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		var code int
		var err error
		if len(req.Stdin) > 0 {
			// the script travels on stdin (WS-Management Send): a command
			// line through the cmd shell is capped at 8191 characters
			code, err = client.RunWithInput(req.Command, stdout, stderr, bytes.NewReader(req.Stdin))
		} else {
			t.noStdin()
			code, err = client.Run(req.Command, stdout, stderr)
		}
		done <- outcome{code, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-rctx.Done():
		// every request carries rctx, so the library's loop ends soon; do
		// not wait for its own goodbye, which rides on rctx too
		out = outcome{code: -1, err: rctx.Err()}
	}
	if out.err != nil {
		// A shell left open counts against the user's quota (5 on 2008 R2)
		// until the host times it out: end it, on a budget of its own.
		t.abandon(ctx, c.cfg.ConnectTimeout)
	}
	resp.Finished = time.Now()
	resp.Stdout, resp.Stderr, resp.ExitCode = stdout.Bytes(), stderr.Bytes(), out.code
	resp.Truncated = stdout.Truncated()
	if resp.Truncated {
		return resp, transport.Errorf(result.ProtocolError, nil, "%s sent more than %d bytes of output: stopped reading (a broken or hostile host)", h.Name, transport.MaxStdout)
	}
	if out.err != nil {
		return nil, out.err
	}
	return resp, nil
}

// classify turns an error into the contract's kinds.
func (c *Client) classify(ctx context.Context, h *inventory.Host, s *settings, err error) error {
	var ae *authError
	var ke *krbError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var opErr *net.OpError
	var fault *wsmanFault
	var notWS *notWSMan
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		return transport.Errorf(result.Interrupted, err, "scan interrupted while talking to %s", h.Name)
	case ctx.Err() != nil:
		return transport.Errorf(result.Timeout, err, "%s did not finish within its deadline (WinRM over %s)", h.Name, s.url)
	case errors.As(err, &ke):
		return transport.Errorf(result.AuthFailed, err, "%s: no Kerberos ticket for %s as %s: %s%s", h.Name, ke.spn, s.user, textsafe.Line(err.Error(), 200), ke.hint())
	case errors.As(err, &ae):
		hint := ""
		switch {
		case s.auth == "kerberos":
			hint = fmt.Sprintf("; the host did not accept the ticket for %s: check its SPN and keytab (setspn -L) and its clock", s.krb.spn)
			if !s.https {
				hint += "; a server that refuses unencrypted WinRM over HTTP (AllowUnencrypted=false) also answers 401: try winrm_scheme https"
			}
		}
		return transport.Errorf(result.AuthFailed, err, "%s refused the %s credentials of %s (HTTP %d)%s", h.Name, s.auth, s.user, ae.status, hint)
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return transport.Errorf(result.CertificateInvalid, err, "%s: the WinRM HTTPS certificate does not verify: %s; give the issuing CA as ca_file, fix the certificate's name, or (at your own risk) set insecure_skip_verify",
			h.Name, textsafe.Line(err.Error(), 200))
	case errors.As(err, &fault):
		return classifyFault(h.Name, s.user, fault)
	case errors.As(err, &notWS):
		return transport.Errorf(result.ProtocolError, err, "%s: %s answered, but %v: check the port (5985 http, 5986 https) and what listens there", h.Name, s.url, err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return transport.ClassifyDial(ctx, s.addr, c.cfg.ConnectTimeout, err)
	case transport.IsTimeout(err):
		return transport.Errorf(result.Timeout, err, "%s stopped answering (WinRM over %s)", h.Name, s.url)
	}
	return transport.Errorf(result.ProtocolError, err, "%s: WinRM exchange failed: %s", h.Name, textsafe.Line(err.Error(), 300))
}

// authError is a 401 after authentication was attempted.
type authError struct{ status int }

func (e *authError) Error() string { return fmt.Sprintf("HTTP %d: authentication refused", e.status) }

// httpTransport is the masterzen/winrm Transporter for one host's run.
type httpTransport struct {
	ctx    context.Context
	s      *settings
	client *http.Client
	conns  *http.Transport
	// stdinSent is closed once the last stdin Send was answered. The
	// library starts receiving while it still sends stdin; a host holds
	// that Receive for up to its OperationTimeout and, on the one
	// connection NTLM authenticates, the Send would wait behind it. So a
	// Receive waits here for stdin instead, as pywinrm orders them.
	stdinSent chan struct{}
	stdinOnce sync.Once
	// sendErr is the first stdin Send that failed: the library goes on
	// (it ignores its writer's errors), so without this a host would run
	// part of the script
	sendMu  sync.Mutex
	sendErr error
	// sealed: NTLM over plain HTTP seals every message (nil otherwise)
	sealed *sealedConn

	// the shell and command the library opened, read from the host's
	// answers, so that abandon can end them
	idMu      sync.Mutex
	shellID   string
	commandID string
	deleted   bool
}

func (c *Client) newHTTP(ctx context.Context, s *settings) *httpTransport {
	dial := (&net.Dialer{Timeout: c.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	if c.cfg.Dial != nil {
		dial = c.cfg.Dial
	}
	base := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     s.tls,
		TLSHandshakeTimeout: c.cfg.ConnectTimeout,
		// NTLM authenticates a connection, not a request: one connection
		// per host, kept for the whole exchange, so that a handshake's
		// three legs never land on different connections
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		Proxy:               nil, // a bastion talks to its fleet directly
	}
	t := &httpTransport{ctx: ctx, s: s, conns: base, stdinSent: make(chan struct{})}
	var rt http.RoundTripper = base
	switch {
	case s.auth == "ntlm" && !s.https:
		// our own NTLM, whose keys seal each message: the only way a
		// host that refuses unencrypted WinRM takes NTLM over HTTP
		t.sealed = &sealedConn{user: s.user, pass: s.password, client: &http.Client{Transport: noBasic{base}}}
	case s.auth == "ntlm":
		// over TLS: the Negotiator authenticates; it falls back to Basic
		// when a server does not offer NTLM, so never let that put the
		// password on the wire
		rt = ntlmssp.Negotiator{RoundTripper: noBasic{base}}
	}
	t.client = &http.Client{Transport: rt}
	return t
}

func (t *httpTransport) noStdin() { t.stdinOnce.Do(func() { close(t.stdinSent) }) }

func (t *httpTransport) stdinFailed() error {
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	return t.sendErr
}

// stdinError: a piece of the script could not be sent, so the script was
// not run (a transient failure: the whole exchange may be tried again).
type stdinError struct{ err error }

func (e *stdinError) Error() string { return "sending the script failed: " + e.err.Error() }
func (e *stdinError) Unwrap() error { return e.err }

func (t *httpTransport) close() { t.conns.CloseIdleConnections() }

// Transport is called by the library with its endpoint; ours is set up.
func (t *httpTransport) Transport(*mz.Endpoint) error { return nil }

// consoleStdin and pipeStdin are the Command option as the library writes
// it and as a streamed script needs it. In console mode Windows hands the
// command a console, not the bytes sent on stdin: PowerShell's $input
// stays empty and the script never runs. Ansible and pypsrp send FALSE
// whenever they stream input; so do we.
const (
	consoleStdin = `<w:Option Name="WINRS_CONSOLEMODE_STDIN">TRUE</w:Option>`
	pipeStdin    = `<w:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</w:Option>`
)

// Post sends one SOAP envelope and returns the answer's body.
func (t *httpTransport) Post(_ *mz.Client, msg *soap.SoapMessage) (string, error) {
	envelope := msg.String()
	isReceive := strings.Contains(envelope, "/windows/shell/Receive</")
	lastSend := strings.Contains(envelope, "/windows/shell/Send</") && strings.Contains(envelope, `End="true"`)
	isCommand := strings.Contains(envelope, "/windows/shell/Command</")
	isSend := strings.Contains(envelope, "/windows/shell/Send</")
	if isSend {
		if err := t.stdinFailed(); err != nil {
			return "", err // never an end-of-input after a lost piece
		}
	}
	if isCommand {
		if !strings.Contains(envelope, consoleStdin) {
			return "", fmt.Errorf("internal error: the WinRM library no longer writes %s; stdin would not reach the script", consoleStdin)
		}
		envelope = strings.Replace(envelope, consoleStdin, pipeStdin, 1)
	}
	if isReceive {
		select {
		case <-t.stdinSent:
		case <-t.ctx.Done():
			return "", t.ctx.Err()
		}
		if err := t.stdinFailed(); err != nil {
			return "", err
		}
	}
	if lastSend {
		defer t.noStdin()
	}
	body, err := t.post(t.ctx, envelope)
	if err != nil && isSend {
		t.sendMu.Lock()
		if t.sendErr == nil {
			t.sendErr = &stdinError{err}
		}
		t.sendMu.Unlock()
		t.noStdin()
	}
	if err == nil {
		t.remember(body)
	}
	return body, err
}

var (
	shellIDRe   = regexp.MustCompile(`<(?:rsp:ShellId|w:Selector Name="ShellId")>([0-9A-Fa-f-]{1,64})<`)
	commandIDRe = regexp.MustCompile(`<rsp:CommandId>([0-9A-Fa-f-]{1,64})<`)
)

// remember notes the shell and command IDs in a host's answer.
func (t *httpTransport) remember(body string) {
	t.idMu.Lock()
	defer t.idMu.Unlock()
	if t.shellID == "" {
		if m := shellIDRe.FindStringSubmatch(body); m != nil {
			t.shellID = m[1]
		}
	}
	if t.commandID == "" {
		if m := commandIDRe.FindStringSubmatch(body); m != nil {
			t.commandID = m[1]
		}
	}
	if strings.Contains(body, "/transfer/DeleteResponse<") {
		t.deleted = true
	}
}

// abandon ends what the library left open after a failure or deadline:
// Signal(terminate) to the command, then Delete of the shell, as WinRS
// does on Ctrl-C. It has its own short budget, detached from the host's
// spent deadline, and gives up quietly: the host may be gone.
func (t *httpTransport) abandon(parent context.Context, budget time.Duration) {
	t.idMu.Lock()
	shellID, commandID, deleted := t.shellID, t.commandID, t.deleted
	t.idMu.Unlock()
	if shellID == "" || deleted {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), min(budget, 5*time.Second))
	defer cancel()
	params := mz.NewParameters("PT5S", "en-US", 153600)
	if commandID != "" {
		sig := mz.NewSignalRequest(t.s.url, shellID, commandID, params)
		_, _ = t.post(ctx, sig.String())
		sig.Free()
	}
	del := mz.NewDeleteShellRequest(t.s.url, shellID, params)
	_, _ = t.post(ctx, del.String())
	del.Free()
}

// post sends one envelope under ctx.
func (t *httpTransport) post(ctx context.Context, envelope string) (string, error) {
	if t.sealed != nil {
		body, status, err := t.sealed.post(func(b io.Reader) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodPost, t.s.url, b)
		}, []byte(envelope))
		if err != nil {
			return "", err
		}
		return answer(status, "multipart/encrypted", body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.s.url, strings.NewReader(envelope))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	switch t.s.auth {
	case "basic", "ntlm":
		req.SetBasicAuth(t.s.user, t.s.password) // ntlm: the Negotiator turns it into NTLM
	case "kerberos":
		if err := t.s.krb.sign(req); err != nil {
			return "", err
		}
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEnvelope+1))
	if err != nil {
		return "", err
	}
	return answer(resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

// answer turns an HTTP status and body into what the library expects: the
// SOAP answer, or an error — a 401, a WS-Management fault read into its
// parts, or a server that is not WS-Management at all.
func answer(status int, contentType string, body []byte) (string, error) {
	if len(body) > maxEnvelope {
		return "", fmt.Errorf("WinRM answer larger than %d bytes", maxEnvelope)
	}
	if status == http.StatusUnauthorized {
		return "", &authError{status: status}
	}
	// Every WS-Management answer, a fault too, is a SOAP envelope; a web
	// server that happens to listen on 5985 answers with a page.
	soapish := strings.HasPrefix(contentType, "application/soap+xml") || strings.HasPrefix(contentType, "multipart/encrypted")
	if !soapish && !bytes.Contains(body, []byte("http://www.w3.org/2003/05/soap-envelope")) {
		return "", &notWSMan{status: status, contentType: contentType}
	}
	if status != http.StatusOK {
		// WS-Management faults come as HTTP 500 with a SOAP body; the
		// library looks for "OperationTimeout" in the error to keep
		// receiving, and a fault's text carries it
		if f := parseFault(body); f != nil {
			f.status = status
			return "", f
		}
		return "", fmt.Errorf("http error %d: %s", status, textsafe.Truncate(string(body), 2000))
	}
	return string(body), nil
}

// notWSMan is an answer that is not SOAP: something else listens there.
type notWSMan struct {
	status      int
	contentType string
}

func (e *notWSMan) Error() string {
	ct := e.contentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("not a WS-Management endpoint: HTTP %d with %s", e.status, textsafe.Line(ct, 80))
}

// noBasic refuses to send a request that carries Basic credentials.
type noBasic struct{ rt http.RoundTripper }

func (n noBasic) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.Header.Get("Authorization"), "Basic ") {
		return nil, &authError{status: http.StatusUnauthorized}
	}
	return n.rt.RoundTrip(req)
}
