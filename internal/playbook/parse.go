package playbook

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// Caps on what one check's output may cost in the report and in facts.
const (
	MaxShownRunes = 2000 // one check's output kept in the report
	MaxListValues = 50   // values of one list fact
	MaxFactRunes  = 512  // one fact value
)

// What a check that gave no evidence shows instead of its output.
const (
	notFinished    = "check did not finish (deadline or output cut short)"
	printedNothing = "check printed nothing: it did not run"
)

// Evaluate extracts the playbook's facts from raw and judges each check.
func (p *Playbook) Evaluate(raw *frame.Raw) (facts.Facts, []result.Check) {
	f := facts.Facts{}
	f.Set("os.name", p.OS)
	if raw.OS != "" {
		f.Set("os.kernel", raw.OS)
	}
	checks := make([]result.Check, 0, len(p.Checks))
	for i := range p.Checks {
		c := &p.Checks[i]
		sec := raw.Sections[c.ID]
		if sec == nil || !sec.Complete {
			out := ""
			if sec != nil {
				out = textsafe.Block(sec.Output, MaxShownRunes)
			}
			checks = append(checks, result.Check{ID: c.ID, Result: result.CheckError, Output: joinNonEmpty(notFinished, out)})
			continue
		}
		if strings.TrimSpace(sec.Output) == "" && len(c.Facts) > 0 {
			// Every check prints at least one line of its own when it runs;
			// an empty section is a check that did not really run (its
			// markers alone came back), never evidence of absence.
			checks = append(checks, result.Check{ID: c.ID, Result: result.CheckError, Output: printedNothing})
			continue
		}
		var bad []string
		for j := range c.Facts {
			if err := c.Facts[j].extract(sec, f); err != nil {
				bad = append(bad, err.Error())
			}
		}
		if len(bad) > 0 {
			// A value the catalogue does not know means the parser did not
			// understand the host: the fact is dropped, never guessed.
			checks = append(checks, result.Check{ID: c.ID, Result: result.CheckError,
				Output: joinNonEmpty("unexpected output: "+textsafe.Line(strings.Join(bad, "; "), 300), shown(sec.Output, c.Show))})
			continue
		}
		checks = append(checks, result.Check{ID: c.ID, Result: c.judge(f), Output: shown(sec.Output, c.Show)})
	}
	return f, checks
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + "\n" + b
}

// shown keeps the last n lines (default 20) of a check's output, cleaned.
func shown(out string, n int) string {
	if n <= 0 {
		n = 20
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return textsafe.Block(strings.Join(lines, "\n"), MaxShownRunes)
}

func (c *Check) judge(f facts.Facts) string {
	if len(c.passIf) == 0 {
		return result.CheckInfo
	}
	names := make([]string, 0, len(c.passIf))
	for n := range c.passIf {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok := f[n]
		if !ok || len(v) == 0 || v[0] == "unavailable" || v[0] == "unknown" {
			return result.CheckSkip
		}
		if !c.passIf[n].MatchString(v[0]) {
			return result.CheckFail
		}
	}
	return result.CheckPass
}

// extract applies one rule to a section and records the fact. A bool or
// enum value outside the catalogue's set is not recorded: it is returned as
// an error instead.
func (r *FactRule) extract(sec *frame.Section, f facts.Facts) error {
	var vals []string
	switch r.From {
	case "exit":
		vals = []string{strconv.Itoa(sec.Exit)}
	case "output":
		if t := strings.TrimSpace(sec.Output); t != "" {
			vals = []string{t}
		}
	case "kv":
		vals = kvValues(sec.Output, r.Key, r.All)
	case "regex":
		vals = regexValues(r.re, sec.Output, r.All)
	}
	if r.Bool {
		f.Set(r.Name, strconv.FormatBool(len(vals) > 0))
		return nil
	}
	max := r.Max
	if max <= 0 || max > MaxListValues {
		max = MaxListValues
	}
	if len(vals) > max {
		vals = vals[len(vals)-max:] // keep the newest lines of a log
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		v = textsafe.Line(v, MaxFactRunes)
		if r.Map != nil {
			v = mapValue(r.Map, v)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		if r.Default == "" {
			return nil
		}
		out = []string{r.Default}
	}
	if k := r.spec.Kind; k == facts.Enum || k == facts.Bool {
		for _, v := range out {
			if err := r.spec.Check(v); err != nil {
				return err
			}
		}
	}
	f[r.Name] = out
	return nil
}

func mapValue(m map[string]string, v string) string {
	if x, ok := m[v]; ok {
		return x
	}
	if x, ok := m[strings.ToLower(v)]; ok {
		return x
	}
	if x, ok := m["*"]; ok {
		return x
	}
	return v
}

// kvValues reads "key=value" or "key: value" lines.
func kvValues(out, key string, all bool) []string {
	var vals []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := cutKV(line)
		if !ok || k != key {
			continue
		}
		vals = append(vals, strings.TrimSpace(v))
		if !all {
			break
		}
	}
	return vals
}

func cutKV(line string) (string, string, bool) {
	i := strings.IndexAny(line, "=:")
	if i <= 0 {
		return "", "", false
	}
	return strings.TrimSpace(line[:i]), line[i+1:], true
}

func regexValues(re *regexp.Regexp, out string, all bool) []string {
	n := 1
	if all {
		n = -1
	}
	var vals []string
	for _, m := range re.FindAllStringSubmatch(out, n) {
		if len(m) > 1 {
			vals = append(vals, m[1])
		} else {
			vals = append(vals, m[0])
		}
	}
	return vals
}

// NoVerdict reports whether a value says its check could not tell
// ("unavailable": no tool or no input; "unknown": no answer).
func NoVerdict(v string) bool { return v == "unavailable" || v == "unknown" }

// Unverified lists the checks that produce a decisive fact but gave no
// verdict for it: the check did not finish, or (a scalar fact) it is
// missing or says it could not tell. Each check is listed once, with the
// reason an operator can act on.
func (p *Playbook) Unverified(checks []result.Check, f facts.Facts, decisive []string) []result.Unverified {
	byID := map[string]*result.Check{}
	for i := range checks {
		byID[checks[i].ID] = &checks[i]
	}
	var out []result.Unverified
	listed := map[string]bool{}
	for _, name := range decisive {
		c := p.producer(name)
		if c == nil || listed[c.ID] {
			continue // not gathered on this OS, or already listed
		}
		got := byID[c.ID]
		reason := ""
		spec, _ := facts.Lookup(name)
		switch {
		case got == nil || (got.Result == result.CheckError && strings.HasPrefix(got.Output, notFinished)):
			reason = "did not finish"
		case got.Result == result.CheckError && got.Output == printedNothing:
			reason = "printed nothing"
		case got.Result == result.CheckError:
			reason = firstLine(got.Output)
		case spec.Kind == facts.List:
			continue // a finished check's empty list is an answer
		case !f.Has(name):
			reason = name + " was not reported"
		case NoVerdict(f.Get(name)):
			reason = name + " is " + f.Get(name)
			if why := kvValues(got.Output, "reason", false); len(why) > 0 {
				reason += ": " + why[0]
			}
		default:
			continue
		}
		listed[c.ID] = true
		out = append(out, result.Unverified{Check: c.ID, Reason: textsafe.Line(reason, 200)})
	}
	return out
}

// producer is the first check that sets fact.
func (p *Playbook) producer(fact string) *Check {
	for i := range p.Checks {
		if p.Checks[i].produces(fact) {
			return &p.Checks[i]
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
