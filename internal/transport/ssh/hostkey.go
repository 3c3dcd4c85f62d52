package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
	xssh "golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Host-key policies.
const (
	Strict    = "strict"
	AcceptNew = "accept-new"
)

// hostKeys verifies host keys against known_hosts files read once per run.
// With accept-new, a host never seen before has its key appended to the
// first file (and trusted from then on); a changed key is always refused.
type hostKeys struct {
	policy string
	files  []string
	db     *knownhosts.HostKeyDB // nil when no file exists yet
	// index maps a normalised host to its keys when every known_hosts line
	// is a plain one (no markers, hashes, wildcards or negations). The
	// general matcher tries every line for every host — quadratic in a
	// sweep of a 10,000-line known_hosts; the index makes it a map lookup.
	index map[string][]xssh.PublicKey

	mu       sync.Mutex // serialises appends and the accepted map
	accepted map[string]xssh.PublicKey
}

func newHostKeys(files []string, policy string) (*hostKeys, error) {
	switch policy {
	case Strict, AcceptNew:
	default:
		return nil, fmt.Errorf("--host-key-policy %q: use strict or accept-new", policy)
	}
	hk := &hostKeys{policy: policy, files: files, accepted: map[string]xssh.PublicKey{}}
	var existing []string
	for _, f := range files {
		st, err := os.Stat(f)
		switch {
		case err == nil && st.IsDir():
			return nil, fmt.Errorf("known_hosts file %s is a directory", f)
		case err == nil:
			existing = append(existing, f)
		case errors.Is(err, os.ErrNotExist):
			// a missing file is an empty one: every host is unknown
		default:
			return nil, fmt.Errorf("known_hosts file %s: %v", f, err)
		}
	}
	if len(existing) > 0 {
		// the index alone when every line is plain: the general matcher
		// would hold every line a second time (at 100,000 hosts, tens of
		// MiB) for nothing
		if hk.index = plainIndex(existing); hk.index != nil {
			return hk, nil
		}
		db, err := knownhosts.NewDB(existing...)
		if err != nil {
			return nil, fmt.Errorf("cannot read known_hosts: %v (fix or remove the bad line)", err)
		}
		hk.db = db
	}
	return hk, nil
}

// plainIndex indexes known_hosts files made only of plain lines; nil when
// any line needs the general matcher (or cannot be read).
func plainIndex(files []string) map[string][]xssh.PublicKey {
	idx := map[string][]xssh.PublicKey{}
	for _, f := range files {
		data, err := safefile.Read(f, 1<<30)
		if err != nil {
			return nil // the general matcher reports it
		}
		for len(data) > 0 {
			marker, hosts, key, _, rest, err := xssh.ParseKnownHosts(data)
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil
			}
			data = rest
			if marker != "" {
				return nil
			}
			for _, h := range hosts {
				if h == "" || strings.ContainsAny(h, "*?!|") {
					return nil
				}
				n := knownhosts.Normalize(h)
				idx[n] = append(idx[n], key)
			}
		}
	}
	return idx
}

// check verifies key for hostname through the index, with the same errors
// the general matcher gives (unknown: a KeyError with no Want; changed: a
// KeyError listing the known keys).
func (hk *hostKeys) check(hostname string, key xssh.PublicKey) error {
	known := hk.index[knownhosts.Normalize(hostname)]
	if len(known) == 0 {
		return &xknownhosts.KeyError{}
	}
	want := make([]xknownhosts.KnownKey, 0, len(known))
	for _, k := range known {
		if k.Type() == key.Type() && bytes.Equal(k.Marshal(), key.Marshal()) {
			return nil
		}
		want = append(want, xknownhosts.KnownKey{Key: k})
	}
	return &xknownhosts.KeyError{Want: want}
}

