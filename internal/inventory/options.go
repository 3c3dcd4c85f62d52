package inventory

import (
	"fmt"
	"strings"
)

// Option is a transport's setting as the inventory gave it: the value,
// trimmed and checked by the transport's OptionSpec but not otherwise
// interpreted, and the file:line it came from so that a transport can name
// the place to fix when the value does not work for it.
type Option struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// OptionSpec is one setting a transport takes. Transports declare their
// own (ssh.Options, winrm.Options) with the Ansible variables that set them
// and how a value is checked; the inventory knows nothing of what they
// mean, only where they were written.
type OptionSpec struct {
	Key string
	// Ansible lists the Ansible variables that set this option.
	Ansible []string
	// FromAnsible converts an Ansible variable's value into the option's
	// (nil: as is); ok false means the variable says nothing this option
	// cares about, and it is ignored.
	FromAnsible func(name, val string) (v string, ok bool)
	// Check validates and normalises a value; its error completes the
	// sentence "KEY: "VALUE" ...", e.g. "is not true or false".
	Check func(val string) (string, error)
}

// Schema is every option of every transport, as the loader accepts them.
type Schema []OptionSpec

func (s Schema) spec(key string) (OptionSpec, bool) {
	for _, o := range s {
		if o.Key == key {
			return o, true
		}
	}
	return OptionSpec{}, false
}

// ansible returns the option an Ansible variable sets.
func (s Schema) ansible(name string) (OptionSpec, bool) {
	for _, o := range s {
		for _, a := range o.Ansible {
			if a == name {
				return o, true
			}
		}
	}
	return OptionSpec{}, false
}

func (s Schema) keys() []string {
	out := make([]string, 0, len(s))
	for _, o := range s {
		out = append(out, o.Key)
	}
	return out
}

// Opt returns a transport option's value ("" when unset).
func (h *Host) Opt(key string) string { return h.Options[key].Value }

// SetOption sets a transport option (programmatic hosts: a jump host, a
// host from the manager's list, tests). The transport checks it when it
// reads it.
func (h *Host) SetOption(key, val, source string) {
	if h.Options == nil {
		h.Options = map[string]Option{}
	}
	h.Options[key] = Option{Value: val, Source: source}
}

// Values that option checks share; transports compose their specs from
// them.

// AnyText accepts any value.
func AnyText(v string) (string, error) { return v, nil }

// Boolean accepts what Ansible takes for true and false and normalises it
// to "true" or "false".
func Boolean(v string) (string, error) {
	b, ok := parseBool(v)
	if !ok {
		return "", fmt.Errorf("is not true or false")
	}
	return fmt.Sprint(b), nil
}

// OneOf accepts one of allowed, compared case-insensitively and returned
// lower-cased; what is the phrase for the error ("a WinRM transport (...)").
func OneOf(what string, allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		v = strings.ToLower(v)
		for _, a := range allowed {
			if v == a {
				return v, nil
			}
		}
		return "", fmt.Errorf("is not %s", what)
	}
}

// IsHostName reports whether v is usable as a host name or address (no
// spaces, quotes or shell metacharacters).
func IsHostName(v string) bool { return checkAddress(v) == nil }

// CheckOption checks o against spec, for a transport reading a host's
// option; the error names the file and line it was set on.
func CheckOption(spec OptionSpec, o Option) (string, error) {
	v, err := spec.Check(strings.TrimSpace(o.Value))
	if err != nil {
		return "", fmt.Errorf("%s: %s: %q %v", o.Source, spec.Key, clip(o.Value), err)
	}
	return v, nil
}
