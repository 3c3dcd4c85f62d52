package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Environment variables that carry secrets. Secrets are never taken from
// flags (they would show in ps).
const (
	EnvPassphrase     = "WHYOFFLINE_KEY_PASSPHRASE"
	EnvPassphraseFile = "WHYOFFLINE_KEY_PASSPHRASE_FILE"
	EnvPassword       = "WHYOFFLINE_SSH_PASSWORD"
	EnvPasswordFile   = "WHYOFFLINE_SSH_PASSWORD_FILE"
)

// maxKeyFile bounds a private key or certificate file (an RSA 16384-bit
// key is under 13 KiB).
const maxKeyFile = 1 << 20

// KeyError is an unusable private key named in the inventory or on the
// command line: bad input, reported before anything is scanned.
type KeyError struct {
	Path string
	Msg  string
}

func (e *KeyError) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Msg) }

// keyring loads each private key once per run, however many hosts use it.
type keyring struct {
	getenv func(string) string
	home   string

	mu   sync.Mutex
	keys map[string]keyEntry
}

type keyEntry struct {
	signer xssh.Signer
	err    error
}

func newKeyring(getenv func(string) string, home string) *keyring {
	return &keyring{getenv: getenv, home: home, keys: map[string]keyEntry{}}
}

func (k *keyring) expand(path string) string {
	if path == "~" {
		return k.home
	}
	if strings.HasPrefix(path, "~/") {
		return filepath.Join(k.home, path[2:])
	}
	return path
}

// load returns the signer for path, parsing it on first use.
func (k *keyring) load(path string) (xssh.Signer, error) {
	path = k.expand(path)
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.keys[path]; ok {
		return e.signer, e.err
	}
	s, err := k.parse(path)
	k.keys[path] = keyEntry{s, err}
	return s, err
}

func (k *keyring) parse(path string) (xssh.Signer, error) {
	// a regular file only: a FIFO named as a key would hold this
	// host's connection past its deadline, a device fill memory
	pem, err := safefile.Read(path, maxKeyFile)
	if err != nil {
		return nil, &KeyError{path, fmt.Sprintf("cannot read private key: %v", unwrapPath(err))}
	}
	s, err := xssh.ParsePrivateKey(pem)
	var missing *xssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pass, perr := transport.SecretFromEnv(k.getenv, EnvPassphrase, EnvPassphraseFile)
		if perr != nil {
			return nil, &KeyError{path, perr.Error()}
		}
		if pass == "" {
			return nil, &KeyError{path, fmt.Sprintf("private key is encrypted: set %s (or %s to a file holding the passphrase), or load the key into ssh-agent", EnvPassphrase, EnvPassphraseFile)}
		}
		s, err = xssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
		if err != nil {
			return nil, &KeyError{path, "cannot decrypt private key with the passphrase given in " + EnvPassphrase + " (wrong passphrase?)"}
		}
	}
	if err != nil {
		return nil, &KeyError{path, fmt.Sprintf("not a usable private key (%v): give an OpenSSH, PEM or PKCS#8 private key", err)}
	}
	return s, nil
}

