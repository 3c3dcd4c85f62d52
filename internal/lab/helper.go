package lab

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
)

// The emulated Windows hosts' credentials (lab only).
const (
	WinUser     = `LAB\scanner`
	WinPassword = "lab-Win-Pa55"
)

// HelperEnv marks a test binary started as a lab helper process.
const HelperEnv = "WHYOFFLINE_LAB_HELPER"

// RunHelper serves one helper role and never returns: "tls ADDR" is the
// manager's heartbeat listener (a TLS server with a self-signed
// certificate; "tls-expired ADDR" with an expired one), "tarpit ADDR"
// accepts TCP and never says a word, "dns-slow ADDR" a resolver that
// answers after SlowDNSDelay, "proxy ADDR" is a site's HTTP CONNECT
// proxy and "proxy-auth ADDR" one that wants credentials.
func RunHelper(args []string) {
	if len(args) > 0 && args[0] == "wsman" {
		runWSMan(args[1:])
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "lab helper: want MODE ADDR")
		os.Exit(2)
	}
	if args[0] == "dns-slow" {
		serveSlowDNS(args[1])
	}
	ln, err := net.Listen("tcp", args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab helper:", err)
		os.Exit(1)
	}
	switch args[0] {
	case "tarpit":
		held := make(chan net.Conn, 1024) // keeps accepted connections open
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			select {
			case held <- c: // hold it open, say nothing
			default:
				c.Close()
			}
		}
	case "proxy", "proxy-auth":
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			go serveProxy(c, args[0] == "proxy-auth")
		}
	case "listen":
		// a port that is open: accept, then hang up
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			c.Close()
		}
	case "tls", "tls-expired":
		cfg, err := managerTLS(args[0] == "tls-expired")
		if err != nil {
			fmt.Fprintln(os.Stderr, "lab helper:", err)
			os.Exit(1)
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					_, _ = io.Copy(io.Discard, tc)
				}
			}()
		}
	}
	fmt.Fprintln(os.Stderr, "lab helper: unknown mode", args[0])
	os.Exit(2)
}

// runWSMan serves an emulated Windows host; args are key=value: addr,
// profile, behaviour; keytab and spn (Kerberos instead of NTLM); tls
// (valid: a certificate for name and the address's IP; wrong-name: for
// another name) with ca, the file the issuing CA is written to.
func runWSMan(args []string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "lab helper:", err)
		os.Exit(1)
	}
	kv := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		kv[k] = v
	}
	cfg := wsmantest.Config{Auth: "ntlm", User: WinUser, Password: WinPassword,
		Profile: kv["profile"], Behaviour: kv["behaviour"], ManagerAddr: ManagerIP}
	if cfg.Behaviour == "denied" {
		// the user logs in but is not allowed a shell
		cfg.Behaviour, cfg.Denied = "", true
	}
	if kv["keytab"] != "" {
		kt, err := keytab.Load(kv["keytab"])
		if err != nil {
			fail(err)
		}
		cfg.Auth, cfg.Keytab, cfg.SPN, cfg.User, cfg.Realm = "kerberos", kt, kv["spn"], KrbUser, Realm
	}
	if mode := kv["tls"]; mode != "" {
		host, _, _ := net.SplitHostPort(kv["addr"])
		names, ips := []string{kv["name"]}, []net.IP{net.ParseIP(host)}
		if mode == "wrong-name" {
			names, ips = []string{"some-other-host.lab.test"}, nil
		}
		pki, err := wsmantest.NewPKI(names, ips)
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(kv["ca"], pki.CAPEM, 0o644); err != nil {
			fail(err)
		}
		cfg.TLS = pki.TLS()
	}
	// like a default Windows host: NTLM over HTTP only when sealed
	cfg.RequireEncryption = cfg.Auth == "ntlm" && cfg.TLS == nil
	srv, err := wsmantest.Start(kv["addr"], cfg)
	if err != nil {
		fail(err)
	}
	defer srv.Close()
	select {}
}

// serveProxy answers one HTTP proxy client as a site's CONNECT proxy does:
// a tunnel to the manager (by name) or a lab address, 502 when that
// cannot be reached, 403 for anything else; with wantAuth, 407 to all.
func serveProxy(c net.Conn, wantAuth bool) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	answer := func(status string) {
		fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status)
	}
	switch {
	case wantAuth:
		fmt.Fprintf(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"lab\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	case req.Method != http.MethodConnect:
		answer("405 Method Not Allowed")
		return
	}
	host, port, err := net.SplitHostPort(req.Host)
	if err != nil {
		answer("400 Bad Request")
		return
	}
	if host == ManagerName {
		host = ManagerIP // the lab's name, resolved without asking anyone
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !netip.MustParsePrefix("10.77.0.0/16").Contains(ip) {
		answer("403 Forbidden")
		return
	}
	up, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 3*time.Second)
	if err != nil {
		answer("502 Bad Gateway")
		return
	}
	defer up.Close()
	_ = up.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { _, _ = io.Copy(up, br) }() // with what the client sent early
	_, _ = io.Copy(c, up)
}

// managerTLS is a manager's heartbeat certificate: a fresh key each call
// (a restarted listener presents another certificate); expired: one whose
// validity ended yesterday, as a manager whose certificate was not renewed.
func managerTLS(expired bool) (*tls.Config, error) {
	if !expired {
		pki, err := wsmantest.NewPKI([]string{ManagerName}, nil)
		if err != nil {
			return nil, err
		}
		return pki.TLS(), nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "dsm-expired.lab.test"},
		DNSNames: []string{"dsm-expired.lab.test"}, NotBefore: now.AddDate(-1, 0, -1), NotAfter: now.AddDate(0, 0, -1),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

// SlowDNSDelay is how long the slow resolver takes to answer: slow, but
// inside the lab hosts' resolver timeout.
const SlowDNSDelay = 1200 * time.Millisecond

// serveSlowDNS is a resolver that knows the manager's name, and takes its
// time: every answer comes SlowDNSDelay late.
func serveSlowDNS(addr string) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab helper:", err)
		os.Exit(1)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			os.Exit(0)
		}
		q := append([]byte(nil), buf[:n]...)
		go func() {
			time.Sleep(SlowDNSDelay)
			if b, ok := dnsAnswer(q); ok {
				_, _ = pc.WriteTo(b, from)
			}
		}()
	}
}

// dnsAnswer answers one query: the manager's A record, no other data for
// its name, NXDOMAIN for any other name.
func dnsAnswer(q []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, false
	}
	question, err := p.Question()
	if err != nil {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	name := strings.TrimSuffix(strings.ToLower(question.Name.String()), ".")
	if name != ManagerName {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(question) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if name == ManagerName && question.Type == dnsmessage.TypeA {
		ip := netip.MustParseAddr(ManagerIP).As4()
		if b.AResource(dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: ip}) != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
