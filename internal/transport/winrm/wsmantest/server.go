// Package wsmantest is a WS-Management (WinRM) server for tests: real HTTP
// or HTTPS, the real SOAP envelopes of the Windows remote shell (Create,
// Command, Send, Receive, Signal, Delete), and real Basic, NTLMv2 and
// Kerberos authentication (an NTLM challenge the client must answer with
// the right password hash; a Kerberos ticket from a real KDC, checked
// with the host's service keytab). Windows cannot run here, so instead of executing the
// PowerShell it receives, it reads the script's nonce and check IDs and
// answers the way a Windows host in a given fault profile would. It is
// test infrastructure: nothing in the whyoffline binary imports it.
package wsmantest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/whyoffline/whyoffline/internal/frame"
)

// Config is one emulated Windows host.
type Config struct {
	// Auth: "ntlm" (Negotiate/NTLM), "basic", "both" (NTLM and Basic) or
	// "kerberos" (Negotiate/Kerberos: Keytab and SPN required).
	Auth     string
	User     string // DOMAIN\user or user
	Password string
	// Profile: how the host answers the checks (see Profiles).
	Profile string
	// Behaviour at the protocol level: "" (normal), "stall" (the first
	// Receive never answers), "malformed" (the shell's Create answer is
	// not XML), "endless" (stdout never ends), "lose-shell" (the shell is
	// gone when output is asked for, as after a WinRM restart), "web" (a
	// web server on the port: every POST gets 200 and an HTML page),
	// "drop-once" (the connection is cut, unanswered, at the first stdin
	// Send, as a load balancer or a restarting HTTP.sys does),
	// "receive-not-xml" (a Receive is answered 200 with the SOAP content
	// type and a body that is not XML: a hostile host or a broken proxy).
	Behaviour string
	// Denied: the user authenticates but may not open a shell (not an
	// administrator nor in Remote Management Users): Create is refused
	// with the access-denied fault.
	Denied bool
	// MaxShells is the user's shell quota (winrs MaxShellsPerUser); 0
	// means 5, Windows Server 2008 R2's default; negative, a quota other
	// clients have already used up. Shells count until they are deleted,
	// as on Windows.
	MaxShells int
	// TLS serves HTTPS with this configuration; nil serves HTTP.
	TLS *tls.Config
	// Now is the host's clock (clock-skew profiles shift it).
	Now func() time.Time
	// ManagerAddr is what the host resolves the manager's name to; by
	// default it asks this machine's resolver, as a host on the same
	// network as the bastion would.
	ManagerAddr string
	// RequireEncryption refuses SOAP in clear over HTTP, as Windows does
	// with its default AllowUnencrypted=false: NTLM clients must seal.
	RequireEncryption bool
	// Kerberos: the service keytab, the SPN this host answers as
	// (HTTP/name) and the client's realm (User is its principal name).
	Keytab *keytab.Keytab
	SPN    string
	Realm  string
}

// Server is a running emulated host.
type Server struct {
	cfg  Config
	ln   net.Listener
	http *http.Server

	mu      sync.Mutex
	shells  map[string]*shell
	dropped bool // drop-once has dropped its connection
	// Requests counts SOAP actions served, by action name (for tests).
	Requests map[string]int
}

type shell struct {
	commands map[string]*command
}

type command struct {
	stdin bytes.Buffer
	eof   bool
	// console: WINRS_CONSOLEMODE_STDIN was TRUE (or absent). Windows then
	// gives the process a console for stdin, and what the client sends is
	// not what the process reads: PowerShell's $input stays empty.
	console    bool
	out        []byte // what is left to send
	started    bool
	terminated bool
}

type connKey struct{}

// connState is one TCP connection's authentication state: NTLM
// authenticates a connection, not a request.
type connState struct {
	mu            sync.Mutex
	challenge     []byte
	authenticated bool
	sealer        *sealer // NTLM session security, once authenticated
}

// Start serves cfg on addr ("127.0.0.1:0" for any port).
func Start(addr string, cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Auth == "" {
		cfg.Auth = "ntlm"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s := &Server{cfg: cfg, ln: ln, shells: map[string]*shell{}, Requests: map[string]int{}}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{})
		},
		ErrorLog: log.New(io.Discard, "", 0), // a refused certificate is a test case, not noise
	}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and drops every connection (a stalled Receive too).
func (s *Server) Close() { _ = s.http.Close() }

