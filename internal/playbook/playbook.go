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

	"github.com/whyoffline/whyoffline/internal/facts"
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
	// Extends names the base playbook whose settings and checks this one
	// starts from; a check with a base check's id changes that check (only
	// the fields it gives), any other check is added after the base's.
	Extends string `yaml:"extends"`
	// Abstract playbooks (the POSIX base) only exist to be extended.
	Abstract bool `yaml:"abstract"`
	// Params are settings the snippets read as shell variables
	// (WO_<NAME>, upper-cased): tool order, timeouts. A playbook that
	// extends another changes them key by key.
	Params map[string]string `yaml:"params"`
	// Scripts names the directory beside the playbook whose files are
	// its checks' code, one per check: DIR/ID.sh (POSIX) or DIR/ID.ps1
	// (PowerShell). A file replaces the code the playbook it extends
	// gave that check; a site's --playbooks directory may hold the same
	// DIR/ID files to change them. Not inherited: each playbook names
	// its own.
	Scripts string `yaml:"scripts"`

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
	// Lane runs the check concurrently with the checks of other lanes
	// next to it (network probes that each may wait out a timeout); the
	// checks of one lane run in order. A lane's section is printed whole
	// when it ends.
	Lane string `yaml:"lane"`
	// Exports sets shell variables for the checks after it in its lane,
	// each from a key=value line of its output (WO_PORT_RESULT: result).
	Exports map[string]string `yaml:"exports"`

	passIf map[string]*regexp.Regexp
	file   string // the file that last changed the check
	line   int    // where the check starts in that file
	// runFile:runLine is where the first line of Run is written, so a
	// finding in the rendered script (shellcheck) names the line of the
	// file a person edits
	runFile string
	runLine int
}

// UnmarshalYAML keeps the check's line for load errors.
func (c *Check) UnmarshalYAML(n *yaml.Node) error {
	type plain Check
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "run" {
			continue
		}
		v := n.Content[i+1]
		c.runLine = v.Line
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			c.runLine++ // "run: |": the text starts on the next line
		}
	}
	return nil
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

	re   *regexp.Regexp
	spec facts.Spec
	file string
	line int
}

// UnmarshalYAML keeps the rule's line for load errors.
func (r *FactRule) UnmarshalYAML(n *yaml.Node) error {
	type plain FactRule
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.line = n.Line
	return nil
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

// MaxFileBytes caps one playbook file: a playbook is a page of YAML, and a
// directory entry that is a device or a huge file must not hang or exhaust
// the bastion.
const MaxFileBytes = 1 << 20

// Load reads the playbooks from fsys (the embedded copy), then overlays the
// files in overrideDir key by key: a playbook file there changes the checks
// and settings it names in the embedded playbook of the same name (a new
// file adds a playbook), and causes.yaml changes the thresholds and
// remedies it names — a site changes one threshold, one timeout or one
// snippet without copying the rest.
func Load(fsys fs.FS, overrideDir string) (*Set, error) {
	embedded, err := readFiles(fsys, "(embedded)")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	where := map[string]string{}
	for name, b := range embedded.yaml {
		files[name], where[name] = b, "(embedded)/"+name
	}
	set := &Set{Playbooks: map[string]*Playbook{}, Source: "embedded"}
	var overlay *source
	if overrideDir != "" {
		st, err := os.Stat(overrideDir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--playbooks %s: not a readable directory", overrideDir)
		}
		if overlay, err = readFiles(os.DirFS(overrideDir), overrideDir); err != nil {
			return nil, err
		}
		set.Source = overrideDir
	}
	books, err := resolve(embedded, overlay, overrideDir)
	if err != nil {
		return nil, err
	}
	for _, p := range books {
		if old, dup := set.Playbooks[p.OS]; dup {
			return nil, fmt.Errorf("%s: os %q is already covered by %s", p.file, p.OS, old.file)
		}
		set.Playbooks[p.OS] = p
	}
	// A host of unknown OS gets one script holding every POSIX playbook,
	// run by the first one's command: they must agree on it.
	if unix := set.Unix(); len(unix) > 1 {
		for _, b := range unix[1:] {
			if b.Exec != unix[0].Exec || !sameMap(b.Become, unix[0].Become) {
				return nil, fmt.Errorf("%s: exec and become must be the same in every POSIX playbook (they are in %s): set them in posix.yaml", b.file, unix[0].file)
			}
		}
	}
	base, ok := files["causes.yaml"]
	if !ok {
		return nil, fmt.Errorf("playbooks: causes.yaml is missing")
	}
	c, err := mergeCauses(nil, where["causes.yaml"], base)
	if err != nil {
		return nil, err
	}
	if b, ok := overlay.yamlFile("causes.yaml"); ok {
		file := filepath.Join(overrideDir, "causes.yaml")
		if c, err = mergeCauses(c, file, b); err != nil {
			return nil, err
		}
	}
	if err := c.validate(where["causes.yaml"]); err != nil {
		return nil, err
	}
	set.Causes = c
	if len(set.Playbooks) == 0 {
		return nil, fmt.Errorf("playbooks: no playbook found")
	}
	return set, nil
}

// source is one place playbooks come from (the embedded files, a site's
// --playbooks directory): its YAML files by name, and its check scripts
// by "DIR/FILE" (posix/dns.resolve.sh).
type source struct {
	where   string
	yaml    map[string][]byte
	scripts map[string][]byte
	used    map[string]bool // scripts a playbook read
}

func (s *source) yamlFile(name string) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	b, ok := s.yaml[name]
	return b, ok
}

