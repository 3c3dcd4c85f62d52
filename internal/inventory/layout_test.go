package inventory_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/whyoffline/whyoffline/internal/ansiblecfg"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transports"
	"github.com/whyoffline/whyoffline/internal/vault"
)

// layout is testdata/layouts/NAME/layout.yaml: how to run Ansible and
// whyoffline on a project's inventory layout.
type layout struct {
	Sources        []string                     `yaml:"sources"`         // the -i values; none: Ansible's default
	Env            map[string]string            `yaml:"env"`             // environment for both
	CwdConfig      bool                         `yaml:"cwd_config"`      // an ansible.cfg in the layout's directory
	VaultPassword  string                       `yaml:"vault_password"`  // the password the files are encrypted with
	GivePassword   bool                         `yaml:"give_password"`   // pass it to both
	Encrypt        []string                     `yaml:"encrypt"`         // files ansible-vault encrypts whole
	EncryptStrings map[string]map[string]string `yaml:"encrypt_strings"` // file → var → value, appended by ansible-vault encrypt_string
	StdinListOf    string                       `yaml:"stdin_list_of"`   // feed ansible-inventory --list of this file as -i -
}

// TestAnsibleLayouts holds whyoffline to ansible-inventory on whole
// project layouts: group_vars/ and host_vars/ in every form, inventory
// directories with the files Ansible ignores, several -i sources,
// ANSIBLE_INVENTORY and ansible.cfg, vaulted files and values made by the
// real ansible-vault (with and without the password), and --list JSON on
// stdin. Every host must agree field by field, or be skipped exactly when
// Ansible's view needs what whyoffline does not have.
func TestAnsibleLayouts(t *testing.T) {
	for _, tool := range []string{"ansible-inventory", "ansible-vault"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: CI must hold the loader to Ansible (make unit-deps installs ansible-core)", tool)
			}
			t.Skipf("%s not installed (apt-get install ansible-core)", tool)
		}
	}
	python := ansiblePython(t)
	dirs, err := filepath.Glob(filepath.Join("testdata", "layouts", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no layouts: %v", err)
	}
	var rows []string
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			row := runLayout(t, python, dir)
			rows = append(rows, fmt.Sprintf("%-20s %s", name, row))
		})
	}
	sort.Strings(rows)
	t.Logf("\n%s", strings.Join(rows, "\n"))
}