// Count returns how many requests of a SOAP action were served.
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[action]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	if s.cfg.Behaviour == "web" {
		s.count("web")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>IIS Windows Server</title></head><body><h1>It works</h1></body></html>\n")
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/wsman" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if !s.authorize(w, r) {
		return
	}
	cs, _ := r.Context().Value(connKey{}).(*connState)
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/encrypted"):
		if cs == nil || cs.sealer == nil {
			http.Error(w, "no security context to open a sealed message", http.StatusBadRequest)
			return
		}
		cs.mu.Lock()
		plain, err := cs.sealer.open(body)
		cs.mu.Unlock()
		if err != nil {
			s.count("sealed-rejected")
			http.Error(w, "sealed message: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.count("sealed")
		if s.dropHere(w, plain) {
			return
		}
		rec := httptest.NewRecorder()
		s.handle(rec, r, plain)
		cs.mu.Lock()
		sealed := cs.sealer.seal(rec.Body.Bytes())
		cs.mu.Unlock()
		w.Header().Set("Content-Type", `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`)
		w.WriteHeader(rec.Code)
		_, _ = w.Write(sealed)
		return
	case len(body) == 0:
		// the last leg of a handshake a client completes before sealing
		return
	case s.cfg.RequireEncryption && s.cfg.TLS == nil:
		s.count("clear-refused")
		w.WriteHeader(http.StatusUnauthorized)
		return
	case !strings.HasPrefix(ct, "application/soap+xml"):
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	if s.dropHere(w, body) {
		return
	}
	s.handle(w, r, body)
}

// handle answers one SOAP request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		s.fault(w, "", "InvalidMessage", "the request is not a SOAP envelope")
		return
	}
	action := env.Header.Action
	short := action[strings.LastIndex(action, "/")+1:]
	s.count(short)
	if env.Header.MessageID == "" || env.Header.ResourceURI != shellURI {
		s.fault(w, env.Header.MessageID, "InvalidHeader", "MessageID and the cmd shell ResourceURI are required")
		return
	}
	switch action {
	case actionCreate:
		s.create(w, &env)
	case actionCommand:
		s.command(w, &env)
	case actionSend:
		s.send(w, &env)
	case actionReceive:
		s.receive(w, r, &env)
	case actionSignal:
		s.signal(w, &env)
	case actionDelete:
		s.mu.Lock()
		_, ok := s.shells[env.shellID()]
		delete(s.shells, env.shellID())
		s.mu.Unlock()
		if !ok {
			s.shellGone(w, &env)
			return
		}
		s.reply(w, &env, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "")
	default:
		s.fault(w, env.Header.MessageID, "ActionNotSupported", "unsupported action "+action)
	}
}

// authorize answers 401 until the request (or, for NTLM, its connection)
// is authenticated.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	allowBasic := s.cfg.Auth == "basic" || s.cfg.Auth == "both"
	allowNTLM := s.cfg.Auth == "ntlm" || s.cfg.Auth == "both"
	allowKerberos := s.cfg.Auth == "kerberos" && s.cfg.Keytab != nil
	cs, _ := r.Context().Value(connKey{}).(*connState)
	challenge := func() {
		if allowNTLM || allowKerberos {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
		if allowBasic {
			w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}
	if strings.HasPrefix(auth, "Basic ") {
		s.count("basic-auth")
	}
	switch {
	case strings.HasPrefix(auth, "Negotiate ") && allowKerberos:
		token, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(auth, "Negotiate ")))
		if err != nil {
			challenge()
			return false
		}
		return s.kerberos(w, token)
	case strings.HasPrefix(auth, "Basic ") && allowBasic:
		u, p, ok := r.BasicAuth()
		if ok && s.userMatches(u, "") && p == s.cfg.Password {
			return true
		}
		challenge()
		return false
	case (strings.HasPrefix(auth, "Negotiate ") || strings.HasPrefix(auth, "NTLM ")) && allowNTLM && cs != nil:
		return s.ntlm(w, auth, cs, challenge)
	case auth == "" && cs != nil:
		cs.mu.Lock()
		ok := cs.authenticated
		cs.mu.Unlock()
		if ok {
			return true
		}
	}
	challenge()
	return false
}

