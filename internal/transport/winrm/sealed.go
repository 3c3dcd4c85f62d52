package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// WinRM message encryption over HTTP with NTLM (MS-WSMV 2.2.9.1): each
// SOAP envelope travels sealed in a two-part multipart/encrypted body on
// the one connection the NTLM handshake authenticated. This is what a
// Windows host with the default AllowUnencrypted=false requires on 5985.

const (
	sealedProtocol = "application/HTTP-SPNEGO-session-encrypted"
	sealedBoundary = "Encrypted Boundary"
	sealedType     = `multipart/encrypted;protocol="` + sealedProtocol + `";boundary="` + sealedBoundary + `"`
)

// sealedConn is one host's sealed exchange: a handshake on first use, then
// every request and answer sealed in order. The lock spans a whole round
// trip because RC4 keystreams and sequence numbers must stay in step with
// the order the server sees.
type sealedConn struct {
	mu     sync.Mutex
	user   string
	pass   string
	sess   *ntlmSession // nil until the handshake is done
	client *http.Client
}

// post seals envelope, sends it and returns the unsealed answer and its
// HTTP status. A 401 on a sealed request (the server dropped the
// connection and with it the context) gets one fresh handshake.
func (c *sealedConn) post(req func(body io.Reader) (*http.Request, error), envelope []byte) ([]byte, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if c.sess == nil {
			if err := c.handshake(req); err != nil {
				if errors.Is(err, errConnChanged) && attempt == 0 {
					continue
				}
				return nil, 0, err
			}
		}
		body, status, err := c.roundTrip(req, envelope)
		if err != nil {
			// the keystream advanced for a message the server may never
			// have read (a cancelled request, a dropped connection): the
			// next message starts a new security context
			c.sess = nil
		}
		if err == nil || attempt > 0 || !errors.Is(err, errSealedRefused) {
			return body, status, err
		}
	}
}

var errSealedRefused = &authError{status: http.StatusUnauthorized}

// errConnChanged: the NTLM handshake's legs went out on different
// connections (one was dropped between them); a transient failure.
var errConnChanged = errors.New("the connection changed during the NTLM handshake")

// handshake runs NTLM NEGOTIATE → CHALLENGE → AUTHENTICATE with empty
// bodies, as pywinrm does before its first sealed message.
func (c *sealedConn) handshake(newReq func(io.Reader) (*http.Request, error)) error {
	sess := newNTLMSession(c.user, c.pass)
	var first net.Conn
	resp, err := c.send(newReq, "Negotiate "+base64.StdEncoding.EncodeToString(sess.negotiate()), &first)
	if err != nil {
		return err
	}
	challenge, ok := negotiateToken(resp)
	if resp.StatusCode != http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/soap+xml") {
		// no challenge and no SOAP: this is not WinRM (a web page on 5985)
		return &notWSMan{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	}
	if resp.StatusCode != http.StatusUnauthorized || !ok {
		return &authError{status: resp.StatusCode}
	}
	auth, err := sess.authenticate(challenge)
	if err != nil {
		return fmt.Errorf("NTLM: %v", err)
	}
	var second net.Conn
	resp, err = c.send(newReq, "Negotiate "+base64.StdEncoding.EncodeToString(auth), &second)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		if first != second {
			// NTLM authenticates a connection: an AUTHENTICATE that went
			// out on another one than its CHALLENGE came on says nothing
			// about the password
			return errConnChanged
		}
		return &authError{status: resp.StatusCode}
	}
	c.sess = sess
	return nil
}

// send posts an empty body with an Authorization header and drains the
// answer, so the connection (and its authentication) is kept.
func (c *sealedConn) send(newReq func(io.Reader) (*http.Request, error), authorization string, conn *net.Conn) (*http.Response, error) {
	req, err := newReq(http.NoBody)
	if err != nil {
		return nil, err
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { *conn = info.Conn },
	}))
	req.Header.Set("Authorization", authorization)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxEnvelope))
	resp.Body.Close()
	return resp, nil
}

func (c *sealedConn) roundTrip(newReq func(io.Reader) (*http.Request, error), envelope []byte) ([]byte, int, error) {
	req, err := newReq(bytes.NewReader(c.wrap(envelope)))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", sealedType)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 2*maxEnvelope+1))
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, resp.StatusCode, errSealedRefused
	}
	if len(raw) > 2*maxEnvelope {
		return nil, 0, fmt.Errorf("WinRM answer larger than %d bytes", maxEnvelope)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/encrypted") {
		if len(raw) == 0 {
			return nil, resp.StatusCode, nil
		}
		return nil, 0, fmt.Errorf("the host answered a sealed request in clear (HTTP %d, %s): %s", resp.StatusCode,
			textsafe.Line(resp.Header.Get("Content-Type"), 80), textsafe.Line(string(raw), 200))
	}
	body, err := c.unwrap(raw)
	if err != nil {
		return nil, 0, err
	}
	return body, resp.StatusCode, nil
}

// wrap builds the multipart/encrypted body for one envelope.
func (c *sealedConn) wrap(envelope []byte) []byte {
	sig, sealed := c.sess.seal(envelope)
	var b bytes.Buffer
	b.WriteString("--" + sealedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + sealedProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + strconv.Itoa(len(envelope)) + "\r\n")
	b.WriteString("--" + sealedBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(sig)))
	b.Write(n[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString("--" + sealedBoundary + "--\r\n")
	return b.Bytes()
}

var originalLength = regexp.MustCompile(`(?i)OriginalContent:\s*type=[^\r\n]*?Length=(\d+)`)

// unwrap opens a multipart/encrypted answer.
func (c *sealedConn) unwrap(raw []byte) ([]byte, error) {
	sep := []byte("--" + sealedBoundary + "\r\n")
	parts := bytes.Split(raw, sep)
	if len(parts) != 3 || len(parts[0]) != 0 {
		return nil, errors.New("sealed answer: not the two parts of multipart/encrypted")
	}
	m := originalLength.FindSubmatch(parts[1])
	if m == nil {
		return nil, errors.New("sealed answer: no OriginalContent length")
	}
	want, err := strconv.Atoi(string(m[1]))
	if err != nil || want > maxEnvelope {
		return nil, errors.New("sealed answer: bad OriginalContent length")
	}
	data := parts[2]
	i := bytes.Index(data, []byte("application/octet-stream\r\n"))
	if i < 0 {
		return nil, errors.New("sealed answer: no octet-stream part")
	}
	data = bytes.TrimSuffix(data[i+len("application/octet-stream\r\n"):], []byte("--"+sealedBoundary+"--\r\n"))
	if len(data) < 4 {
		return nil, errors.New("sealed answer: truncated")
	}
	sigLen := int(binary.LittleEndian.Uint32(data))
	if sigLen != 16 || len(data) < 4+sigLen {
		return nil, errors.New("sealed answer: bad signature length")
	}
	body, err := c.sess.unseal(data[4:4+sigLen], data[4+sigLen:])
	if err != nil {
		return nil, err
	}
	if len(body) != want {
		return nil, fmt.Errorf("sealed answer: %d bytes, OriginalContent says %d", len(body), want)
	}
	return body, nil
}

// negotiateToken is the token of a "WWW-Authenticate: Negotiate <b64>".
func negotiateToken(resp *http.Response) ([]byte, bool) {
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !strings.EqualFold(scheme, "Negotiate") {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
		if err == nil && len(b) > 8 {
			return b, true
		}
	}
	return nil, false
}
