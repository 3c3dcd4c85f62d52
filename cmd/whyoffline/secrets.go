package main

import (
	"sync"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/transport"
	sshtransport "github.com/whyoffline/whyoffline/internal/transport/ssh"
	winrmtransport "github.com/whyoffline/whyoffline/internal/transport/winrm"
)

// runSecrets knows every secret a scan holds, so that no result, report,
// history file, log line or --save-raw file shows one, whatever a host or
// an endpoint echoes: the run's own (the manager API key, the
// environment's passwords and passphrase) for every host, and a host's
// password (inline — a vault-decrypted ansible_password lands there —,
// from password_env or from password_file) for that host only, which
// keeps the search short on a fleet where every host has its own.
type runSecrets struct {
	getenv func(string) string
	run    *secret.Scrubber
	// the run-wide passwords each transport falls back to, which also
	// travel as a host's user:password in HTTP Basic
	sshPassword, winrmPassword string

	mu    sync.Mutex
	files map[string]string // password_file contents, read once per path
}

func newRunSecrets(e *env, f *scanFlags) *runSecrets {
	r := &runSecrets{getenv: e.getenv, run: secret.New(), files: map[string]string{}}
	// an unreadable file is the transport's error to report, later
	r.sshPassword, _ = transport.SecretFromEnv(e.getenv, sshtransport.EnvPassword, sshtransport.EnvPasswordFile)
	r.winrmPassword, _ = transport.SecretFromEnv(e.getenv, winrmtransport.EnvPassword, winrmtransport.EnvPasswordFile)
	passphrase, _ := transport.SecretFromEnv(e.getenv, sshtransport.EnvPassphrase, sshtransport.EnvPassphraseFile)
	r.run.Add(e.getenv(envAPIKey))
	r.run.Add(passphrase)
	r.run.Add(r.sshPassword)
	r.run.Add(r.winrmPassword)
	if f.apiKeyFile != "" {
		if v, err := transport.ReadSecretFile(f.apiKeyFile, "--api-key-file"); err == nil {
			r.run.Add(v)
		}
	}
	return r
}

// forHost is the scrubber for h's result. It is called as each host is
// scanned, from many goroutines.
func (r *runSecrets) forHost(h *inventory.Host) *secret.Scrubber {
	pw := r.hostPassword(h)
	if pw == "" {
		// the run's passwords still travel as this user's Basic pair
		pw = r.fallbackPassword(h)
	}
	if pw == "" && r.run.Empty() {
		return r.run
	}
	s := secret.New()
	s.Merge(r.run)
	s.AddCredential(h.User, pw)
	return s
}

func (r *runSecrets) hostPassword(h *inventory.Host) string {
	switch {
	case h.PasswordEnv != "":
		return r.getenv(h.PasswordEnv)
	case h.PasswordFile != "":
		r.mu.Lock()
		defer r.mu.Unlock()
		v, seen := r.files[h.PasswordFile]
		if !seen {
			v, _ = transport.ReadSecretFile(h.PasswordFile, "password_file")
			r.files[h.PasswordFile] = v
		}
		return v
	case h.Password.IsSet():
		return h.Password.Reveal()
	}
	return ""
}

// fallbackPassword is the run-wide password h's transport would use.
func (r *runSecrets) fallbackPassword(h *inventory.Host) string {
	if h.Transport == inventory.WinRM {
		return r.winrmPassword
	}
	return r.sshPassword
}