// ntlm runs one leg of the NTLM handshake on the connection's state: a
// NEGOTIATE gets a CHALLENGE, an AUTHENTICATE is checked against the
// password (NTLMv2) and starts session security.
func (s *Server) ntlm(w http.ResponseWriter, auth string, cs *connState, challenge func()) bool {
	scheme, token, _ := strings.Cut(auth, " ")
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
		challenge()
		return false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch msg[8] {
	case 1: // NEGOTIATE: answer with a CHALLENGE
		cs.challenge = make([]byte, 8)
		_, _ = rand.Read(cs.challenge)
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challengeMessage(cs.challenge, msg)))
		w.WriteHeader(http.StatusUnauthorized)
		return false
	case 3: // AUTHENTICATE: check the NTLMv2 proof
		if cs.challenge == nil {
			break
		}
		if base := verifyNTLMv2(msg, cs.challenge, s.cfg.User, s.cfg.Password); base != nil {
			cs.authenticated = true
			cs.sealer = newSealer(exportedKey(msg, base))
			return true
		}
		cs.challenge = nil
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	challenge()
	return false
}

func (s *Server) userMatches(user, domain string) bool {
	want := s.cfg.User
	if _, u, ok := strings.Cut(want, `\`); ok {
		want = u
	}
	if _, u, ok := strings.Cut(user, `\`); ok {
		user = u
	}
	return strings.EqualFold(user, want)
}

// SOAP vocabulary.
const (
	shellURI      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	shellNS       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand = shellNS + "/Command"
	actionSend    = shellNS + "/Send"
	actionReceive = shellNS + "/Receive"
	actionSignal  = shellNS + "/Signal"
	stateDone     = shellNS + "/CommandState/Done"
	stateRunning  = shellNS + "/CommandState/Running"
)

type envelope struct {
	Header struct {
		Action      string `xml:"Action"`
		MessageID   string `xml:"MessageID"`
		ResourceURI string `xml:"ResourceURI"`
		Selectors   []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"SelectorSet>Selector"`
		Options []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"OptionSet>Option"`
	} `xml:"Header"`
	Body struct {
		Shell *struct {
			InputStreams  string `xml:"InputStreams"`
			OutputStreams string `xml:"OutputStreams"`
		} `xml:"Shell"`
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"Stream"`
		} `xml:"Send"`
		Receive *struct {
			Stream struct {
				CommandID string `xml:"CommandId,attr"`
				Names     string `xml:",chardata"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

// option is a header option's value ("" when absent).
func (e *envelope) option(name string) string {
	for _, o := range e.Header.Options {
		if o.Name == name {
			return strings.TrimSpace(o.Value)
		}
	}
	return ""
}

func (e *envelope) shellID() string {
	for _, s := range e.Header.Selectors {
		if s.Name == "ShellId" {
			return s.Value
		}
	}
	return ""
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

func (s *Server) create(w http.ResponseWriter, env *envelope) {
	if env.Body.Shell == nil || !strings.Contains(env.Body.Shell.InputStreams, "stdin") {
		s.fault(w, env.Header.MessageID, "InvalidParameter", "Create needs a Shell with stdin")
		return
	}
	if s.cfg.Behaviour == "malformed" {
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		_, _ = io.WriteString(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><rsp:Shell>`) // truncated, unbound prefix
		return
	}
	if s.cfg.Denied {
		s.faultCode(w, env.Header.MessageID, "s:Sender", "w:AccessDenied", "Access is denied. ", codeAccessDenied, "Access is denied. ")
		return
	}
	max := s.cfg.MaxShells
	switch {
	case max == 0:
		max = 5
	case max < 0:
		max = 0 // exhausted by other clients' shells
	}
	s.mu.Lock()
	open := len(s.shells)
	s.mu.Unlock()
	if open >= max {
		s.count("quota-refused")
		msg := fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. ", max)
		s.faultCode(w, env.Header.MessageID, "s:Receiver", "w:QuotaLimit", "The WS-Management service cannot process the request. The service cannot complete the request because a quota has been exceeded. ", codeQuotaMaxShells, msg)
		return
	}
	id := newID()
	s.mu.Lock()
	s.shells[id] = &shell{commands: map[string]*command{}}
	s.mu.Unlock()
	s.reply(w, env, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", `<x:ResourceCreated>`+
		`<a:Address>http://localhost/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>`+shellURI+`</w:ResourceURI>`+
		`<w:SelectorSet><w:Selector Name="ShellId">`+id+`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
		`<rsp:Shell><rsp:ShellId>`+id+`</rsp:ShellId><rsp:ResourceUri>`+shellURI+`</rsp:ResourceUri>`+
		`<rsp:Owner>`+xmlText(s.cfg.User)+`</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
}

func (s *Server) command(w http.ResponseWriter, env *envelope) {
	s.mu.Lock()
	sh := s.shells[env.shellID()]
	s.mu.Unlock()
	if sh == nil || env.Body.CommandLine == nil {
		s.fault(w, env.Header.MessageID, "InvalidSelectors", "no such shell or no command line")
		return
	}
	id := newID()
	console := !strings.EqualFold(env.option("WINRS_CONSOLEMODE_STDIN"), "FALSE")
	if console {
		s.count("console-stdin")
	}
	s.mu.Lock()
	sh.commands[id] = &command{console: console}
	s.mu.Unlock()
	s.reply(w, env, actionCommand+"Response", `<rsp:CommandResponse><rsp:CommandId>`+id+`</rsp:CommandId></rsp:CommandResponse>`)
}

func (s *Server) lookup(env *envelope, id string) *command {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shells[env.shellID()]; sh != nil {
		return sh.commands[id]
	}
	return nil
}

func (s *Server) send(w http.ResponseWriter, env *envelope) {
	if env.Body.Send == nil {
		s.fault(w, env.Header.MessageID, "InvalidParameter", "Send without a stream")
		return
	}
	for _, st := range env.Body.Send.Streams {
		c := s.lookup(env, st.CommandID)
		if c == nil || st.Name != "stdin" {
			s.fault(w, env.Header.MessageID, "InvalidSelectors", "no such command")
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.fault(w, env.Header.MessageID, "InvalidParameter", "stdin is not base64")
			return
		}
		s.mu.Lock()
		c.stdin.Write(data)
		if st.End == "true" {
			c.eof = true
		}
		s.mu.Unlock()
	}
	s.reply(w, env, actionSend+"Response", `<rsp:SendResponse/>`)
}

// receive answers with the next chunk of stdout, then Done.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, env *envelope) {
	if env.Body.Receive == nil {
		s.fault(w, env.Header.MessageID, "InvalidParameter", "Receive without DesiredStream")
		return
	}
	id := env.Body.Receive.Stream.CommandID
	if s.cfg.Behaviour == "lose-shell" {
		s.mu.Lock()
		delete(s.shells, env.shellID())
		s.mu.Unlock()
	}
	c := s.lookup(env, id)
	if c == nil {
		s.shellGone(w, env)
		return
	}
	switch s.cfg.Behaviour {
	case "stall":
		<-r.Context().Done() // the host hangs mid-command
		return
	case "receive-not-xml":
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		_, _ = io.WriteString(w, "&")
		return
	case "endless":
		chunk := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("A"), 48<<10))
		s.reply(w, env, actionReceive+"Response", `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="`+id+`">`+chunk+
			`</rsp:Stream><rsp:CommandState CommandId="`+id+`" State="`+stateRunning+`"/></rsp:ReceiveResponse>`)
		return
	}
	// PowerShell reads all of stdin before it runs: like a real host, hold
	// the Receive a while for it, then answer OperationTimeout
	for wait := 0; wait < 250; wait++ {
		s.mu.Lock()
		ready := c.eof || c.started
		s.mu.Unlock()
		if ready || r.Context().Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	if !c.started {
		if !c.eof {
			s.mu.Unlock()
			s.operationTimeout(w, env)
			return
		}
		c.started = true
		if c.console {
			// the process read a console, not what was sent: PowerShell
			// ran "-" with empty input and printed nothing
			c.out = nil
		} else {
			c.out = s.answer(c.stdin.String())
		}
	}
	n := min(len(c.out), 8<<10) // real hosts send output in pieces
	part := c.out[:n]
	c.out = c.out[n:]
	done := len(c.out) == 0
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	if len(part) > 0 {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s">%s</rsp:Stream>`, id, base64.StdEncoding.EncodeToString(part))
	}
	if done {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, id, id)
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>`, id, stateDone)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/>`, id, stateRunning)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	s.reply(w, env, actionReceive+"Response", b.String())
}

