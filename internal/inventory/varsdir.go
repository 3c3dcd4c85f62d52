package inventory

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/whyoffline/whyoffline/internal/vault"
	"gopkg.in/yaml.v3"
)

// MaxVarsFileSize bounds one group_vars/host_vars file.
const MaxVarsFileSize = 16 << 20

// varsExts are the extensions Ansible's vars plugin tries after the bare
// name (YAML_FILENAME_EXTENSIONS), in its order.
var varsExts = []string{"", ".yml", ".yaml", ".json"}

// sealedKey marks, in a vars map, a whole vars file that is vaulted and
// could not be opened: whatever it sets is unknown, so a host it applies
// to is not scanned with a guess.
const sealedKey = "\x00sealed"

// varsDir is one source directory's group_vars/ or host_vars/: its
// entries listed once, so a 100,000-host inventory costs one listing,
// not a stat per host and extension.
type varsDir struct {
	dir     string
	entries map[string]bool // name → is a directory
	used    map[string]bool // entries some group or host read
	shadow  map[string]string
}

func openVarsDir(dir string) (*varsDir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil //nolint:nilerr // none: nothing to apply
	}
	if !st.IsDir() {
		return nil, &Error{File: dir, Msg: "is not a directory; Ansible reads vars files from a directory of that name"}
	}
	names, err := readDirNames(dir)
	if err != nil {
		return nil, &Error{File: dir, Msg: fmt.Sprintf("cannot list vars directory: %v", unwrapPathErr(err))}
	}
	d := &varsDir{dir: dir, entries: make(map[string]bool, len(names)), used: map[string]bool{}, shadow: map[string]string{}}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return nil, &Error{File: filepath.Join(dir, n), Msg: fmt.Sprintf("cannot read vars file: %v", unwrapPathErr(err))}
		}
		d.entries[n] = st.IsDir()
	}
	return d, nil
}

// files are the vars files of entity name, in the order Ansible merges
// them: the first of NAME, NAME.yml, NAME.yaml, NAME.json that exists
// (a directory: its files, sorted, recursively).
func (d *varsDir) files(name string) ([]string, error) {
	if d == nil || strings.HasPrefix(name, "/") {
		return nil, nil
	}
	for i, ext := range varsExts {
		isDir, ok := d.entries[name+ext]
		if !ok {
			continue
		}
		d.used[name+ext] = true
		for _, later := range varsExts[i+1:] {
			if _, also := d.entries[name+later]; also {
				d.shadow[name+later] = name + ext
			}
		}
		full := filepath.Join(d.dir, name+ext)
		if !isDir {
			return []string{full}, nil
		}
		var out []string
		err := walkVarsDir(full, 0, &out)
		return out, err
	}
	return nil, nil
}

// walkVarsDir lists a vars directory as Ansible does: sorted, hidden files
// and backups~ skipped, subdirectories without an extension descended,
// files without an extension or with a YAML/JSON one kept.
func walkVarsDir(dir string, depth int, out *[]string) error {
	if depth > 16 {
		return &Error{File: dir, Msg: "vars directories nest deeper than 16 levels"}
	}
	names, err := readDirNames(dir)
	if err != nil {
		return &Error{File: dir, Msg: fmt.Sprintf("cannot list vars directory: %v", unwrapPathErr(err))}
	}
	for _, n := range names {
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		full := filepath.Join(dir, n)
		st, err := os.Stat(full)
		if err != nil {
			return &Error{File: full, Msg: fmt.Sprintf("cannot read vars file: %v", unwrapPathErr(err))}
		}
		ext := filepath.Ext(n)
		switch {
		case st.IsDir() && ext == "":
			if err := walkVarsDir(full, depth+1, out); err != nil {
				return err
			}
		case !st.IsDir() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			*out = append(*out, full)
		}
	}
	return nil
}

// unread lists, for a note, the entries Ansible never reads: named for no
// group or host of the inventory, or shadowed by an earlier spelling.
func (d *varsDir) unread(kind string) []string {
	if d == nil {
		return nil
	}
	var notes, orphans []string
	for _, n := range slices.Sorted(maps.Keys(d.entries)) {
		switch {
		case d.used[n]:
		case d.shadow[n] != "":
			notes = append(notes, fmt.Sprintf("%s: not read: %s comes first (Ansible reads only the first of NAME, NAME.yml, NAME.yaml, NAME.json)", filepath.Join(d.dir, n), d.shadow[n]))
		default:
			orphans = append(orphans, n)
		}
	}
	if len(orphans) > 0 {
		shown := orphans
		if len(shown) > 10 {
			shown = shown[:10]
		}
		more := ""
		if len(orphans) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(orphans)-len(shown))
		}
		notes = append(notes, fmt.Sprintf("%s: %d entries name no %s of the inventory, so neither Ansible nor whyoffline reads them: %s%s", d.dir, len(orphans), kind, strings.Join(shown, ", "), more))
	}
	return notes
}

