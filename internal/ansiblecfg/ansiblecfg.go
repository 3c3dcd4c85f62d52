// Package ansiblecfg finds the inventory, vault and inventory-directory
// settings Ansible itself would use when no -i is given, from the same
// places in the same order (ansible-core's config manager): the
// ANSIBLE_* environment variables first, then the first ansible.cfg of
// $ANSIBLE_CONFIG, ./ansible.cfg (unless the directory is world-writable),
// ~/.ansible.cfg and /etc/ansible/ansible.cfg. It reads settings only: no
// plugin, script or lookup is run.
package ansiblecfg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Settings are the Ansible settings whyoffline honours, each with where it
// came from, for the run to say so.
type Settings struct {
	Config string // the ansible.cfg read ("" when none)

	Inventory     []string // inventory sources, paths made absolute
	InventoryFrom string   // "ANSIBLE_INVENTORY", "ansible.cfg PATH", or ""

	VaultPasswordFiles []string // vault_password_file / ANSIBLE_VAULT_PASSWORD_FILE
	VaultIDs           []string // vault_identity_list / ANSIBLE_VAULT_IDENTITY_LIST
	VaultFrom          string

	// IgnoreExts and IgnorePatterns decide which files of an inventory
	// directory are not inventory sources (Ansible's defaults unless
	// set).
	IgnoreExts     []string
	IgnorePatterns []*regexp.Regexp
}

// DefaultIgnoreExts is Ansible's INVENTORY_IGNORE_EXTS: REJECT_EXTS plus
// .orig, .ini, .cfg and .retry. Yes, .ini: in an inventory directory
// Ansible skips hosts.ini.
var DefaultIgnoreExts = []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"}

// Env is the environment lookup (os.Getenv in the CLI, a map in tests).
type Env func(string) string

// Load reads the settings. cwd and home locate ./ansible.cfg and
// ~/.ansible.cfg; etc is the system configuration root (normally /etc).
func Load(getenv Env, cwd, home, etc string) (*Settings, error) {
	s := &Settings{IgnoreExts: DefaultIgnoreExts}
	path, err := find(getenv, cwd, home, etc)
	if err != nil {
		return nil, err
	}
	cfg := map[string]map[string]string{}
	if path != "" {
		if cfg, err = readINI(path); err != nil {
			return nil, err
		}
		s.Config = path
	}
	get := func(env string, keys ...[2]string) (string, string) {
		if v := getenv(env); v != "" {
			return v, env
		}
		for _, k := range keys {
			if v, ok := cfg[k[0]][k[1]]; ok && v != "" {
				return v, "ansible.cfg " + path
			}
		}
		return "", ""
	}
	base := cwd
	if v, from := get("ANSIBLE_INVENTORY", [2]string{"defaults", "inventory"}, [2]string{"defaults", "hostfile"}); v != "" {
		if from != "ANSIBLE_INVENTORY" {
			base = filepath.Dir(path)
		}
		s.Inventory = pathList(v, base, home)
		s.InventoryFrom = from
	}
	if v, from := get("ANSIBLE_VAULT_PASSWORD_FILE", [2]string{"defaults", "vault_password_file"}); v != "" {
		base := cwd
		if from != "ANSIBLE_VAULT_PASSWORD_FILE" {
			base = filepath.Dir(path)
		}
		s.VaultPasswordFiles = []string{absPath(v, base, home)}
		s.VaultFrom = from
	}
	if v, from := get("ANSIBLE_VAULT_IDENTITY_LIST", [2]string{"defaults", "vault_identity_list"}); v != "" {
		for _, id := range splitList(v) {
			label, p, ok := strings.Cut(id, "@")
			if !ok {
				label, p = "default", id
			}
			if p != "prompt" && p != "prompt_ask_vault_pass" {
				p = absPath(p, cwd, home)
			}
			s.VaultIDs = append(s.VaultIDs, label+"@"+p)
		}
		if s.VaultFrom == "" {
			s.VaultFrom = from
		}
	}
	if v, _ := get("ANSIBLE_INVENTORY_IGNORE", [2]string{"defaults", "inventory_ignore_extensions"}, [2]string{"inventory", "ignore_extensions"}); v != "" {
		s.IgnoreExts = splitList(v)
	}
	if v, from := get("ANSIBLE_INVENTORY_IGNORE_REGEX", [2]string{"defaults", "inventory_ignore_patterns"}, [2]string{"inventory", "ignore_patterns"}); v != "" {
		for _, p := range splitList(v) {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: inventory ignore pattern %q: %v", from, p, err)
			}
			s.IgnorePatterns = append(s.IgnorePatterns, re)
		}
	}
	return s, nil
}