// WSManFault codes this server answers with (winerror.h).
const (
	codeAccessDenied     = 5
	codeShellNotFound    = 2150858843
	codeOperationTimeout = 2150858793
	codeQuotaMaxShells   = 2150859173
	codeInvalidMessage   = 2150858817
)

func (s *Server) operationTimeout(w http.ResponseWriter, env *envelope) {
	const text = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
	s.writeFault(w, env.Header.MessageID, "s:Receiver", "w:TimedOut", text,
		`<w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/OperationTimeout</w:FaultDetail>`+wsmanFault(codeOperationTimeout, text))
}

// shellGone is Windows' answer for a ShellId it does not have (deleted,
// timed out, or lost with a WinRM restart).
func (s *Server) shellGone(w http.ResponseWriter, env *envelope) {
	s.count("shell-not-found")
	msg := "The request for the Windows Remote Shell with ShellId " + env.shellID() + " failed because the shell was not found on the server. " +
		"Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. "
	s.faultCode(w, env.Header.MessageID, "s:Sender", "w:InvalidSelectors",
		"The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ", codeShellNotFound, msg)
}

func (s *Server) fault(w http.ResponseWriter, relatesTo, subcode, text string) {
	s.faultCode(w, relatesTo, "s:Sender", "w:"+subcode, text, codeInvalidMessage, text)
}

