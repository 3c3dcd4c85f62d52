package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/whyoffline/whyoffline/internal/inventory"
)

// maxSecretFile bounds a password or passphrase file.
const maxSecretFile = 4096

// SecretFromEnv reads a secret from env var name, or from the file named by
// fileVar. Neither value is ever included in an error.
func SecretFromEnv(getenv func(string) string, name, fileVar string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	if p := getenv(fileVar); p != "" {
		return ReadSecretFile(p, fileVar)
	}
	return "", nil
}

// ReadSecretFile reads a small file that holds only a secret.
func ReadSecretFile(path, what string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: cannot read %s: %v", what, path, UnwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: cannot read %s: %v", what, path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s: %s is larger than %d bytes; it should hold only the secret", what, path, maxSecretFile)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// UnwrapPath drops the path from an *os.PathError (the caller names it).
func UnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Password returns the password for h: the host's password_env or
// password_file, its inventory password, or the run-wide environment
// variable envName (or the file named by envFile).
func Password(getenv func(string) string, h *inventory.Host, envName, envFile string) (string, error) {
	switch {
	case h.PasswordEnv != "":
		v := getenv(h.PasswordEnv)
		if v == "" {
			return "", fmt.Errorf("password_env %s is not set in the environment", h.PasswordEnv)
		}
		return v, nil
	case h.PasswordFile != "":
		return ReadSecretFile(h.PasswordFile, "password_file")
	case h.Password.IsSet():
		return h.Password.Reveal(), nil
	}
	return SecretFromEnv(getenv, envName, envFile)
}
