// Package vault decrypts Ansible Vault data (format 1.1 and 1.2, AES256),
// the way ansible-vault writes it, so inventories whose connection
// settings are vaulted can be read. It only decrypts: whyoffline never
// writes a vault.
//
// The format, as ansible-core's parsing/vault module defines it: a header
// line "$ANSIBLE_VAULT;1.1;AES256" (1.2 adds ";LABEL", the vault ID),
// then hex text whose decoding is three lines: hex(salt), hex(HMAC),
// hex(ciphertext). PBKDF2-HMAC-SHA256 over the password and salt, 10,000
// iterations, gives 80 bytes: the AES-256 key, the HMAC-SHA256 key and
// the CTR counter block. The HMAC covers the ciphertext; the plaintext is
// PKCS#7-padded. No Go library for it is served by the module proxy this
// project builds from, so the ~100 lines are here, checked against files
// the real ansible-vault made (testdata, and a test that runs it).
package vault

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Header starts every vaulted text.
const Header = "$ANSIBLE_VAULT;"

// MaxSize bounds a vaulted text: vars files and values are small; a
// larger one is the wrong file.
const MaxSize = 16 << 20

// ErrNoSecret: no vault password was given, so the data stays sealed.
var ErrNoSecret = errors.New("no vault password was given (pass --vault-password-file FILE or --vault-id LABEL@FILE, or set ANSIBLE_VAULT_PASSWORD_FILE)")

// ErrWrongSecret: no given password opens the data (HMAC mismatch).
var ErrWrongSecret = errors.New("none of the given vault passwords decrypts it (wrong password, or the file needs another --vault-id)")

// IsVaulted reports whether data is an Ansible Vault envelope.
func IsVaulted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(Header))
}

// secret is one vault password and the vault ID it was given for.
type secret struct {
	label    string
	password []byte
}

// Keyring holds the run's vault passwords. The zero value (or nil) holds
// none: every Decrypt fails with ErrNoSecret.
type Keyring struct {
	secrets []secret
}

// Add adds a password for label ("" or "default" for the unlabelled one).
func (k *Keyring) Add(label string, password []byte) {
	k.secrets = append(k.secrets, secret{label: label, password: password})
}

// Len is how many passwords the keyring holds.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	return len(k.secrets)
}

// Passwords returns the passwords, for a secret scrubber that must know
// every secret of the run.
func (k *Keyring) Passwords() []string {
	if k == nil {
		return nil
	}
	out := make([]string, 0, len(k.secrets))
	for _, s := range k.secrets {
		out = append(out, string(s.password))
	}
	return out
}

