// Package facts is the vocabulary between playbooks and diagnosis: named
// values extracted from a host's check output (agent.process, dns.result,
// port.result, ...), each a list of strings. Playbooks say how a fact is read
// on each OS; diagnose reads facts without knowing which OS produced them.
package facts

import (
	"strconv"
	"strings"
)

// Facts maps a fact name to its values (one value for a scalar fact).
type Facts map[string][]string

// Set records a scalar fact.
func (f Facts) Set(name, value string) { f[name] = []string{value} }

// Has reports whether the fact was extracted at all.
func (f Facts) Has(name string) bool { _, ok := f[name]; return ok }

// Get returns the first value of a fact, or "".
func (f Facts) Get(name string) string {
	if v := f[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// List returns every value of a fact.
func (f Facts) List(name string) []string { return f[name] }

// Is reports whether the fact's first value equals one of want.
func (f Facts) Is(name string, want ...string) bool {
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return false
	}
	for _, w := range want {
		if v[0] == w {
			return true
		}
	}
	return false
}

// Bool returns the fact as a boolean and whether it was known.
func (f Facts) Bool(name string) (value, known bool) {
	switch strings.ToLower(f.Get(name)) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// Float returns the fact as a number and whether it parsed.
func (f Facts) Float(name string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(f.Get(name)), 64)
	return v, err == nil
}

// Int returns the fact as an integer and whether it parsed.
func (f Facts) Int(name string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(f.Get(name)), 10, 64)
	return v, err == nil
}

// Reader is how rules read facts. Facts implements it; tests wrap it to
// see which facts a rule really reads.
type Reader interface {
	Has(name string) bool
	Get(name string) string
	List(name string) []string
	Is(name string, want ...string) bool
	Bool(name string) (value, known bool)
	Float(name string) (float64, bool)
	Int(name string) (int64, bool)
}
