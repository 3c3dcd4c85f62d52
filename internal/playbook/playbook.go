// Package playbook loads the per-OS checks (playbooks/*.yaml, embedded in
// the binary and overridable from a directory), renders them into one script
// per host with safely quoted parameters, and parses the script's output
// back into named facts. It knows nothing of transports or causes.
package playbook

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Playbook is the checks for one OS family.
type Playbook struct {
	ID          string `yaml:"id"`
	OS          string `yaml:"os"`    // linux | solaris | aix | windows
	Uname       string `yaml:"uname"` // what `uname -s` prints on this OS
	Description string `yaml:"description"`
	// Shell is "posix" (the script runs under a POSIX sh) or "powershell".
	Shell  string  `yaml:"shell"`
	Checks []Check `yaml:"checks"`
	// Become maps a become method to the command that runs the script's
	// shell as root without ever prompting (sudo -n, pfexec).
	Become map[string]string `yaml:"become"`
	// Exec is the command that runs the script's shell without become.
	Exec string `yaml:"exec"`
	// DeniedPatterns in stderr mean become was refused (privilege-denied).
	DeniedPatterns []string `yaml:"denied_patterns"`

	file   string
	denied []*regexp.Regexp
}

// BecomeDenied reports whether stderr says become was refused.
func (p *Playbook) BecomeDenied(stderr string) bool {
	for _, re := range p.denied {
		if re.MatchString(stderr) {
			return true
		}
	}
	return false
}

// Check is one named check: a shell snippet and how to read its output.
type Check struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	Run   string `yaml:"run"`
	// Facts extracted from the check's output.
	Facts []FactRule `yaml:"facts"`
	// PassIf: fact name -> regexp (anchored) its value must match for the
	// check to pass. A check without PassIf is informational.
	PassIf map[string]string `yaml:"pass_if"`
	// Show is how many output lines the report keeps for this check.
	Show int `yaml:"show"`
	// InShell runs the snippet in the script's own shell instead of a
	// subshell, so variables it sets (the agent's own manager URL, helper
	// functions) reach the checks after it. It must not exit.
	InShell bool `yaml:"in_shell"`

	passIf map[string]*regexp.Regexp
}

// FactRule extracts one fact from a check's output.
type FactRule struct {
	Name string `yaml:"name"`
	// From: kv (a "key=value" or "key: value" line), regex (first or all
	// matches), exit (the check's exit status), output (the whole output).
	From    string `yaml:"from"`
	Key     string `yaml:"key"`
	Pattern string `yaml:"pattern"`
	// All collects every match (a list fact); otherwise the first match.
	All bool `yaml:"all"`
	// Bool makes the fact "true" when anything matched, else "false".
	Bool bool `yaml:"bool"`
	// Map normalises the value; "*" is the fallback.
	Map map[string]string `yaml:"map"`
	// Default is the value when nothing was extracted.
	Default string `yaml:"default"`
	// Max caps how many values a list fact keeps.
	Max int `yaml:"max"`

	re *regexp.Regexp
}

// Set is every loaded playbook plus the shared cause data.
type Set struct {
	Playbooks map[string]*Playbook // by OS
	Causes    *Causes
	Source    string // "embedded" or the override directory
}

