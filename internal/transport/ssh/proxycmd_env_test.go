package ssh

import (
	"strings"
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
