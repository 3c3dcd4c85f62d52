package lab

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

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
// certificate), "tarpit ADDR" accepts TCP and never says a word.
func RunHelper(args []string) {
	if len(args) > 0 && args[0] == "wsman" {
		runWSMan(args[1:])
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "lab helper: want MODE ADDR")
		os.Exit(2)
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
	case "listen":
		// a port that is open: accept, then hang up
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			c.Close()
		}
	case "tls":
		pki, err := wsmantest.NewPKI([]string{ManagerName}, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lab helper:", err)
			os.Exit(1)
		}
		cfg := pki.TLS()
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