// algorithms returns the host-key algorithms to offer for addr: the types of
// the keys already known for it, so a server that prefers ed25519 while
// known_hosts holds its RSA key is verified rather than called "changed".
func (hk *hostKeys) algorithms(addr string, legacy bool) []string {
	var known []string
	switch {
	case hk.index != nil:
		for _, k := range hk.index[knownhosts.Normalize(addr)] {
			if k.Type() == xssh.KeyAlgoRSA {
				// RSA keys verify with the SHA-2 signature algorithms too
				known = append(known, xssh.KeyAlgoRSASHA512, xssh.KeyAlgoRSASHA256)
			}
			known = append(known, k.Type())
		}
	case hk.db != nil:
		known = hk.db.HostKeyAlgorithms(addr)
	}
	allowed := map[string]bool{}
	for _, a := range xssh.SupportedAlgorithms().HostKeys {
		allowed[a] = true
	}
	if legacy {
		for _, a := range xssh.InsecureAlgorithms().HostKeys {
			allowed[a] = true
		}
	}
	var out []string
	for _, a := range known {
		if allowed[a] {
			out = append(out, a)
		}
	}
	if len(out) > 0 {
		return out
	}
	out = append(out, xssh.SupportedAlgorithms().HostKeys...)
	if legacy {
		out = append(out, xssh.InsecureAlgorithms().HostKeys...)
	}
	return out
}

// callback returns the verifier for one connection; *failure receives the
// kind when it refuses, so the caller can classify the handshake error no
// matter how the ssh package wraps it.
func (hk *hostKeys) callback(failure *result.ErrorKind) xssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key xssh.PublicKey) error {
		var err error
		switch {
		case hk.index != nil:
			err = hk.check(hostname, key)
		case hk.db != nil:
			err = hk.db.HostKeyCallback()(hostname, remote, key)
		default:
			err = &knownhostsUnknown{}
		}
		if err == nil {
			return nil
		}
		if cert, ok := key.(*xssh.Certificate); ok && !knownhosts.IsHostUnknown(err) {
			*failure = result.CertificateInvalid
			return transport.Errorf(result.CertificateInvalid, err, "%s", hostCertProblem(hostname, cert, err))
		}
		switch {
		case knownhosts.IsHostKeyChanged(err):
			*failure = result.HostKeyMismatch
			return transport.Errorf(result.HostKeyMismatch, err,
				"host key for %s does not match known_hosts (%s %s): the host was reinstalled or someone is intercepting; verify it out of band, then replace its line in %s",
				hostname, key.Type(), xssh.FingerprintSHA256(key), hk.primaryFile())
		case knownhosts.IsHostUnknown(err) || isUnknown(err):
			if hk.policy == AcceptNew {
				if aerr := hk.accept(hostname, remote, key); aerr != nil {
					*failure = result.HostKeyUnknown
					return aerr
				}
				return nil
			}
			*failure = result.HostKeyUnknown
			return transport.Errorf(result.HostKeyUnknown, err,
				"host key for %s is not in known_hosts (%s %s): compare that fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console), then add it: %s; or scan once with --host-key-policy accept-new",
				hostname, key.Type(), xssh.FingerprintSHA256(key), keyscanLine(hostname, hk.primaryFile()))
		}
		*failure = result.HostKeyMismatch
		return transport.Errorf(result.HostKeyMismatch, err, "host key for %s rejected: %v", hostname, err)
	}
}

// accept records a first-seen key. A second connection to the same host in
// the same run must present the same key.
func (hk *hostKeys) accept(hostname string, remote net.Addr, key xssh.PublicKey) error {
	hk.mu.Lock()
	defer hk.mu.Unlock()
	norm := knownhosts.Normalize(hostname)
	if prev, ok := hk.accepted[norm]; ok {
		if string(prev.Marshal()) == string(key.Marshal()) {
			return nil
		}
		return transport.Errorf(result.HostKeyMismatch, nil, "host %s presented two different keys in one run; refusing both", hostname)
	}
	file := hk.primaryFile()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return transport.Errorf(result.HostKeyUnknown, err, "cannot record host key for %s: %v", hostname, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return transport.Errorf(result.HostKeyUnknown, err, "cannot record host key for %s in %s: %v", hostname, file, err)
	}
	line := knownhosts.Line([]string{norm}, key) + "\n"
	_, werr := f.WriteString(line)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		return transport.Errorf(result.HostKeyUnknown, errors.Join(werr, cerr), "cannot record host key for %s in %s", hostname, file)
	}
	hk.accepted[norm] = key
	return nil
}