// readVarsFile reads one vars file (YAML or JSON, maybe vaulted whole or
// holding !vault values) into top-level variables. A file that is not a
// mapping, not regular, too large or broken is an error naming it; a
// vaulted file without a password is kept as sealed.
func readVarsFile(path string, keys *vault.Keyring) (vars, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read vars file: %v", unwrapPathErr(err))}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{File: path, Msg: "is not a regular file; a vars file must be one"}
	}
	if st.Size() > MaxVarsFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("is larger than %d MiB; is it the right file?", MaxVarsFileSize>>20)}
	}
	data, err := readCapped(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read vars file: %v", unwrapPathErr(err))}
	}
	if len(data) > MaxVarsFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("is larger than %d MiB; is it the right file?", MaxVarsFileSize>>20)}
	}
	if vault.IsVaulted(data) {
		plain, err := keys.Decrypt(data)
		switch {
		case err == vault.ErrNoSecret:
			return vars{sealedKey: {val: path, file: path, line: 1}}, nil
		case err != nil:
			return nil, &Error{File: path, Msg: "is vault-encrypted: " + err.Error()}
		}
		data = plain
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{File: path, Msg: "contains NUL bytes: not a YAML or JSON vars file"}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	if len(doc.Content) == 0 {
		return vars{}, nil // empty: Ansible ignores it too
	}
	root := doc.Content[0]
	if isNull(root) {
		return vars{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, errorf(path, root.Line, "a vars file should be a mapping of variable names to values, not a %s", kindName(root))
	}
	vs, err := readVars(path, root, false)
	if err != nil {
		return nil, err
	}
	for k, v := range vs {
		v.file = path
		vs[k] = v
	}
	return vs, nil
}

// varsLayer is the group_vars and host_vars of one source directory.
type varsLayer struct {
	groups, hosts *varsDir
}

// entityVars reads and merges the vars files of one group or host.
func entityVars(d *varsDir, name string, keys *vault.Keyring) (vars, error) {
	files, err := d.files(name)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	out := vars{}
	for _, f := range files {
		vs, err := readVarsFile(f, keys)
		if err != nil {
			return nil, err
		}
		for k, v := range vs {
			out[k] = v
		}
	}
	return out, nil
}

// loadVarsLayers reads the group_vars/ and host_vars/ of each source
// directory (once each, in source order) for the groups and hosts of s.
func (s *source) loadVarsLayers(bases []string, hosts []string, keys *vault.Keyring) ([]string, error) {
	seen := map[string]bool{}
	var notes []string
	for _, base := range bases {
		if base == "" || seen[base] {
			continue
		}
		seen[base] = true
		gd, err := openVarsDir(filepath.Join(base, "group_vars"))
		if err != nil {
			return nil, err
		}
		hd, err := openVarsDir(filepath.Join(base, "host_vars"))
		if err != nil {
			return nil, err
		}
		if gd == nil && hd == nil {
			continue
		}
		layer := s.layers
		s.layers++
		for _, name := range slices.Sorted(maps.Keys(s.groups)) {
			vs, err := entityVars(gd, name, keys)
			if err != nil {
				return nil, err
			}
			if len(vs) > 0 {
				g := s.groups[name]
				for len(g.layers) <= layer {
					g.layers = append(g.layers, nil)
				}
				g.layers[layer] = vs
			}
		}
		if hd != nil {
			for _, h := range hosts {
				vs, err := entityVars(hd, h, keys)
				if err != nil {
					return nil, err
				}
				if len(vs) > 0 {
					if s.hostLayers == nil {
						s.hostLayers = map[string][]vars{}
					}
					s.hostLayers[h] = append(s.hostLayers[h], vs)
				}
			}
		}
		notes = append(notes, gd.unread("group")...)
		notes = append(notes, hd.unread("host")...)
	}
	sort.Strings(notes)
	return notes, nil
}