// faultCode writes a fault the way Windows does: the SOAP code and
// subcode, a reason, and the WSManFault detail with its numeric code and
// message.
func (s *Server) faultCode(w http.ResponseWriter, relatesTo, code, subcode, reason string, wsmanCode uint64, message string) {
	s.writeFault(w, relatesTo, code, subcode, reason, wsmanFault(wsmanCode, message))
}

func wsmanFault(code uint64, message string) string {
	return fmt.Sprintf(`<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="localhost"><f:Message>%s</f:Message></f:WSManFault>`, code, xmlText(message))
}

func (s *Server) writeFault(w http.ResponseWriter, relatesTo, code, subcode, text, detail string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	d := ""
	if detail != "" {
		d = `<s:Detail>` + detail + `</s:Detail>`
	}
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" %s><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header>`+
		`<s:Body><s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason>%s</s:Fault></s:Body></s:Envelope>`,
		namespaces, newID(), xmlText(relatesTo), code, subcode, xmlText(text), d)
}

// signal handles Signal: terminate ends the command (its output is
// dropped); the shell stays until Delete.
func (s *Server) signal(w http.ResponseWriter, env *envelope) {
	if env.Body.Signal == nil {
		s.fault(w, env.Header.MessageID, "InvalidParameter", "Signal without a command")
		return
	}
	c := s.lookup(env, env.Body.Signal.CommandID)
	if c == nil {
		s.shellGone(w, env)
		return
	}
	if strings.HasSuffix(env.Body.Signal.Code, "/signal/terminate") {
		s.count("terminate")
		s.mu.Lock()
		c.terminated, c.out = true, nil
		s.mu.Unlock()
	}
	s.reply(w, env, actionSignal+"Response", `<rsp:SignalResponse/>`)
}

// OpenShells is how many shells exist on the server (created and not yet
// deleted): what counts against the quota.
func (s *Server) OpenShells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

const namespaces = `xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
	`xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" ` +
	`xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"`

func (s *Server) reply(w http.ResponseWriter, env *envelope, action, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" %s><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID>`+
		`<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>`,
		namespaces, action, newID(), xmlText(env.Header.MessageID), body)
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// dropHere cuts the connection, unanswered, at drop-once's first Send.
func (s *Server) dropHere(w http.ResponseWriter, envelope []byte) bool {
	if s.cfg.Behaviour != "drop-once" || !bytes.Contains(envelope, []byte("/windows/shell/Send</")) || !s.dropOnce() {
		return false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// dropOnce reports true the first time only.
func (s *Server) dropOnce() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped {
		return false
	}
	s.dropped = true
	return true
}

// answer is what the PowerShell script prints on this host.
func (s *Server) answer(script string) []byte {
	return Answer(script, s.cfg.Profile, s.cfg.Now(), s.cfg.ManagerAddr)
}

// Answer is what the whyoffline PowerShell script would print on a Windows
// host in profile: the JSON document of every check's output, framed by
// the script's nonce. managerAddr is what the host resolves the manager to
// ("" = ask this machine's resolver). The fleet simulator's Windows hosts
// over SSH answer with it too.
func Answer(script, profile string, now time.Time, managerAddr string) []byte {
	hdr, err := frame.ParseHeader(script)
	if err != nil {
		return []byte("The term 'whatever' is not recognized as the name of a cmdlet.\r\n")
	}
	call := &Call{Now: now, Port: "4120", ManagerAddr: managerAddr, Manager: hdr.Manager}
	if hdr.Port > 0 {
		call.Port = strconv.Itoa(hdr.Port)
	}
	if call.ManagerAddr == "" && call.Manager != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, call.Manager)
		cancel()
		if err == nil && len(addrs) > 0 {
			call.ManagerAddr = addrs[0]
		}
	}
	_, output := lookupFlavoured(profile)
	doc := frame.Document{OS: "Windows", Playbook: "windows", Sections: map[string]frame.DocumentPart{}}
	for _, id := range hdr.Checks["windows"] {
		doc.Sections[id] = frame.DocumentPart{O: output(id, call)}
	}
	return append([]byte("#< CLIXML"), frame.JSONAnswer(hdr.Nonce, doc)...)
}
