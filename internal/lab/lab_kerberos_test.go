package lab

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// TestLabKerberos scans emulated Windows hosts that take only Kerberos,
// with tickets from a real MIT KDC in the manager's namespace: a keytab, a
// kinit credential cache and a password all log in; an IP address without
// kerberos_hostname, stale client keys and a host with a stale service
// key are refused, each with what to do.
func TestLabKerberos(t *testing.T) {
	requireLab(t)
	win := func(name, profile string, stale bool) *Host {
		return &Host{Name: name, Windows: &Windows{Profile: profile, Kerberos: true, StaleServiceKey: stale}}
	}
	sc := []scenario{
		{host: win("win-krb-keytab", "healthy", false), status: result.Healthy},
		{host: win("win-krb-ccache", "service-stopped", false), status: result.Diagnosed, want: []string{"agent-not-running"}},
		{host: win("win-krb-password", "firewall-blocked", false), status: result.Diagnosed, want: []string{"heartbeat-port-blocked"}},
		{host: win("win-krb-by-ip", "healthy", false), status: result.Healthy},
		{host: win("win-krb-ip-no-spn", "healthy", false), status: result.Error, want: []string{"auth-failed"}},
		{host: win("win-krb-stale-user", "healthy", false), status: result.Error, want: []string{"auth-failed"}},
		{host: win("win-krb-stale-host", "healthy", true), status: result.Error, want: []string{"auth-failed"}},
	}
	hosts := make([]*Host, len(sc))
	for i := range sc {
		hosts[i] = sc[i].host
	}
	l := startLab(t, hosts, nil)
	if l.KDC == nil {
		t.Fatal("no KDC started for the Kerberos hosts")
	}
	const base = "transport: winrm, winrm_transport: kerberos"
	user := "user: " + KrbUser + "@" + Realm
	extra := map[string]string{
		"win-krb-keytab":     base + ", " + user + ", kerberos_keytab: " + l.KDC.UserKeytab,
		"win-krb-ccache":     base + ", user: " + KrbUser + ", kerberos_ccache: " + l.KDC.CCache,
		"win-krb-password":   base + ", user: " + KrbUser + ", kerberos_realm: " + strings.ToLower(Realm) + ", password_env: LAB_KRB_PASSWORD",
		"win-krb-by-ip":      base + ", " + user + ", kerberos_keytab: " + l.KDC.UserKeytab + ", kerberos_hostname: win-krb-by-ip.lab.test",
		"win-krb-ip-no-spn":  base + ", " + user + ", kerberos_keytab: " + l.KDC.UserKeytab,
		"win-krb-stale-user": base + ", user: scanner-old@" + Realm + ", kerberos_keytab: " + l.KDC.StaleKeytab,
		"win-krb-stale-host": base + ", " + user + ", kerberos_keytab: " + l.KDC.UserKeytab,
	}
	for i := range sc {
		h := sc[i].host
		sc[i].extra = extra[h.Name]
		if !strings.Contains(h.Name, "-ip") {
			sc[i].address = KerberosName(h) // the name its SPN is registered under
		}
	}
	inv, kh := writeInventory(t, l, sc)
	t.Setenv("KRB5_CONFIG", l.KDC.Conf)
	t.Setenv("KRB5CCNAME", "")
	t.Setenv("LAB_KRB_PASSWORD", KrbPassword)
	run, code, _ := scan(t, l, "-i", inv, "--known-hosts", kh, "--manager", ManagerName, "--connect-timeout", "4s", "--timeout", "30s")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %-8s %-13s %-45s %s\n", "HOST", "OS", "STATUS", "EXPECTED", "GOT")
	checkScenarios(t, run, sc, &table)
	byName := hostsByName(run)
	for name, want := range map[string]string{
		"win-krb-ip-no-spn":  "kerberos_hostname",
		"win-krb-stale-user": "KDC_ERR_PREAUTH_FAILED",
		"win-krb-stale-host": "did not accept the ticket",
	} {
		if h := byName[name]; h == nil || h.Error == nil || !strings.Contains(h.Error.Message, want) {
			t.Errorf("%s: want an error saying %q, got %+v", name, want, h.Error)
		}
	}
	for _, h := range run.Hosts {
		if h.Error != nil && strings.Contains(h.Error.Message, KrbPassword) {
			t.Errorf("%s: the password leaked into the report", h.Name)
		}
	}
	t.Log(table.String())
}
