package winrm

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// settings are one host's resolved WinRM settings.
type settings struct {
	addr     string // host:port
	url      string
	https    bool
	auth     string // ntlm | basic | kerberos
	user     string
	password string
	tls      *tls.Config
	krb      *krbSettings
	opts     hostOptions
}

// Preflight checks every WinRM host's settings before anything is
// scanned: bad input is reported once, as a usage error, not per host.
func (c *Client) Preflight(hosts []*inventory.Host) error {
	for _, h := range hosts {
		if h.Transport != inventory.WinRM {
			continue
		}
		if _, err := c.settings(h); err != nil {
			return fmt.Errorf("%s (%s): %v", h.Name, h.Source, err)
		}
	}
	return nil
}

// InsecureHosts names the hosts whose certificate will not be verified.
func InsecureHosts(hosts []*inventory.Host) []string {
	var out []string
	for _, h := range hosts {
		if o, _ := optionsOf(h); h.Transport == inventory.WinRM && o.insecure {
			out = append(out, h.Name)
		}
	}
	return out
}

// Default ports of WS-Management.
const (
	HTTPPort  = 5985
	HTTPSPort = 5986
)

// Endpoint is what the scan dials for h: scheme, port and auth derived
// from winrm_scheme, winrm_transport and port the way the scan uses them.
// Ansible's "ssl" transport is Basic over HTTPS; an explicit port 5986
// without a scheme means HTTPS. Basic over plain HTTP is refused: it would
// send the password in clear text.
func Endpoint(h *inventory.Host, defaultUser string) (transport.Endpoint, error) {
	o, err := optionsOf(h)
	if err != nil {
		return transport.Endpoint{}, err
	}
	return endpoint(h, o, defaultUser)
}

// endpoint is Endpoint with h's options already read.
func endpoint(h *inventory.Host, o hostOptions, defaultUser string) (transport.Endpoint, error) {
	https, auth := o.scheme == "https", o.transport
	switch auth {
	case "", "ntlm":
		auth = "ntlm"
	case "ssl":
		auth, https = "basic", true
	case "plaintext":
		auth = "basic"
	}
	if h.Port == HTTPSPort && o.scheme == "" {
		https = true
	}
	port := h.Port
	if port <= 0 {
		port = HTTPPort
		if https {
			port = HTTPSPort
		}
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	user := h.User
	if user == "" {
		user = defaultUser
	}
	e := transport.Endpoint{Transport: inventory.WinRM, Address: h.Address, Port: port, Scheme: scheme, Auth: auth, User: user}
	if auth == "basic" && !https {
		return e, fmt.Errorf("winrm_transport basic over http would send the password in clear text: use winrm_scheme https (port 5986) or ntlm/kerberos")
	}
	return e, nil
}

func (c *Client) settings(h *inventory.Host) (*settings, error) {
	o, err := optionsOf(h)
	if err != nil {
		return nil, err
	}
	e, err := endpoint(h, o, c.cfg.DefaultUser)
	if err != nil {
		return nil, err
	}
	s := &settings{https: e.Scheme == "https", auth: e.Auth, user: e.User, opts: o}
	s.addr = net.JoinHostPort(e.Address, strconv.Itoa(e.Port))
	s.url = e.Scheme + "://" + s.addr + "/wsman"
	if s.https {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := s.opts.caFile; ca != "" {
			pem, err := safefile.Read(ca, 4<<20)
			if err != nil {
				return nil, fmt.Errorf("ca_file: cannot read %s: %v", ca, transport.UnwrapPath(err))
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s holds no PEM certificate", ca)
			}
			cfg.RootCAs = pool
		}
		if net.ParseIP(h.Address) == nil {
			cfg.ServerName = h.Address
		}
		cfg.InsecureSkipVerify = s.opts.insecure
		s.tls = cfg
	}
	if s.auth == "kerberos" {
		k, err := c.kerberos(h, s)
		if err != nil {
			return nil, err
		}
		s.krb = k
		return s, nil
	}
	pw, err := transport.Password(c.cfg.Getenv, h, EnvPassword, EnvPasswordFile)
	if err != nil {
		return nil, err
	}
	if pw == "" {
		return nil, fmt.Errorf("no WinRM password: set password_env or password_file on the host, or %s / %s", EnvPassword, EnvPasswordFile)
	}
	if s.user == "" {
		return nil, fmt.Errorf("no WinRM user: set user (ansible_user) on the host")
	}
	s.password = pw
	return s, nil
}
