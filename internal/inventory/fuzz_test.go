package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

func corpusSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// checkLoaded: an inventory read from any text gives hosts whose names
// and addresses are valid, or an error that carries no control character.
func checkLoaded(t *testing.T, src *source, err error) {
	if err != nil {
		if strings.IndexFunc(err.Error(), func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
			t.Fatalf("error with a control character: %q", err)
		}
		return
	}
	src.schema = Schema{}
	hosts, _, err := src.resolve()
	if err != nil {
		return
	}
	for _, h := range hosts {
		if checkHostName(h.Name) != nil || checkAddress(h.Address) != nil {
			t.Fatalf("host %q at %q passed", h.Name, h.Address)
		}
	}
}

// FuzzINI: Ansible INI (and plain host lists) from any text.
func FuzzINI(f *testing.F) {
	corpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := parseINI("fuzz.ini", data)
		checkLoaded(t, src, err)
	})
}

// FuzzYAML: whyoffline's own YAML, Ansible YAML and ansible-inventory
// --list JSON from any text.
func FuzzYAML(f *testing.F) {
	corpusSeeds(f)
	f.Add([]byte(`{"_meta":{"hostvars":{"a":{"ansible_host":"10.0.0.1"}}},"all":{"children":["web"]},"web":{"hosts":["a"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		src, err := parseYAML("fuzz.yml", data)
		checkLoaded(t, src, err)
	})
}

// FuzzVarsFile: a group_vars/host_vars file of any text reads as
// variables or an error naming the file.
func FuzzVarsFile(f *testing.F) {
	f.Add([]byte("ansible_user: deploy\nansible_port: 2222\n"))
	f.Add([]byte("{\"a\": {\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n00\"}}"))
	f.Add([]byte("x: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		p := filepath.Join(dir, "vars.yml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readVarsFile(p, nil); err != nil && !strings.Contains(err.Error(), p) {
			t.Fatalf("an error that does not name the file: %v", err)
		}
	})
}
