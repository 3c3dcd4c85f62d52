package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
)

// Cause is everything whyoffline knows about one cause of the contract, in
// one place: each lives in a cause_*.go file of its own that registers it.
// Adding a cause is adding such a file (plus the playbook rules that
// gather the facts it reads).
type Cause struct {
	ID    string // from the contract; never renamed
	Title string
	// Rank orders causes: when a host has several, the lowest rank is the
	// primary one. A host that is off explains everything; a missing or
	// stopped agent explains more than the network; the network more than
	// the clock. The one ordering there is — report groups use it too.
	Rank int
	// Fleet findings are about the run, not one host.
	Fleet bool
	// OS lists the operating systems the rule can fire on (nil: every OS).
	OS []string
	// Applies, if set, says whether the run's options ask for this cause
	// at all (off-network needs --corporate-networks); a cause that does
	// not apply needs nothing verified.
	Applies func(*Options) bool
	// Needs are the facts the verdict depends on: without them the rule
	// cannot say whether the cause is there. Uses are facts that only add
	// evidence or pick wording. A test holds every rule to reading nothing
	// else, and every playbook of an OS in OS to producing both.
	Needs, Uses []string
	// NeedsWhen adds facts the verdict depends on only given what the
	// host reported (an agent proxy makes the proxy's test decisive). It
	// reads facts declared in Needs or Uses; what it returns must be in
	// Uses.
	NeedsWhen func(facts.Reader) []string
	// Supersedes names causes this one explains when both are found
	// (a Solaris upgrade trap is also a stopped agent; it says more).
	Supersedes []string
	// Rule judges one host; nil for causes decided outside the host's
	// checks (host-unreachable) and for fleet findings.
	Rule func(*Input, *Options) *Finding
	// FleetRule judges the whole run (fleet findings only).
	FleetRule func(*FleetInput, *Options) []result.Finding
	// Remedy is a text/template over RemedyVars; RemedyOS overrides it for
	// one OS. A site overlay (causes.yaml) may replace either.
	Remedy   string
	RemedyOS map[string]string
}

// Finding is what a rule found on one host.
type Finding struct {
	Confidence result.Confidence
	Evidence   []string
	Detail     string // goes into the remedy template as {{.Detail}}
	Via        string // goes in as {{.Via}}: the proxy the agent goes through
}

// RemedyVars are the values a remedy template may use.
type RemedyVars struct {
	Manager   string
	Port      int
	AgentPort int
	Host      string
	Detail    string // cause-specific hint (the firewall rule, the figures)
	Via       string // the agent's proxy, when its path to the manager goes through one
}

// registry holds every cause. Cause files add to it from init functions;
// after package initialisation nothing writes to it, so reading it needs
// no lock (the way image.RegisterFormat and database/sql drivers work).
var registry = map[string]*Cause{}

func register(c Cause) {
	if _, dup := registry[c.ID]; dup {
		panic("diagnose: cause " + c.ID + " registered twice") // a programming error, caught by every test run
	}
	registry[c.ID] = &c
}

// Causes returns every registered cause in rank order.
func Causes() []*Cause {
	out := make([]*Cause, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rank < out[j].Rank })
	return out
}

// Lookup returns a registered cause.
func Lookup(id string) (*Cause, bool) {
	c, ok := registry[id]
	return c, ok
}

// Rank is the primary-cause rank of id; unknown IDs rank last.
func Rank(id string) int {
	if c, ok := registry[id]; ok {
		return c.Rank
	}
	return 1 << 30
}

// AppliesTo reports whether the cause's rule can fire on os.
func (c *Cause) AppliesTo(os string) bool {
	if len(c.OS) == 0 {
		return true
	}
	for _, o := range c.OS {
		if o == os {
			return true
		}
	}
	return false
}

// Remedies renders remedy text: each cause's own template, unless the site's
// causes.yaml replaces it.
type Remedies struct {
	templates map[string]*template.Template // id, or id@os
}

// NewRemedies compiles every cause's remedy with the site overrides from
// causes.yaml applied. An override for a cause that does not exist, or one
// that leaves a cause without a remedy, is an error naming the file and
// line.
func NewRemedies(over *playbook.Causes) (*Remedies, error) {
	r := &Remedies{templates: map[string]*template.Template{}}
	file := "causes.yaml"
	var texts map[string]playbook.CauseText
	if over != nil {
		file = over.File
		texts = over.Overrides()
	}
	for id, t := range texts {
		if _, ok := registry[id]; !ok {
			return nil, fmt.Errorf("%s:%d: %s: no such cause (known: %s)", file, t.Line, id, strings.Join(ids(), ", "))
		}
		if t.RemedySet && strings.TrimSpace(t.Remedy) == "" {
			return nil, fmt.Errorf("%s:%d: %s: remedy: is empty; every cause needs a remedy (leave the key out to keep the built-in one)", file, t.Line, id)
		}
		for os, text := range t.RemedyOS {
			if strings.TrimSpace(text) == "" {
				return nil, fmt.Errorf("%s:%d: %s: remedy_os %s: is empty", file, t.Line, id, os)
			}
		}
	}
	for _, c := range Causes() {
		remedy, byOS := c.Remedy, map[string]string{}
		for os, text := range c.RemedyOS {
			byOS[os] = text
		}
		if t, ok := texts[c.ID]; ok {
			if t.RemedySet {
				remedy = t.Remedy
				if len(t.RemedyOS) == 0 {
					byOS = map[string]string{} // a site's one wording replaces every built-in one
				}
			}
			for os, text := range t.RemedyOS {
				byOS[os] = text
			}
		}
		if err := r.add(c.ID, remedy); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", file, c.ID, err)
		}
		for os, text := range byOS {
			if err := r.add(c.ID+"@"+os, text); err != nil {
				return nil, fmt.Errorf("%s: %s (%s): %v", file, c.ID, os, err)
			}
		}
	}
	return r, nil
}

func (r *Remedies) add(key, text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("no remedy")
	}
	t, err := template.New(key).Option("missingkey=error").Parse(text)
	if err != nil {
		return err
	}
	// Render once with sample values so a template that fails at run time
	// (a field RemedyVars lacks) fails here, at load.
	if err := t.Execute(&strings.Builder{}, RemedyVars{Manager: "m", Port: 1, AgentPort: 2, Host: "h", Detail: "d", Via: "p:3128"}); err != nil {
		return err
	}
	r.templates[key] = t
	return nil
}

// Render returns the remedy for cause id on os, in one line.
func (r *Remedies) Render(id, os string, v RemedyVars) string {
	if r == nil {
		return ""
	}
	t := r.templates[id+"@"+os]
	if t == nil {
		t = r.templates[id]
	}
	if t == nil {
		return ""
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return ""
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func ids() []string {
	var out []string
	for _, c := range Causes() {
		out = append(out, c.ID)
	}
	return out
}

// Decisive returns the facts a verdict on a host of os depends on under o
// (and, with f, given what the host reported):
// every fact that some cause applying there needs. A host is healthy only
// when the checks that produce them all gave a verdict.
func Decisive(os string, o *Options, f facts.Reader) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range Causes() {
		if c.Rule == nil || !c.AppliesTo(os) || (c.Applies != nil && !c.Applies(o)) {
			continue
		}
		needs := c.Needs
		if c.NeedsWhen != nil && f != nil {
			needs = append(append([]string(nil), needs...), c.NeedsWhen(f)...)
		}
		for _, n := range needs {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
