package vault

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func keyring(t *testing.T, ids ...string) *Keyring {
	t.Helper()
	k := &Keyring{}
	for _, id := range ids {
		if err := k.AddID(id); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFixtures decrypts files the real ansible-vault made (testdata/README.md).
func TestFixtures(t *testing.T) {
	plain := readFile(t, "plain.yml")
	var str struct {
		V yaml.Node `yaml:"ansible_password"`
	}
	if err := yaml.Unmarshal(readFile(t, "string.yml"), &str); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		ids  []string
		want []byte
		err  error
	}{
		{"1.1 whole file", readFile(t, "v11.yml"), []string{"testdata/password"}, plain, nil},
		{"1.2 labelled, its label's password", readFile(t, "v12-prod.yml"), []string{"testdata/password", "prod@testdata/password-prod"}, plain, nil},
		{"1.2 labelled, password given unlabelled", readFile(t, "v12-prod.yml"), []string{"testdata/password-prod"}, plain, nil},
		{"encrypt_string value", []byte(str.V.Value), []string{"testdata/password"}, []byte("Wint3r!"), nil},
		{"wrong password", readFile(t, "v11.yml"), []string{"testdata/password-prod"}, nil, ErrWrongSecret},
		{"no password", readFile(t, "v11.yml"), nil, nil, ErrNoSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !IsVaulted(c.data) {
				t.Fatal("not recognised as vaulted")
			}
			got, err := keyring(t, c.ids...).Decrypt(c.data)
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestAgainstAnsibleVault encrypts fresh text with the real ansible-vault,
// every padding length, and decrypts it here.
func TestAgainstAnsibleVault(t *testing.T) {
	if _, err := exec.LookPath("ansible-vault"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-vault is missing: CI must check the vault reader against it (make unit-deps installs ansible-core)")
		}
		t.Skip("ansible-vault not installed")
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("  spaced pass\t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := keyring(t, "lab@"+pw)
	for _, n := range []int{0, 1, 15, 16, 17, 100} {
		plain := strings.Repeat("x", n) + "é"
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(plain), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ansible-vault", "encrypt", "--vault-id", "lab@"+pw, f)
		cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+dir, "ANSIBLE_LOCAL_TEMP="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ansible-vault: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(f)
		got, err := k.Decrypt(data)
		if err != nil || string(got) != plain {
			t.Fatalf("%d bytes: got %q, %v", n, got, err)
		}
	}
}

func TestPasswordFiles(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho pw\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	for _, c := range []struct{ id, want string }{
		{script, "is executable"},
		{empty, "is empty"},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing"), "no such file"},
		{"x@prompt", "never prompts"},
	} {
		err := (&Keyring{}).AddID(c.id)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.id, err, c.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	k := keyring(t, "testdata/password")
	for _, in := range []string{
		"$ANSIBLE_VAULT;1.1;AES256\nzz\n",
		"$ANSIBLE_VAULT;1.0;AES\n00\n",
		"$ANSIBLE_VAULT;1.1;AES256\n6162\n",
		"$ANSIBLE_VAULT;1.1;AES256\n",
	} {
		if _, err := k.Decrypt([]byte(in)); err == nil || errors.Is(err, ErrWrongSecret) {
			t.Errorf("%q: %v, want a format error", in, err)
		}
	}
}