// certificates are the user certificates to present: <key>-cert.pub next
// to each key file (as ssh(1) finds them) and the CertificateFiles named.
// A named file that is not a user certificate is bad input.
func (k *keyring) certificates(keyFiles, certFiles []string) ([]*xssh.Certificate, error) {
	var out []*xssh.Certificate
	seen := map[string]bool{}
	read := func(path string, named bool) error {
		path = k.expand(path)
		if seen[path] {
			return nil
		}
		seen[path] = true
		b, err := safefile.Read(path, maxKeyFile)
		if err != nil {
			if !named && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return &KeyError{path, fmt.Sprintf("cannot read certificate: %v", unwrapPath(err))}
		}
		pub, _, _, _, err := xssh.ParseAuthorizedKey(b)
		cert, ok := pub.(*xssh.Certificate)
		if err != nil || !ok || cert.CertType != xssh.UserCert {
			return &KeyError{path, "not an OpenSSH user certificate (ssh-keygen -s CA -I ID -n USER key.pub makes one)"}
		}
		out = append(out, cert)
		return nil
	}
	for _, kf := range keyFiles {
		if err := read(kf+"-cert.pub", false); err != nil {
			return nil, err
		}
	}
	for _, cf := range certFiles {
		if err := read(cf, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// defaultKeys are tried, like ssh(1) does, when a host names no key; an
// unusable default key is skipped rather than fatal.
var defaultKeys = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}

func (k *keyring) defaults() []xssh.Signer {
	var out []xssh.Signer
	for _, p := range defaultKeys {
		if _, err := os.Stat(k.expand(p)); err != nil {
			continue
		}
		if s, err := k.load(p); err == nil {
			out = append(out, s)
		}
	}
	return out
}

func unwrapPath(err error) error { return transport.UnwrapPath(err) }

// password returns the password for h (see transport.Password).
func password(getenv func(string) string, h *inventory.Host) (string, error) {
	return transport.Password(getenv, h, EnvPassword, EnvPasswordFile)
}

// agentSigners connects to ssh-agent when SSH_AUTH_SOCK is set. The
// connection is shared by every host in the run.
type agentConn struct {
	once    sync.Once
	sock    string
	signers []xssh.Signer
}

func (a *agentConn) get() []xssh.Signer {
	a.once.Do(func() {
		if a.sock == "" {
			return
		}
		conn, err := net.Dial("unix", a.sock)
		if err != nil {
			return
		}
		signers, err := agent.NewClient(conn).Signers()
		if err != nil {
			conn.Close()
			return
		}
		// the agent connection stays open: signing needs it for the run.
		a.signers = signers
	})
	return a.signers
}

// authMethods builds the methods for h in the order ssh(1) tries them: the
// host's own keys (each with its certificate first: <key>-cert.pub next
// to it, or ssh_config's CertificateFile), agent keys unless
// IdentitiesOnly, default keys, then password and keyboard-interactive
// (PAM-only hosts) when a password is available.
func (c *Client) authMethods(h *inventory.Host, t target) ([]xssh.AuthMethod, error) {
	var own []xssh.Signer
	for _, kf := range t.keyFiles {
		s, err := c.keys.load(kf)
		if err != nil {
			return nil, err
		}
		own = append(own, s)
	}
	agentKeys := c.agent.get()
	if t.identitiesOnly && len(t.keyFiles) > 0 {
		agentKeys = nil
	}
	if len(t.keyFiles) == 0 {
		own = append(own, c.keys.defaults()...)
	}
	var signers []xssh.Signer
	certs, err := c.keys.certificates(t.keyFiles, t.certFiles)
	if err != nil {
		return nil, err
	}
	for _, cert := range certs {
		// a certificate goes with the key it certifies, from a file or the agent
		for _, s := range append(append([]xssh.Signer{}, own...), agentKeys...) {
			if bytes.Equal(s.PublicKey().Marshal(), cert.Key.Marshal()) {
				if cs, err := xssh.NewCertSigner(cert, s); err == nil {
					signers = append(signers, cs)
				}
				break
			}
		}
	}
	signers = append(append(signers, own...), agentKeys...)
	var methods []xssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, xssh.PublicKeys(signers...))
	}
	pw, err := password(c.cfg.Getenv, h)
	if err != nil {
		return nil, err
	}
	if pw != "" {
		methods = append(methods, xssh.Password(pw), xssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i, q := range questions {
				// Answer only what looks like a password prompt; never send
				// the password in reply to anything else.
				if !echos[i] && strings.Contains(strings.ToLower(q), "password") {
					answers[i] = pw
				}
			}
			return answers, nil
		}))
	}
	return methods, nil
}
