package winrm

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// krbSettings signs a host's requests with SPNEGO (Kerberos) tokens.
type krbSettings struct {
	client *krbclient.Client
	spn    string
	mu     *sync.Mutex // a gokrb5 client is shared by every host with the same principal
}

func (k *krbSettings) sign(req *http.Request) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := spnego.SetSPNEGOHeader(k.client, req, k.spn); err != nil {
		return &krbError{spn: k.spn, err: err}
	}
	return nil
}

// krbError is a failure to get a ticket for the host from the KDC: a
// wrong key or password, an unknown principal or SPN, no KDC reachable.
type krbError struct {
	spn string
	err error
}

// Error is the KDC's own error when there is one: gokrb5 wraps it in
// several layers of context that only push it out of sight.
func (e *krbError) Error() string {
	msg := e.err.Error()
	if i := strings.Index(msg, "KRB Error: "); i >= 0 {
		return msg[i:]
	}
	return msg
}
func (e *krbError) Unwrap() error { return e.err }

// hint says what to do about the KDC's most common refusals.
func (e *krbError) hint() string {
	msg := e.err.Error()
	switch {
	case strings.Contains(msg, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return "; the KDC knows no service " + e.spn + ": address the host by the DNS name its SPN is registered under (setspn -L HOST), or set kerberos_hostname"
	case strings.Contains(msg, "KDC_ERR_PREAUTH_FAILED"), strings.Contains(msg, "KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		return "; the user's password or keytab is wrong or stale (re-export the keytab after a password change)"
	case strings.Contains(msg, "KRB_AP_ERR_SKEW"), strings.Contains(msg, "KDC_ERR_SKEW"):
		return "; the bastion's clock is off from the KDC's: Kerberos allows 5 minutes"
	case strings.Contains(msg, "Networking_Error"), strings.Contains(msg, "failed to communicate with KDC"):
		return "; check the [realms] kdc entries in krb5.conf and that the bastion reaches the KDC on port 88"
	}
	return ""
}

// kerberos builds the Kerberos settings for h: a keytab, a credential
// cache ($KRB5CCNAME by default) or a password, in that order; the realm
// from user@REALM, kerberos_realm or krb5.conf's default_realm.
func (c *Client) kerberos(h *inventory.Host, s *settings) (*krbSettings, error) {
	confPath := c.cfg.Getenv("KRB5_CONFIG")
	if confPath == "" {
		confPath = "/etc/krb5.conf"
	}
	cfg, err := config.Load(confPath)
	if err != nil {
		return nil, fmt.Errorf("kerberos: cannot load %s (set KRB5_CONFIG): %v", confPath, transport.UnwrapPath(err))
	}
	o := s.opts
	user, realm := s.user, o.krbRealm
	if u, r, ok := strings.Cut(user, "@"); ok {
		user, realm = u, strings.ToUpper(r)
	}
	if realm == "" {
		realm = cfg.LibDefaults.DefaultRealm
	}
	// the SPN Windows registers for WinRM is HTTP/<DNS name>: an address
	// that is an IP or an alias needs kerberos_hostname
	spn := "HTTP/" + h.Address
	if o.krbHostname != "" {
		spn = "HTTP/" + o.krbHostname
	}
	key := user + "@" + realm + "|" + o.krbKeytab + "|" + o.krbCCache
	c.krbMu.Lock()
	defer c.krbMu.Unlock()
	if k, ok := c.krb[key]; ok {
		return &krbSettings{client: k.client, spn: spn, mu: k.mu}, nil
	}
	var cl *krbclient.Client
	switch ccache := c.ccachePath(o); {
	case o.krbKeytab != "":
		if user == "" || realm == "" {
			return nil, fmt.Errorf("kerberos_keytab needs user and a realm (user@REALM or kerberos_realm)")
		}
		kt, err := keytab.Load(o.krbKeytab)
		if err != nil {
			return nil, fmt.Errorf("kerberos_keytab %s: %v", o.krbKeytab, transport.UnwrapPath(err))
		}
		cl = krbclient.NewWithKeytab(user, realm, kt, cfg, krbclient.DisablePAFXFAST(true))
	case ccache != "":
		cc, err := credentials.LoadCCache(ccache)
		if err != nil {
			return nil, fmt.Errorf("kerberos credential cache %s: %v (run kinit, or give kerberos_keytab)", ccache, transport.UnwrapPath(err))
		}
		cl, err = krbclient.NewFromCCache(cc, cfg, krbclient.DisablePAFXFAST(true))
		if err != nil {
			return nil, fmt.Errorf("kerberos credential cache %s: %v", ccache, err)
		}
	default:
		pw, err := transport.Password(c.cfg.Getenv, h, EnvPassword, EnvPasswordFile)
		if err != nil {
			return nil, err
		}
		if pw == "" || user == "" || realm == "" {
			return nil, fmt.Errorf("kerberos needs a keytab (kerberos_keytab), a credential cache (KRB5CCNAME) or user@REALM with a password")
		}
		cl = krbclient.NewWithPassword(user, realm, pw, cfg, krbclient.DisablePAFXFAST(true))
	}
	k := &krbSettings{client: cl, spn: spn, mu: &sync.Mutex{}}
	if c.krb == nil {
		c.krb = map[string]*krbSettings{}
	}
	c.krb[key] = k
	return &krbSettings{client: cl, spn: spn, mu: k.mu}, nil
}

func (c *Client) ccachePath(o hostOptions) string {
	p := o.krbCCache
	if p == "" {
		p = c.cfg.Getenv("KRB5CCNAME")
	}
	p = strings.TrimPrefix(p, "FILE:")
	if strings.Contains(p, ":") {
		return "" // KEYRING:, KCM:, DIR: caches are not files gokrb5 can read
	}
	return p
}
