package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
)

// TestSharedNetworkBlockLeadsTheReport: four hosts of one subnet whose
// egress drops the heartbeat port, three in another that reach the
// manager. The reports lead with one finding naming exactly those four;
// each keeps its own cause and evidence, and (where the report holds
// every host) the cause names the finding.
func TestSharedNetworkBlockLeadsTheReport(t *testing.T) {
	f, inv, kh := startFleet(t, nil,
		fleetsim.Spec{Profile: "port-dropped", Count: 4, Zone: "10.2.3.0/24"},
		fleetsim.Spec{Profile: "healthy", Count: 3, Zone: "10.9.0.0/16"})
	// the zone's subnet is where the bastion reaches its hosts
	zone := netip.MustParsePrefix(f.Host(0).Addr + "/24").Masked().String()
	home := map[string]string{"HOME": t.TempDir()}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "30s"}
	r := runCLI(t, "", home, append(base, "-o", "json")...)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
	}
	var shared []result.Finding
	for _, f := range run.Fleet {
		if f.ID == result.FleetSharedNetwork {
			shared = append(shared, f)
		}
	}
	if len(shared) != 1 || strings.Join(shared[0].Hosts, ",") != "port-dropped-001,port-dropped-002,port-dropped-003,port-dropped-004" ||
		!strings.Contains(shared[0].Evidence, "4 hosts in "+zone+" cannot reach") || !strings.Contains(shared[0].Evidence, "3 hosts in other subnets can") {
		t.Fatalf("fleet: %+v", run.Fleet)
	}
	for _, h := range run.Hosts {
		if strings.HasPrefix(h.Name, "port-dropped") && (len(h.Causes) == 0 || h.Causes[0].ID != result.HeartbeatPortBlocked) {
			t.Errorf("%s lost its own cause: %+v", h.Name, h.Causes)
		}
	}
	// a password that is also the facts' word for it ("timeout") is hidden
	// from the report, yet the fleet rules judge what the checks saw
	r = runCLI(t, "", map[string]string{"HOME": home["HOME"], "WHYOFFLINE_SSH_PASSWORD": "timeout"}, append(base, "-o", "json")...)
	var hidden result.Run
	if err := json.Unmarshal([]byte(r.stdout), &hidden); err != nil {
		t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
	}
	kept := 0
	for _, f := range hidden.Fleet {
		if f.ID == result.FleetSharedNetwork && len(f.Hosts) == 4 {
			kept++
		}
	}
	if kept != 1 || !strings.Contains(r.stdout, "[secret hidden]") {
		t.Errorf("with the password %q the finding changed: %+v", "timeout", hidden.Fleet)
	}
	// the table leads with the finding, and each host's cause points at it
	r = runCLI(t, "", home, append(base, "-o", "table")...)
	if !strings.HasPrefix(r.stdout, "Fleet findings") || !strings.Contains(r.stdout, "fleet: shared-network-block:"+zone+":dropped") {
		t.Errorf("table:\n%s", r.stdout)
	}
	// CSV: an extra row with the host empty
	r = runCLI(t, "", home, append(base, "-o", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows[1:] {
		if row[0] == "" && row[3] == "fleet" && row[4] == result.FleetSharedNetwork && strings.Count(row[5], ";") == 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("csv has no fleet row: %v", rows)
	}
}

// tlsManager serves TLS on addr (127.0.0.1:0 for any port) with a
// self-signed certificate valid from notBefore to notAfter, standing in
// for the manager's heartbeat port; stop closes it.
func tlsManager(t *testing.T, addr string, notBefore, notAfter time.Time) (string, func()) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "dsm.lab.test"},
		NotBefore: notBefore, NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }
}

// TestManagerCertificateFinding: an expired manager certificate is a
// fleet finding; with --state-dir, a certificate that changed between two
// runs is one too, and an unchanged one is not.
func TestManagerCertificateFinding(t *testing.T) {
	_, inv, kh := startFleet(t, []string{"healthy"})
	home := map[string]string{"HOME": t.TempDir()}
	scanWith := func(manager string, extra ...string) result.Run {
		t.Helper()
		r := runCLI(t, "", home, append([]string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s",
			"--manager", manager, "-o", "json"}, extra...)...)
		var run result.Run
		if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
			t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
		}
		return run
	}
	finding := func(run result.Run) string {
		for _, f := range run.Fleet {
			if f.ID == result.FleetManagerCert {
				return f.Evidence
			}
		}
		return ""
	}
	now := time.Now()
	expired, _ := tlsManager(t, "127.0.0.1:0", now.AddDate(-2, 0, 0), now.AddDate(0, 0, -3))
	if got := finding(scanWith(expired)); !strings.Contains(got, "expired on") {
		t.Errorf("expired certificate: finding %q", got)
	}
	state := filepath.Join(t.TempDir(), "state")
	addr, stop := tlsManager(t, "127.0.0.1:0", now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	if got := finding(scanWith(addr, "--state-dir", state)); got != "" {
		t.Errorf("valid certificate, first run: %q", got)
	}
	if got := finding(scanWith(addr, "--state-dir", state)); got != "" {
		t.Errorf("unchanged certificate: %q", got)
	}
	// the same manager, its certificate replaced
	stop()
	tlsManager(t, addr, now.AddDate(0, 0, -1), now.AddDate(1, 0, 0))
	if got := finding(scanWith(addr, "--state-dir", state)); !strings.Contains(got, "changed since the last run") {
		t.Errorf("changed certificate: finding %q", got)
	}
	// another manager's certificate is not this one's change
	other, _ := tlsManager(t, "127.0.0.1:0", now.AddDate(0, 0, -1), now.AddDate(1, 0, 0))
	if got := finding(scanWith(other, "--state-dir", state)); got != "" {
		t.Errorf("another manager: %q", got)
	}
}
