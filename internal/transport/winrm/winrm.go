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
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	mz "github.com/masterzen/winrm"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
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
