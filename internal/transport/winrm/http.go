package winrm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/go-ntlmssp"
	mz "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/whyoffline/whyoffline/internal/textsafe"
)

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
		return "", fmt.Errorf("http error %d: %s", status, textsafe.Line(string(body), 2000))
	}
	// The library reads an answer without looking at its parse error,
	// in a goroutine of its own: a body that is not XML (the fuzzer's
	// "&") is a nil document there, and a panic no recover of ours can
	// reach — one hostile endpoint would end the whole sweep. Only a
	// well-formed document goes on.
	if err := wellFormed(body); err != nil {
		return "", fmt.Errorf("WinRM answer (HTTP %d) is not a well-formed SOAP document: %v", status, err)
	}
	return string(body), nil
}

// wellFormed reads body as XML to its end: one root element, no syntax
// error. Linear in the body, which maxEnvelope caps.
func wellFormed(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.New(textsafe.Line(err.Error(), 200))
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 || depth != 0 {
		return fmt.Errorf("%d root elements, %d left open", roots, depth)
	}
	return nil
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
