package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A real MIT Kerberos KDC for the emulated Windows hosts that take
// Kerberos, in the manager's namespace (where a domain controller would
// be, off the hosts' own machines) on port 88.
const (
	Realm       = "LAB.TEST"
	KrbUser     = "scanner"
	KrbPassword = "lab-Krb-Pa55"
)

// KDC is a running lab KDC and the client material it issued.
type KDC struct {
	Conf        string // krb5.conf for clients (KRB5_CONFIG)
	UserKeytab  string // scanner@LAB.TEST's keys
	StaleKeytab string // keys of scanner-old@LAB.TEST, changed since export
	CCache      string // a credential cache for scanner@LAB.TEST (kinit)
	dir         string
}

// ServiceKeytab is the keytab holding HTTP/name's key, as a Windows host
// joined to the domain would have it.
func (k *KDC) ServiceKeytab(name string) string {
	return filepath.Join(k.dir, "http-"+name+".keytab")
}

// KerberosName returns the host's DNS name in the lab (also its SPN's).
func KerberosName(h *Host) string { return h.Name + ".lab.test" }

// startKDC creates the realm, the user principal (keytab, credential
// cache, password) and an HTTP/ service principal with a keytab for each
// name (a stale one for names in stale: the KDC's key changed after the
// export, as when a host is rejoined to the domain), then runs krb5kdc in
// the manager's namespace. Principals require pre-authentication, as in
// Active Directory.
func (l *Lab) startKDC(ctx context.Context, names []string, stale map[string]bool) error {
	dir := filepath.Join(l.Dir, "kdc")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	k := &KDC{dir: dir, Conf: filepath.Join(dir, "krb5.conf"), UserKeytab: filepath.Join(dir, "scanner.keytab"),
		StaleKeytab: filepath.Join(dir, "scanner-old.keytab"), CCache: filepath.Join(dir, "ccache")}
	kdcConf := filepath.Join(dir, "kdc.conf")
	files := map[string]string{
		kdcConf: fmt.Sprintf(`[kdcdefaults]
 kdc_ports = 88
 kdc_tcp_ports = 88
[realms]
 %s = {
  database_name = %s/principal
  key_stash_file = %s/stash
  acl_file = %s/kadm5.acl
  max_life = 10h 0m 0s
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }
[logging]
 kdc = STDERR
`, Realm, dir, dir, dir),
		k.Conf: fmt.Sprintf(`[libdefaults]
 default_realm = %s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
[realms]
 %s = {
  kdc = %s:88
 }
[domain_realm]
 .lab.test = %s
`, Realm, Realm, ManagerIP, Realm),
		filepath.Join(dir, "kadm5.acl"): "",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return err
		}
	}
	env := []string{"env", "KRB5_CONFIG=" + k.Conf, "KRB5_KDC_PROFILE=" + kdcConf}
	run := func(args ...string) error {
		out, err := Run(ctx, env[0], append(env[1:], args...)...)
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	q := func(query string) error { return run("kadmin.local", "-r", Realm, "-q", query) }
	if err := run("kdb5_util", "-r", Realm, "create", "-s", "-P", "lab-master-"+l.ID); err != nil {
		return err
	}
	steps := []string{
		"addprinc +requires_preauth -pw " + KrbPassword + " " + KrbUser,
		"ktadd -k " + k.UserKeytab + " -norandkey " + KrbUser,
		"addprinc +requires_preauth -randkey scanner-old",
		"ktadd -k " + k.StaleKeytab + " scanner-old",
		"cpw -randkey scanner-old", // the exported keys are stale now
	}
	for _, n := range names {
		steps = append(steps, "addprinc -randkey HTTP/"+n, "ktadd -k "+k.ServiceKeytab(n)+" HTTP/"+n)
		if stale[n] {
			steps = append(steps, "cpw -randkey HTTP/"+n)
		}
	}
	for _, s := range steps {
		if err := q(s); err != nil {
			return err
		}
	}
	args := append([]string{"ip", "netns", "exec", l.manager}, env...)
	if err := l.spawn(ctx, append(args, "krb5kdc", "-n", "-r", Realm)...); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := Run(ctx, "ip", "netns", "exec", l.manager, "ss", "-Hltn", "sport = :88")
		if strings.Contains(out, ":88") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("krb5kdc does not listen on 88 after 10s:\n%s", l.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// a credential cache, as `kinit` leaves one for an operator
	kinit := append([]string{"netns", "exec", l.Bastion}, env...)
	kinit = append(kinit, "kinit", "-k", "-t", k.UserKeytab, "-c", "FILE:"+k.CCache, KrbUser+"@"+Realm)
	if out, err := Run(ctx, "ip", kinit...); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	l.KDC = k
	return nil
}
