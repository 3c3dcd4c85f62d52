package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/whyoffline/whyoffline/internal/ansiblecfg"
	"github.com/whyoffline/whyoffline/internal/vault"
	"gopkg.in/yaml.v3"
)

// Request says what to load: the -i sources in order ("-" is stdin),
// and what Ansible would also use to read them.
type Request struct {
	Paths  []string
	Stdin  io.Reader
	Schema Schema // the transports' options (transports.Options())

	// Vault holds the vault passwords; nil or empty: vaulted values stay
	// sealed and the hosts whose connection settings need them are
	// skipped with that reason.
	Vault *vault.Keyring
	// VaultNote says why the keyring is empty when a password was
	// configured but cannot be used (an executable password file found
	// in ansible.cfg); it is added to the reason of hosts skipped for it.
	VaultNote string

	// IgnoreExts and IgnorePatterns: the files of an inventory directory
	// that are not sources (nil: Ansible's defaults).
	IgnoreExts     []string
	IgnorePatterns []*regexp.Regexp
}

// maxDirEntries bounds the files of one inventory or vars directory.
const maxDirEntries = 100_000

// pipeHint is how a source whyoffline will not run still reaches it.
func pipeHint(path string) string {
	return fmt.Sprintf("ansible-inventory -i %s --list | whyoffline scan -i -", shellWord(path))
}

// shellWord quotes s for a command line shown to the user.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// gather reads one -i source: stdin, a file, or a directory of sources
// in Ansible's order and with its ignore rules. Sources whyoffline will
// not read (scripts, plugin configs) become notes, not errors.
func (r *Request) gather(path string, inv *Inventory) ([]*source, error) {
	if path == "-" {
		if r.Stdin == nil {
			return nil, &Error{File: "(stdin)", Msg: "standard input is not available"}
		}
		data, err := io.ReadAll(io.LimitReader(r.Stdin, MaxFileSize+1))
		if err != nil {
			return nil, &Error{File: "(stdin)", Msg: fmt.Sprintf("cannot read inventory: %v", err)}
		}
		src, err := r.parseData("-", "(stdin)", data, inv)
		if src == nil || err != nil {
			return nil, err
		}
		return []*source{src}, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read inventory: %v", unwrapPathErr(err))}
	}
	if !st.IsDir() {
		src, err := r.readFile(path, st, inv)
		if src == nil || err != nil {
			return nil, err
		}
		return []*source{src}, nil
	}
	var out []*source
	count := 0
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > 16 {
			return &Error{File: dir, Msg: "inventory directories nest deeper than 16 levels"}
		}
		names, err := readDirNames(dir)
		if err != nil {
			return &Error{File: dir, Msg: fmt.Sprintf("cannot read inventory directory: %v", unwrapPathErr(err))}
		}
		for _, name := range names {
			if r.ignored(name) {
				continue
			}
			if count++; count > maxDirEntries {
				return &Error{File: path, Msg: fmt.Sprintf("holds more than %d inventory files", maxDirEntries)}
			}
			full := filepath.Join(dir, name)
			st, err := os.Stat(full)
			if err != nil {
				return &Error{File: full, Msg: fmt.Sprintf("cannot read inventory: %v", unwrapPathErr(err))}
			}
			if st.IsDir() {
				if err := walk(full, depth+1); err != nil {
					return err
				}
				continue
			}
			src, err := r.readFile(full, st, inv)
			if err != nil {
				return err
			}
			if src != nil {
				out = append(out, src)
			}
		}
		return nil
	}
	if err := walk(path, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// ignored is Ansible's rule for the entries of an inventory directory:
// hidden files, host_vars, group_vars and vars_plugins, the ignored
// extensions and patterns.
func (r *Request) ignored(name string) bool {
	if strings.HasPrefix(name, ".") || name == "host_vars" || name == "group_vars" || name == "vars_plugins" {
		return true
	}
	exts := r.IgnoreExts
	if exts == nil {
		exts = ansiblecfg.DefaultIgnoreExts
	}
	for _, e := range exts {
		if e != "" && strings.HasSuffix(name, e) {
			return true
		}
	}
	for _, p := range r.IgnorePatterns {
		if p.MatchString(name) {
			return true
		}
	}
	return false
}

// readFile reads one inventory file, or returns nil and a note for a
// source whyoffline does not read the way Ansible would (a script it
// would run, a plugin config, TOML).
func (r *Request) readFile(path string, st os.FileInfo, inv *Inventory) (*source, error) {
	if !st.Mode().IsRegular() && st.Mode()&os.ModeNamedPipe == 0 && st.Mode()&os.ModeCharDevice == 0 {
		return nil, &Error{File: path, Msg: "is not a regular file"}
	}
	data, err := readCapped(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read inventory: %v", unwrapPathErr(err))}
	}
	// Ansible runs an executable file, or one starting with #!, as an
	// inventory script. whyoffline runs nothing it is given; a file that
	// is executable but not a script is read as Ansible falls back to.
	if bytes.HasPrefix(data, []byte("#!")) {
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: an inventory script; whyoffline does not run inventory scripts, so its hosts are not scanned: %s", path, pipeHint(path)))
		return nil, nil
	}
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: a TOML inventory; whyoffline does not read TOML, so its hosts are not scanned: %s", path, pipeHint(path)))
		return nil, nil
	}
	return r.parseData(path, path, data, inv)
}

// parseData parses an inventory's text: a vaulted file is decrypted
// first, an inventory plugin's config becomes a note.
func (r *Request) parseData(path, name string, data []byte, inv *Inventory) (*source, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("is larger than %d MiB; is this the right file?", MaxFileSize>>20)}
	}
	if vault.IsVaulted(data) {
		plain, err := r.Vault.Decrypt(data)
		if err != nil {
			return nil, &Error{File: name, Msg: "is vault-encrypted: " + err.Error()}
		}
		data = plain
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{File: name, Msg: "contains NUL bytes: not a text inventory"}
	}
	format := detectFormat(path, data)
	if format == "yaml" {
		if plugin, line := pluginName(data); plugin != "" {
			inv.Notes = append(inv.Notes, fmt.Sprintf("%s:%d: a config of the inventory plugin %s; whyoffline runs no inventory plugin, so its hosts are not scanned: %s", name, line, clip(plugin), pipeHint(path)))
			return nil, nil
		}
		return parseYAML(name, data)
	}
	return parseINI(name, data)
}

// pluginName is the plugin: of an inventory plugin's config (Ansible's
// auto plugin reads the same key), or "".
func pluginName(data []byte) (string, int) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", 0
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "plugin" && root.Content[i+1].Kind == yaml.ScalarNode {
			return root.Content[i+1].Value, root.Content[i].Line
		}
	}
	return "", 0
}

// readDirNames lists a directory, sorted (Ansible sorts os.listdir),
// bounded.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxDirEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(names) > maxDirEntries {
		return nil, fmt.Errorf("more than %d entries", maxDirEntries)
	}
	sort.Strings(names)
	return names, nil
}

// varsBase is the directory whose group_vars/ and host_vars/ apply to a
// source, as Ansible's host_group_vars plugin takes it: a directory
// source itself, a file's directory; none for stdin.
func varsBase(path string) string {
	if path == "-" {
		return ""
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return path
	}
	return filepath.Dir(path)
}