// AddFile reads a password file as Ansible does: the whole file, leading
// and trailing white space stripped. An executable file is a script for
// Ansible, which runs it; whyoffline never runs one, and says how to feed
// its output instead. The file must be a regular file, a pipe or a
// character device (so <(script) works), and small.
func (k *Keyring) AddFile(label, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("vault password file %s: %v", path, unwrapPath(err))
	}
	if st.IsDir() {
		return fmt.Errorf("vault password file %s is a directory", path)
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
		return fmt.Errorf("vault password file %s is executable: Ansible would run it as a script, and whyoffline runs no scripts; pass its output instead: --vault-password-file <(%s)", path, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("vault password file %s: %v", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return fmt.Errorf("vault password file %s: %v", path, err)
	}
	if len(data) > 64<<10 {
		return fmt.Errorf("vault password file %s is larger than 64 KiB: is it the right file?", path)
	}
	pw := bytes.TrimSpace(data)
	if len(pw) == 0 {
		return fmt.Errorf("vault password file %s is empty", path)
	}
	k.Add(label, pw)
	return nil
}

// AddID adds a --vault-id value: LABEL@FILE, or FILE alone. Ansible's
// "prompt" source asks at a terminal, which a sweep never has.
func (k *Keyring) AddID(id string) error {
	label, path := "default", id
	if l, p, ok := strings.Cut(id, "@"); ok {
		label, path = l, p
	}
	if path == "prompt" || path == "prompt_ask_vault_pass" {
		return fmt.Errorf("--vault-id %s: whyoffline never prompts; give a password file: --vault-id %s@FILE", id, label)
	}
	return k.AddFile(label, path)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// envelope is a parsed vaulted text.
type envelope struct {
	label      string
	salt, mac  []byte
	ciphertext []byte
}

func parse(data []byte) (envelope, error) {
	var e envelope
	if len(data) > MaxSize {
		return e, fmt.Errorf("vaulted text is larger than %d MiB", MaxSize>>20)
	}
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	sc.Buffer(make([]byte, 0, 4096), MaxSize+1)
	if !sc.Scan() {
		return e, errors.New("empty vaulted text")
	}
	head := strings.Split(strings.TrimSpace(sc.Text()), ";")
	if len(head) < 3 || head[0] != "$ANSIBLE_VAULT" {
		return e, errors.New("not an Ansible Vault header")
	}
	switch strings.TrimSpace(head[1]) {
	case "1.1", "1.2":
	default:
		return e, fmt.Errorf("vault format %q is not one whyoffline reads (1.1, 1.2)", head[1])
	}
	if c := strings.TrimSpace(head[2]); c != "AES256" {
		return e, fmt.Errorf("vault cipher %q is not one whyoffline reads (AES256)", c)
	}
	if len(head) >= 4 {
		e.label = strings.TrimSpace(head[3])
	}
	var body bytes.Buffer
	for sc.Scan() {
		body.Write(bytes.TrimSpace(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		return e, err
	}
	outer := make([]byte, hex.DecodedLen(body.Len()))
	if _, err := hex.Decode(outer, body.Bytes()); err != nil {
		return e, fmt.Errorf("vault body is not hex: %v", err)
	}
	parts := bytes.SplitN(outer, []byte("\n"), 3)
	if len(parts) != 3 {
		return e, errors.New("vault body does not hold salt, HMAC and ciphertext")
	}
	var err error
	if e.salt, err = hex.DecodeString(string(parts[0])); err != nil {
		return e, fmt.Errorf("vault salt: %v", err)
	}
	if e.mac, err = hex.DecodeString(string(parts[1])); err != nil {
		return e, fmt.Errorf("vault HMAC: %v", err)
	}
	if e.ciphertext, err = hex.DecodeString(string(parts[2])); err != nil {
		return e, fmt.Errorf("vault ciphertext: %v", err)
	}
	if len(e.ciphertext) == 0 || len(e.ciphertext)%aes.BlockSize != 0 {
		return e, errors.New("vault ciphertext is not whole AES blocks")
	}
	return e, nil
}

// Decrypt opens a vaulted text with the keyring's passwords: those given
// for its vault ID first, then the others (Ansible's default, vault IDs
// not required to match). A malformed envelope, no password, or no
// password that opens it are errors; the plaintext is never part of one.
func (k *Keyring) Decrypt(data []byte) ([]byte, error) {
	e, err := parse(data)
	if err != nil {
		return nil, err
	}
	if k.Len() == 0 {
		return nil, ErrNoSecret
	}
	order := make([]secret, 0, len(k.secrets))
	for _, s := range k.secrets {
		if e.label != "" && s.label == e.label {
			order = append(order, s)
		}
	}
	for _, s := range k.secrets {
		if e.label == "" || s.label != e.label {
			order = append(order, s)
		}
	}
	for _, s := range order {
		if out, ok := open(e, s.password); ok {
			return out, nil
		}
	}
	return nil, ErrWrongSecret
}

// open decrypts e with one password; false when the HMAC or the padding
// says it is the wrong one.
func open(e envelope, password []byte) ([]byte, bool) {
	derived, err := pbkdf2.Key(sha256.New, string(password), e.salt, 10000, 32+32+aes.BlockSize)
	if err != nil {
		return nil, false
	}
	key, macKey, iv := derived[:32], derived[32:64], derived[64:]
	m := hmac.New(sha256.New, macKey)
	m.Write(e.ciphertext)
	if !hmac.Equal(m.Sum(nil), e.mac) {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	out := make([]byte, len(e.ciphertext))
	cipher.NewCTR(block, iv).XORKeyStream(out, e.ciphertext)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return nil, false
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return out[:len(out)-pad], true
}
