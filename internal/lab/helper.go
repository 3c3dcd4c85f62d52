package lab

import (
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
	if (len(args) == 4 || len(args) == 6) && args[0] == "wsman" {
		// an emulated Windows host: wsman ADDR PROFILE BEHAVIOUR [KEYTAB SPN]
		cfg := wsmantest.Config{Auth: "ntlm", User: WinUser, Password: WinPassword,
			Profile: args[2], Behaviour: strings.TrimPrefix(args[3], "-"), ManagerAddr: ManagerIP}
		if len(args) == 6 {
			kt, err := keytab.Load(args[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, "lab helper:", err)
				os.Exit(1)
			}
			cfg.Auth, cfg.Keytab, cfg.SPN, cfg.User, cfg.Realm = "kerberos", kt, args[5], KrbUser, Realm
		}
		srv, err := wsmantest.Start(args[1], cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lab helper:", err)
			os.Exit(1)
		}
		defer srv.Close()
		select {}
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
		cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
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

func selfSigned() tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: ManagerName},
		DNSNames: []string{ManagerName}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