// readFiles reads every *.yaml in f, and the *.sh and *.ps1 files of its
// directories (one level: the scripts of a playbook). Entries that are
// not regular files (a FIFO, a device) and files over MaxFileBytes are
// refused by name.
func readFiles(f fs.FS, where string) (*source, error) {
	src := &source{where: where, yaml: map[string][]byte{}, scripts: map[string][]byte{}, used: map[string]bool{}}
	entries, err := fs.ReadDir(f, ".")
	if err != nil {
		return nil, fmt.Errorf("playbooks: cannot list %s: %w", where, err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") && !e.IsDir() {
			b, err := readRegular(f, e.Name(), where)
			if err != nil {
				return nil, err
			}
			src.yaml[e.Name()] = b
			continue
		}
		if !e.IsDir() || !idPattern.MatchString(e.Name()) {
			continue
		}
		files, err := fs.ReadDir(f, e.Name())
		if err != nil {
			return nil, fmt.Errorf("playbooks: cannot list %s: %w", filepath.Join(where, e.Name()), err)
		}
		for _, sf := range files {
			if !strings.HasSuffix(sf.Name(), ".sh") && !strings.HasSuffix(sf.Name(), ".ps1") {
				continue
			}
			name := e.Name() + "/" + sf.Name()
			b, err := readRegular(f, name, where)
			if err != nil {
				return nil, err
			}
			src.scripts[name] = b
		}
	}
	return src, nil
}