// find is the ansible.cfg Ansible would read, or "".
func find(getenv Env, cwd, home, etc string) (string, error) {
	var candidates []string
	if p := getenv("ANSIBLE_CONFIG"); p != "" {
		p = absPath(p, cwd, home)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, "ansible.cfg")
		}
		candidates = append(candidates, p)
	}
	if cwd != "" {
		// a world-writable directory's ansible.cfg is anyone's: Ansible
		// skips it, and so does whyoffline
		if st, err := os.Stat(cwd); err == nil && st.Mode().Perm()&0o002 == 0 {
			candidates = append(candidates, filepath.Join(cwd, "ansible.cfg"))
		}
	}
	if home != "" {
		candidates = append(candidates, filepath.Join(home, ".ansible.cfg"))
	}
	if etc != "" {
		candidates = append(candidates, filepath.Join(etc, "ansible", "ansible.cfg"))
	}
	for _, c := range candidates {
		st, err := os.Stat(c)
		if err != nil {
			continue
		}
		if !st.Mode().IsRegular() {
			return "", fmt.Errorf("%s: not a regular file; Ansible would read it as its configuration: move it aside or set ANSIBLE_CONFIG", c)
		}
		f, err := os.Open(c)
		if err != nil {
			continue // Ansible takes the first readable one
		}
		f.Close()
		return c, nil
	}
	return "", nil
}

// readINI reads ansible.cfg as Python's configparser does for Ansible:
// [section] headers, key = value or key: value, full-line # and ;
// comments, inline ; comments after white space, indented continuation
// lines. Section and key names are compared lower-cased.
func readINI(path string) (map[string]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB; is it the right file?", path)
	}
	out := map[string]map[string]string{}
	section, lastKey := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20+1)
	for n := 1; sc.Scan(); n++ {
		raw := strings.TrimRight(sc.Text(), "\r")
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if section != "" && lastKey != "" {
				out[section][lastKey] += "\n" + stripInline(line)
			}
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: section header %q has no closing ']'", path, n, line)
			}
			section = strings.ToLower(strings.TrimSpace(line[1:end]))
			if out[section] == nil {
				out[section] = map[string]string{}
			}
			lastKey = ""
			continue
		}
		if section == "" {
			return nil, fmt.Errorf("%s:%d: a setting before any [section] header", path, n)
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: %q should be key = value", path, n, line)
		}
		lastKey = strings.ToLower(strings.TrimSpace(line[:i]))
		out[section][lastKey] = stripInline(strings.TrimSpace(line[i+1:]))
	}
	return out, sc.Err()
}

// stripInline drops a "; comment" that follows white space.
func stripInline(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] == ';' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// splitList splits Ansible's list settings (comma-separated, white space
// around items ignored; a multi-line value is also a list).
func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// pathList is Ansible's "pathlist" type: comma-separated paths, each
// relative to base, ~ expanded.
func pathList(v, base, home string) []string {
	parts := splitList(v)
	for i, p := range parts {
		parts[i] = absPath(p, base, home)
	}
	return parts
}

func absPath(p, base, home string) string {
	p = strings.TrimSpace(p)
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	return p
}
