package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestProxyCommandEnvironment: a ProxyCommand gets what a relay needs and
// nothing else — not whyoffline's variables, and not the variable an
// inventory's password_env names.
func TestProxyCommandEnvironment(t *testing.T) {
	env := proxyEnv([]string{"PATH=/usr/bin", "HOME=/root", "SSH_AUTH_SOCK=/tmp/agent", "LC_ALL=C", "WHYOFFLINE_SSH_PASSWORD=s3cret",
		"WINRM_PW=s3cret", "ANSIBLE_PASSWORD=s3cret", "AWS_SECRET_ACCESS_KEY=s3cret", "https_proxy=http://proxy:3128"})
	joined := strings.Join(env, "\n")
	if strings.Contains(joined, "s3cret") {
		t.Errorf("a secret reached the ProxyCommand: %v", env)
	}
	for _, want := range []string{"PATH=/usr/bin", "SSH_AUTH_SOCK=/tmp/agent", "LC_ALL=C", "https_proxy=http://proxy:3128"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%s is missing: %v", want, env)
		}
	}
}

// TestSSHConfigIsAFileNotAStream: a FIFO as ssh_config is refused at once
// (it would hang the run), and so is a line no OpenSSH setting is as long
// as (the parser's slow path).
func TestSSHConfigIsAFileNotAStream(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := NewResolver(fifo, "u"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, []byte("Host x\n  User "+strings.Repeat("a", 1<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewResolver(long, "u"); err == nil || !strings.Contains(err.Error(), "long:2:") {
		t.Errorf("a 1 MiB line: %v", err)
	}
}
