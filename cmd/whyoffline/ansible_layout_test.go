package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// ansibleProject writes an Ansible project for the simulated fleet's
// first host: the INI inventory names only the address, group_vars/ and
// host_vars/ carry the port, user and key, as real projects keep them.
func ansibleProject(t *testing.T) (dir, kh string) {
	t.Helper()
	f, _, kh := startFleet(t, []string{"healthy"})
	h := f.Host(0)
	dir = t.TempDir()
	files := map[string]string{
		"hosts":                "[web]\n" + h.Name + " ansible_host=" + h.Addr + "\n",
		"group_vars/all.yml":   "ansible_user: demo\nwhyoffline_os: linux\n",
		"group_vars/web/a.yml": fmt.Sprintf("ansible_port: %d\n", h.Port),
		"host_vars/" + h.Name:  "ansible_ssh_private_key_file: " + filepath.Join(filepath.Dir(kh), "id_ed25519") + "\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, kh
}

// TestScanAnsibleProject: the scan logs in with what group_vars/ and
// host_vars/ say (without them it would dial port 22 as the wrong user),
// whether -i names the file, the directory, or nothing and
// ANSIBLE_INVENTORY does — and the run says which source it used.
func TestScanAnsibleProject(t *testing.T) {
	dir, kh := ansibleProject(t)
	home := t.TempDir()
	base := []string{"scan", "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "15s", "-o", "json"}
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		says string
	}{
		{"file", []string{"-i", filepath.Join(dir, "hosts")}, nil, ""},
		{"directory", []string{"-i", dir}, nil, ""},
		{"ANSIBLE_INVENTORY", nil, map[string]string{"ANSIBLE_INVENTORY": filepath.Join(dir, "hosts")}, "using the inventory of ANSIBLE_INVENTORY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range c.env {
				env[k] = v
			}
			r := runCLI(t, "", env, append(base, c.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr: %s", r.code, r.stderr)
			}
			var run result.Run
			if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
				t.Fatal(err)
			}
			if len(run.Hosts) != 1 || run.Hosts[0].Status != "healthy" {
				t.Fatalf("hosts: %+v", run.Hosts)
			}
			if !strings.Contains(r.stderr, c.says) {
				t.Errorf("stderr does not say %q: %s", c.says, r.stderr)
			}
		})
	}
}

// TestBadAnsibleProjects: a broken vars file, a wrong vault password, a
// vars file that is a FIFO or huge, an executable password file — each a
// clear error naming the file, exit 2, and nothing scanned or written.
func TestBadAnsibleProjects(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) []string
		want  string
	}{
		{"corrupt vars file", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, "group_vars/web/a.yml"), "ansible_port: [1,\n")
			return nil
		}, "group_vars/web/a.yml:"},
		{"vars file is a list", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, "group_vars/all.yml"), "- ansible_user: x\n")
			return nil
		}, "group_vars/all.yml:1: a vars file should be a mapping"},
		{"vars file is a FIFO", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "group_vars/web/a.yml")
			_ = os.Remove(p)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			return nil
		}, "group_vars/web/a.yml: is not a regular file"},
		{"huge vars file", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "group_vars/web/a.yml")
			if err := os.Truncate(p, 17<<20); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "is larger than 16 MiB"},
		{"group_vars is a file", func(t *testing.T, dir string) []string {
			_ = os.RemoveAll(filepath.Join(dir, "group_vars"))
			write(t, filepath.Join(dir, "group_vars"), "x: 1\n")
			return nil
		}, "group_vars: is not a directory"},
		{"wrong vault password", func(t *testing.T, dir string) []string {
			data, err := os.ReadFile("../../internal/vault/testdata/v11.yml")
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "group_vars/all.yml"), string(data))
			write(t, filepath.Join(dir, "wrong-pass"), "not the password\n")
			return []string{"--vault-password-file", filepath.Join(dir, "wrong-pass")}
		}, "group_vars/all.yml: is vault-encrypted: none of the given vault passwords decrypts it"},
		{"executable password file", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "pass.sh")
			write(t, p, "#!/bin/sh\necho x\n")
			if err := os.Chmod(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return []string{"--vault-password-file", p}
		}, "is executable: Ansible would run it as a script"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, kh := ansibleProject(t)
			extra := c.setup(t, dir)
			out := filepath.Join(t.TempDir(), "run.json")
			args := append([]string{"scan", "-i", filepath.Join(dir, "hosts"), "--known-hosts", kh, "--ssh-config", "none", "-o", "json", "--out", out}, extra...)
			r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestAnsibleSourcesNotRun: an inventory script and a plugin config in an
// inventory directory are not run; the note shows the pipe that reads
// them; a vaulted whole vars file without the password skips the hosts
// it applies to; Basic auth over plain HTTP skips its host, not the file.
func TestAnsibleSourcesNotRun(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inv/10-hosts"), "[web]\nw1\n[win]\nwin1 ansible_connection=winrm ansible_port=5985 ansible_winrm_transport=basic\nwin2 ansible_connection=winrm\n[db]\nd1\n")
	write(t, filepath.Join(dir, "inv/20-ec2.aws_ec2.yml"), "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n")
	write(t, filepath.Join(dir, "inv/30-cmdb.py"), "#!/usr/bin/env python3\nprint('{}')\n")
	data, err := os.ReadFile("../../internal/vault/testdata/v11.yml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "inv/group_vars/db.yml"), string(data))
	r := runCLI(t, "", map[string]string{"HOME": t.TempDir()}, "inventory", "-i", filepath.Join(dir, "inv"), "--ssh-config", "none", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"a config of the inventory plugin amazon.aws.aws_ec2", "ansible-inventory -i " + filepath.Join(dir, "inv/20-ec2.aws_ec2.yml") + " --list | whyoffline scan -i -",
		"30-cmdb.py: an inventory script; whyoffline does not run inventory scripts",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range rows {
		s, _ := row["skipped"].(string)
		got[row["name"].(string)] = s
	}
	if got["w1"] != "" || got["win2"] != "" || len(got) != 4 {
		t.Errorf("scanned hosts: %v", got)
	}
	if !strings.Contains(got["win1"], "clear text") || !strings.Contains(got["d1"], "group_vars/db.yml is vault-encrypted") {
		t.Errorf("skip reasons: %v", got)
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
