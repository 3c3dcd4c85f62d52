package main

import (
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/transport"
	sshtransport "github.com/whyoffline/whyoffline/internal/transport/ssh"
	"github.com/whyoffline/whyoffline/internal/transports"
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
}

func newRunSecrets(e *env, f *scanFlags) *runSecrets {
	r := &runSecrets{getenv: e.getenv, run: secret.New()}
	// an unreadable file is the transport's error to report, later
	pairs := [][2]string{{sshtransport.EnvPassphrase, sshtransport.EnvPassphraseFile}}
	for _, t := range transports.All() {
		pairs = append(pairs, [2]string{t.PasswordEnv, t.PasswordFileEnv})
	}
	for _, pair := range pairs {
		v, _ := transport.SecretFromEnv(e.getenv, pair[0], pair[1])
		r.run.Add(v)
	}
	r.run.Add(e.getenv(envAPIKey))
	if f.apiKeyFile != "" {
		if v, err := transport.ReadSecretFile(f.apiKeyFile, "--api-key-file"); err == nil {
			r.run.Add(v)
		}
	}
	return r
}

// forHost is the scrubber for h's result: the run's secrets, and the
// password h's transport logs in with (found the way the transport finds
// it, transport.Password) with its Basic user:password pair. It is called
// as each host is scanned, from many goroutines.
func (r *runSecrets) forHost(h *inventory.Host) *secret.Scrubber {
	t, _ := transports.Lookup(h.Transport)
	pw, _ := transport.Password(r.getenv, h, t.PasswordEnv, t.PasswordFileEnv)
	if pw == "" {
		return r.run
	}
	s := secret.New()
	s.Merge(r.run)
	s.AddCredential(h.User, pw)
	return s
}