// readRegular reads one regular file of f, at most MaxFileBytes.
func readRegular(f fs.FS, name, where string) ([]byte, error) {
	path := filepath.Join(where, name)
	st, err := fs.Stat(f, name) // follows a symlink to what it names
	if err != nil {
		return nil, fmt.Errorf("playbooks: %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("playbooks: %s is not a regular file (%s): remove it or replace it with the file itself", path, st.Mode().Type())
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("playbooks: %s is %d bytes, over the %d-byte limit for a playbook file", path, st.Size(), MaxFileBytes)
	}
	b, err := fs.ReadFile(f, name)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %s: %w", path, err)
	}
	return b, nil
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

// compile validates a resolved playbook and prepares its patterns.
func compile(p *Playbook) (*Playbook, error) {
	file := p.file
	if p.ID == "" || (p.OS == "" && !p.Abstract) {
		return nil, fmt.Errorf("%s: id: and os: are required", file)
	}
	for _, v := range []string{p.ID, p.OS} {
		if v != "" && !idPattern.MatchString(v) {
			return nil, fmt.Errorf("%s: %q: id and os are lower-case letters, digits, '.', '_' or '-'", file, v)
		}
	}
	// an abstract base without a shell (checks.yaml) defines what the
	// checks are, not how they run: no shell, exec or code to check
	described := p.Abstract && p.Shell == ""
	switch {
	case described:
	case p.Shell != "posix" && p.Shell != "powershell":
		return nil, fmt.Errorf("%s: shell: %q must be posix or powershell", file, p.Shell)
	case p.Exec == "":
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
		if seen[c.ID] {
			return nil, fmt.Errorf("%s:%d: check %q is defined twice", c.file, c.line, c.ID)
		}
		seen[c.ID] = true
		if err := c.compile(i, !described); err != nil {
			return nil, err
		}
	}
	for name := range p.Params {
		if !paramPattern.MatchString(name) {
			return nil, fmt.Errorf("%s: params: %q must be lower-case letters, digits and '_' (it becomes the shell variable WO_%s)", file, name, strings.ToUpper(name))
		}
	}
	return p, nil
}

// compile validates check number i and prepares its fact rules and
// judgements.
func (c *Check) compile(i int, needRun bool) error {
	file := c.file
	if !idPattern.MatchString(c.ID) {
		return fmt.Errorf("%s:%d: check %d: id %q must be lower-case letters, digits, '.', '_' or '-'", file, c.line, i+1, c.ID)
	}
	if c.Lane != "" && (c.InShell || !paramPattern.MatchString(c.Lane)) {
		return fmt.Errorf("%s:%d: check %q: lane %q: a lane is a lower-case name, and a check in one runs in its lane's shell, not in_shell", file, c.line, c.ID, c.Lane)
	}
	for v, key := range c.Exports {
		if c.Lane == "" || !exportVar.MatchString(v) || !paramPattern.MatchString(key) {
			return fmt.Errorf("%s:%d: check %q: exports %q: only a check in a lane exports, to WO_UPPER_CASE variables", file, c.line, c.ID, v)
		}
	}
	if needRun && strings.TrimSpace(c.Run) == "" {
		return fmt.Errorf("%s:%d: check %q: no code: give it a file %s.sh (POSIX) or %s.ps1 (PowerShell) in the playbook's scripts: directory, or run:", file, c.line, c.ID, c.ID, c.ID)
	}
	for j := range c.Facts {
		r := &c.Facts[j]
		if err := r.compile(); err != nil {
			return fmt.Errorf("%s:%d: check %q: fact %q: %v", r.file, r.line, c.ID, r.Name, err)
		}
	}
	c.passIf = map[string]*regexp.Regexp{}
	for fact, pat := range c.PassIf {
		if !c.produces(fact) {
			return fmt.Errorf("%s:%d: check %q: pass_if %s: the check has no fact rule for %s", file, c.line, c.ID, fact, fact)
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			return fmt.Errorf("%s:%d: check %q: pass_if %s: %v", file, c.line, c.ID, fact, err)
		}
		c.passIf[fact] = re
	}
	return nil
}

var (
	paramPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	exportVar    = regexp.MustCompile(`^WO_[A-Z][A-Z0-9_]{0,31}$`)
)

// produces reports whether one of the check's rules sets fact.
func (c *Check) produces(fact string) bool {
	for _, r := range c.Facts {
		if r.Name == fact {
			return true
		}
	}
	return false
}

// Produces reports whether some check of the playbook sets fact (the
// evaluator's own facts count too).
func (p *Playbook) Produces(fact string) bool {
	if s, ok := facts.Lookup(fact); ok && s.Builtin {
		return true
	}
	return p.producer(fact) != nil
}

func (r *FactRule) compile() error {
	spec, ok := facts.Lookup(r.Name)
	if !ok {
		return fmt.Errorf("no such fact in the catalogue (internal/facts/catalog.go): a rule reads facts by name, so a new or renamed fact is declared there first")
	}
	if spec.Builtin {
		return fmt.Errorf("is set by whyoffline itself, not by a playbook")
	}
	r.spec = spec
	if (spec.Kind == facts.List) != r.All {
		if r.All {
			return fmt.Errorf("all: true makes a list, but the catalogue declares a %s fact", spec.Kind)
		}
		return fmt.Errorf("the catalogue declares a list fact: set all: true")
	}
	if r.Bool && spec.Kind != facts.Bool {
		return fmt.Errorf("bool: true makes a bool, but the catalogue declares a %s fact", spec.Kind)
	}
	for from, to := range r.Map {
		if err := spec.Check(to); err != nil {
			return fmt.Errorf("map %q: %v", from, err)
		}
	}
	if r.Default != "" {
		if err := spec.Check(r.Default); err != nil {
			return fmt.Errorf("default: %v", err)
		}
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

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