func (hk *hostKeys) primaryFile() string {
	if len(hk.files) == 0 {
		return "~/.ssh/known_hosts"
	}
	return hk.files[0]
}

type knownhostsUnknown struct{}

func (*knownhostsUnknown) Error() string { return "no known_hosts file" }

func isUnknown(err error) bool {
	var u *knownhostsUnknown
	return errors.As(err, &u)
}

// hostCertProblem says what is wrong with a host certificate known_hosts
// would not take (@cert-authority), and what to renew.
func hostCertProblem(hostname string, cert *xssh.Certificate, err error) string {
	host, _, splitErr := net.SplitHostPort(hostname)
	if splitErr != nil {
		host = hostname
	}
	now := time.Now()
	day := func(sec uint64) string {
		if sec == xssh.CertTimeInfinity || sec > math.MaxInt64 {
			return "forever"
		}
		return time.Unix(int64(sec), 0).UTC().Format("2006-01-02 15:04 MST")
	}
	id := fmt.Sprintf("the host certificate of %s (id %q, serial %d)", hostname, textsafe.Line(cert.KeyId, 80), cert.Serial)
	msg := err.Error()
	switch {
	case strings.Contains(msg, "revoked"):
		return id + " is marked @revoked in known_hosts: issue the host a new certificate (ssh-keygen -s CA -h -I ID -n NAMES host_key.pub) and install it as its HostCertificate"
	case cert.ValidBefore != xssh.CertTimeInfinity && uint64(now.Unix()) >= cert.ValidBefore:
		return fmt.Sprintf("%s expired on %s: renew it (ssh-keygen -s CA -h -I ID -n NAMES -V +52w host_key.pub) and install it as the host's HostCertificate", id, day(cert.ValidBefore))
	case uint64(now.Unix()) < cert.ValidAfter:
		return fmt.Sprintf("%s is not valid before %s: check the clocks of the host, the CA and this bastion, or re-sign it with a validity that has begun", id, day(cert.ValidAfter))
	case len(cert.ValidPrincipals) > 0 && !containsFold(cert.ValidPrincipals, host):
		return fmt.Sprintf("%s names %s, not %s (the name or address the scan uses): re-sign it with -n including %s, or scan the host by a name it holds",
			id, textsafe.Line(strings.Join(cert.ValidPrincipals, ", "), 200), host, host)
	case strings.Contains(msg, "no authorities") || strings.Contains(msg, "unrecognized authority") || strings.Contains(msg, "not signed by"):
		return fmt.Sprintf("%s is signed by a CA (%s) that known_hosts does not trust for %s: add its @cert-authority line, or give the host a certificate from the CA you trust", id, xssh.FingerprintSHA256(cert.SignatureKey), host)
	}
	return fmt.Sprintf("%s was refused: %s", id, textsafe.Line(msg, 200))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// keyscanLine is the command that adds a host's key to file.
func keyscanLine(hostname, file string) string {
	host, port, err := net.SplitHostPort(hostname)
	if err != nil {
		host, port = hostname, "22"
	}
	if strings.ContainsAny(file, " \t'\"$`\\;&|<>(){}*?") {
		file = "'" + strings.ReplaceAll(file, "'", `'\''`) + "'"
	}
	if port == "22" {
		return fmt.Sprintf("ssh-keyscan %s >> %s", host, file)
	}
	return fmt.Sprintf("ssh-keyscan -p %s %s >> %s", port, host, file)
}
