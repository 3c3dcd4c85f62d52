package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/transport"
)

// TestInventoryShowsWhatScanDials: for every example inventory (and the
// Ansible WinRM spellings that once disagreed, ansible_winrm_transport=ssl
// among them), the endpoints `whyoffline inventory` prints are exactly the
// addresses `whyoffline scan` dials. The scan's dialer is replaced by one
// that records the address and refuses, so nothing leaves this process.
func TestInventoryShowsWhatScanDials(t *testing.T) {
	home := t.TempDir()
	for _, k := range []string{"prod_ed25519", "whyoffline_ed25519"} {
		writeKey(t, filepath.Join(home, ".ssh", k))
	}
	winrm := filepath.Join(t.TempDir(), "winrm.ini")
	if err := os.WriteFile(winrm, []byte(`[win]
ssl-default ansible_host=127.0.0.1 ansible_connection=winrm ansible_winrm_transport=ssl
ntlm-default ansible_host=127.0.0.2 ansible_connection=winrm ansible_winrm_transport=ntlm
https-scheme ansible_host=127.0.0.3 ansible_connection=winrm ansible_winrm_scheme=https
port-5986 ansible_host=127.0.0.4 ansible_connection=winrm ansible_port=5986
odd-port ansible_host=127.0.0.5 ansible_connection=winrm ansible_port=15985 ansible_winrm_scheme=https
[win:vars]
ansible_user=scan
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// ssh_config fills what the inventory leaves unset, for both commands
	plain := filepath.Join(t.TempDir(), "plain.txt")
	sshcfg := filepath.Join(t.TempDir(), "ssh_config")
	for path, text := range map[string]string{
		plain:  "cfg-host\nexplicit-port:2200\n",
		sshcfg: "Host cfg-host explicit-port\n  HostName 127.0.0.9\n  Port 2022\n  User cfguser\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"HOME": home, "USER": "tester", "LEGACY_APP_PW": "x", "WHYOFFLINE_WINRM_PASSWORD": "x"}
	for _, c := range []struct{ inv, sshConfig string }{
		{"../../inventory/example.yaml", "none"}, {"../../inventory/ansible-hosts.ini", "none"},
		{"../../inventory/offline.txt", "none"}, {winrm, "none"}, {plain, sshcfg},
	} {
		inv := c.inv
		t.Run(filepath.Base(inv), func(t *testing.T) {
			out := runCLI(t, "", vars, "inventory", "-i", inv, "-o", "json", "--ssh-config", c.sshConfig)
			if out.code != 0 {
				t.Fatalf("inventory: exit %d: %s", out.code, out.stderr)
			}
			var rows []struct {
				Name     string             `json:"name"`
				Endpoint transport.Endpoint `json:"endpoint"`
			}
			if err := json.Unmarshal([]byte(out.stdout), &rows); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range rows {
				e := r.Endpoint
				if e.Via != "" {
					// a host behind a jump host is reached through it: the
					// scan dials the jump host, on SSH's port
					jump := e.Via[strings.LastIndex(e.Via, "@")+1:]
					want = append(want, net.JoinHostPort(jump, "22"))
					continue
				}
				want = append(want, net.JoinHostPort(e.Address, strconv.Itoa(e.Port)))
			}
			got := scanDials(t, vars, inv, c.sshConfig)
			sort.Strings(want)
			want = dedupe(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("scan dialed\n  %v\ninventory printed\n  %v", got, want)
			}
		})
	}
	// the case that once disagreed: Ansible's "ssl" is Basic over HTTPS on 5986
	out := runCLI(t, "", vars, "inventory", "-i", winrm, "-l", "ssl-default", "--ssh-config", "none")
	if !strings.Contains(out.stdout, "5986") || !strings.Contains(out.stdout, "winrm https/basic") {
		t.Errorf("ansible_winrm_transport=ssl shows:\n%s", out.stdout)
	}
}

// scanDials runs a scan whose every TCP dial is recorded and refused.
func scanDials(t *testing.T, vars map[string]string, inv, sshConfig string) []string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] },
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			seen[addr] = true
			mu.Unlock()
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// the manager is a closed loopback port: the bastion's own probe of it
	// must not resolve or reach the examples' made-up names
	code := run(ctx, e, []string{"scan", "-i", inv, "--manager", "127.0.0.1:1", "--ssh-config", sshConfig,
		"--known-hosts", filepath.Join(t.TempDir(), "kh"), "-o", "json", "--connect-timeout", "2s"})
	if code != 1 {
		t.Fatalf("scan exit %d, want 1 (every host refused): %s", code, errb.String())
	}
	var got []string
	for a := range seen {
		got = append(got, a)
	}
	sort.Strings(got)
	return got
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func writeKey(t *testing.T, path string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPlaybooksShowScript: every playbook's exact script can be printed,
// the PowerShell one with its fixed -EncodedCommand bootstrap.
func TestPlaybooksShowScript(t *testing.T) {
	for os, want := range map[string]string{
		"linux": "exec /bin/sh -c", "solaris": "WO_TCP_TOOLS='perl nc bash'", "aix": "WO_DNS_TOOLS='host nslookup'",
		"windows": "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ",
	} {
		out := runCLI(t, "", nil, "playbooks", "show", os, "--script")
		if out.code != 0 || !strings.Contains(out.stdout, want) || !strings.Contains(out.stdout, "whyoffline-frame: ") {
			t.Errorf("playbooks show %s --script: exit %d, stdout lacks %q: %.300s %s", os, out.code, want, out.stdout, out.stderr)
		}
	}
}