func runLayout(t *testing.T, python, src string) string {
	raw, err := os.ReadFile(filepath.Join(src, "layout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var l layout
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("layout.yaml: %v", err)
	}
	work := filepath.Join(t.TempDir(), "project")
	copyTree(t, src, work)
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	for k, v := range l.Env {
		env[k] = v
	}
	run := func(stdin []byte, name string, args ...string) ([]byte, string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ANSIBLE_HOME=" + home, "ANSIBLE_LOCAL_TEMP=" + home, "ANSIBLE_NOCOLOR=1", "LANG=C.UTF-8"}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		return out, stderr.String()
	}
	// vaulted files and values, made by the real ansible-vault
	pwFile := ""
	if l.VaultPassword != "" {
		pwFile = filepath.Join(home, "vault-pass")
		if err := os.WriteFile(pwFile, []byte(l.VaultPassword+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, f := range l.Encrypt {
			run(nil, "ansible-vault", "encrypt", "--vault-password-file", pwFile, f)
		}
		for _, f := range sortedMapKeys(l.EncryptStrings) {
			for _, k := range sortedMapKeys(l.EncryptStrings[f]) {
				out, _ := run(nil, "ansible-vault", "encrypt_string", "--vault-password-file", pwFile, "--name", k, l.EncryptStrings[f][k])
				appendFile(t, filepath.Join(work, f), out)
			}
		}
	}
	// Ansible's view
	args := []string{"--list"}
	for _, s := range l.Sources {
		args = append(args, "-i", s)
	}
	var stdin []byte
	if l.StdinListOf != "" {
		stdin, _ = run(nil, "ansible-inventory", "-i", l.StdinListOf, "--list")
		args = append(args, "-i", l.StdinListOf)
	}
	if l.GivePassword {
		args = append(args, "--vault-password-file", pwFile)
	}
	list, stderr := run(nil, "ansible-inventory", args...)
	if strings.Contains(stderr, "Unable to parse") || strings.Contains(stderr, "ERROR") {
		t.Fatalf("ansible-inventory could not read the layout: %s", stderr)
	}
	expectArgs := []string{filepath.Join(mustAbs(t, "testdata"), "ansible_expect.py")}
	if l.GivePassword {
		expectArgs = append(expectArgs, pwFile)
	}
	out, _ := run(list, python, expectArgs...)
	var want map[string]ansibleView
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	// whyoffline's view, from the same directory and environment
	req := inventory.Request{Schema: transports.Options(), Vault: &vault.Keyring{}}
	for _, s := range l.Sources {
		req.Paths = append(req.Paths, filepath.Join(work, s))
	}
	if l.StdinListOf != "" {
		req.Paths, req.Stdin = []string{"-"}, bytes.NewReader(stdin)
	}
	if len(req.Paths) == 0 {
		cfg, err := ansiblecfg.Load(func(k string) string { return env[k] }, work, home, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Inventory) == 0 {
			t.Fatalf("no inventory found the way Ansible finds it (config %q)", cfg.Config)
		}
		req.Paths = cfg.Inventory
		for i, p := range req.Paths {
			if !filepath.IsAbs(p) {
				req.Paths[i] = filepath.Join(work, p)
			}
		}
	}
	if l.GivePassword {
		if err := req.Vault.AddFile("default", pwFile); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := inventory.LoadRequest(req)
	if err != nil {
		t.Fatalf("Ansible reads it, whyoffline refuses it: %v", err)
	}
	got, skipped := byNameAndSkips(inv)
	nFields, nSkipped := 0, 0
	for _, name := range sortedNames(want) {
		w := want[name]
		if w.Skip != "" {
			nSkipped++
			if _, ok := skipped[name]; !ok {
				t.Errorf("%s: Ansible's view needs %q, which whyoffline does not have: want it skipped, got %+v", name, w.Skip, got[name])
			}
			continue
		}
		h := got[name]
		if h == nil {
			t.Errorf("%s: Ansible has it; whyoffline does not (skipped: %q)", name, skipped[name])
			continue
		}
		for field, pair := range fields(w, h) {
			nFields++
			if pair[0] != pair[1] {
				t.Errorf("%s: %s is %q for Ansible, %q for whyoffline", name, field, pair[0], pair[1])
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("whyoffline has host %q, Ansible does not", name)
		}
	}
	// a decrypted value never shows in what the loader says
	for _, values := range l.EncryptStrings {
		for _, v := range values {
			for _, n := range append(inv.Notes, reasons(inv)...) {
				if strings.Contains(n, v) {
					t.Errorf("a vaulted value shows in %q", n)
				}
			}
		}
	}
	return fmt.Sprintf("%3d hosts %2d skipped %4d fields compared %2d notes", len(want), nSkipped, nFields, len(inv.Notes))
}

func reasons(inv *inventory.Inventory) []string {
	var out []string
	for _, s := range inv.Skipped {
		out = append(out, s.Reason)
	}
	return out
}

// ansiblePython is the interpreter ansible-inventory runs with (its
// #! line): ansible_expect.py opens vaulted values with Ansible's own
// VaultLib.
func ansiblePython(t *testing.T) string {
	p, _ := exec.LookPath("ansible-inventory")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		t.Fatalf("%s has no #! line", p)
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return fields[1]
	}
	return fields[0]
}

func copyTree(t *testing.T, from, to string) {
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, data []byte) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(data, '\n')); err != nil {
		t.Fatal(err)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