// Names of the playbooks in a stable order.
func (s *Set) Names() []string {
	var ids []string
	for id := range s.Playbooks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ForOS returns the playbook for os, or nil.
func (s *Set) ForOS(os string) *Playbook { return s.Playbooks[os] }

// Unix returns the playbooks that run under a POSIX shell.
func (s *Set) Unix() []*Playbook {
	var out []*Playbook
	for _, id := range s.Names() {
		if p := s.Playbooks[id]; p.Shell == "posix" {
			out = append(out, p)
		}
	}
	return out
}

// Load reads the playbooks from fsys (the embedded copy), then any files in
// overrideDir replace those with the same name — a site can change one
// threshold or pattern without rebuilding.
func Load(fsys fs.FS, overrideDir string) (*Set, error) {
	files := map[string][]byte{}
	read := func(f fs.FS, where string) error {
		entries, err := fs.ReadDir(f, ".")
		if err != nil {
			return fmt.Errorf("playbooks: cannot list %s: %w", where, err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
				continue
			}
			b, err := fs.ReadFile(f, e.Name())
			if err != nil {
				return fmt.Errorf("playbooks: %s: %w", filepath.Join(where, e.Name()), err)
			}
			files[e.Name()] = b
		}
		return nil
	}
	set := &Set{Playbooks: map[string]*Playbook{}, Source: "embedded"}
	if err := read(fsys, "(embedded)"); err != nil {
		return nil, err
	}
	where := map[string]string{}
	for name := range files {
		where[name] = "(embedded)/" + name
	}
	if overrideDir != "" {
		st, err := os.Stat(overrideDir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--playbooks %s: not a readable directory", overrideDir)
		}
		before := map[string][]byte{}
		for k, v := range files {
			before[k] = v
		}
		if err := read(os.DirFS(overrideDir), overrideDir); err != nil {
			return nil, err
		}
		for name, b := range files {
			if string(before[name]) != string(b) {
				where[name] = filepath.Join(overrideDir, name)
			}
		}
		set.Source = overrideDir
	}
	for _, name := range sortedNames(files) {
		if name == "causes.yaml" {
			c, err := parseCauses(where[name], files[name])
			if err != nil {
				return nil, err
			}
			set.Causes = c
			continue
		}
		p, err := parsePlaybook(where[name], files[name])
		if err != nil {
			return nil, err
		}
		if old, dup := set.Playbooks[p.OS]; dup {
			return nil, fmt.Errorf("%s: os %q is already covered by %s", where[name], p.OS, old.file)
		}
		set.Playbooks[p.OS] = p
	}
	if set.Causes == nil {
		return nil, fmt.Errorf("playbooks: causes.yaml is missing")
	}
	if len(set.Playbooks) == 0 {
		return nil, fmt.Errorf("playbooks: no playbook found")
	}
	return set, nil
}

func sortedNames(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

func parsePlaybook(file string, data []byte) (*Playbook, error) {
	var p Playbook
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p.file = file
	if p.OS == "" || p.ID == "" {
		return nil, fmt.Errorf("%s: id: and os: are required", file)
	}
	switch p.Shell {
	case "posix", "powershell":
	default:
		return nil, fmt.Errorf("%s: shell: %q must be posix or powershell", file, p.Shell)
	}
	if p.Exec == "" {
		return nil, fmt.Errorf("%s: exec: (the command that runs the script) is required", file)
	}
	for _, pat := range p.DeniedPatterns {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("%s: denied_patterns %q: %v", file, pat, err)
		}
		p.denied = append(p.denied, re)
	}
	seen := map[string]bool{}
	for i := range p.Checks {
		c := &p.Checks[i]
		if !idPattern.MatchString(c.ID) {
			return nil, fmt.Errorf("%s: check %d: id %q must be lower-case letters, digits, '.', '_' or '-'", file, i+1, c.ID)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("%s: check %q is defined twice", file, c.ID)
		}
		seen[c.ID] = true
		if strings.TrimSpace(c.Run) == "" {
			return nil, fmt.Errorf("%s: check %q: run: is empty", file, c.ID)
		}
		for j := range c.Facts {
			r := &c.Facts[j]
			if err := r.compile(); err != nil {
				return nil, fmt.Errorf("%s: check %q: fact %q: %v", file, c.ID, r.Name, err)
			}
		}
		c.passIf = map[string]*regexp.Regexp{}
		for fact, pat := range c.PassIf {
			re, err := regexp.Compile("^(?:" + pat + ")$")
			if err != nil {
				return nil, fmt.Errorf("%s: check %q: pass_if %s: %v", file, c.ID, fact, err)
			}
			c.passIf[fact] = re
		}
	}
	return &p, nil
}

func (r *FactRule) compile() error {
	if !idPattern.MatchString(r.Name) {
		return fmt.Errorf("name must be lower-case letters, digits, '.', '_' or '-'")
	}
	switch r.From {
	case "kv":
		if r.Key == "" {
			return fmt.Errorf("from: kv needs a key")
		}
	case "regex":
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return fmt.Errorf("pattern: %v", err)
		}
		if re.NumSubexp() > 1 {
			return fmt.Errorf("pattern: use at most one capturing group ((?:...) for others)")
		}
		r.re = re
	case "exit", "output":
	default:
		return fmt.Errorf("from: %q must be kv, regex, exit or output", r.From)
	}
	return nil
}
