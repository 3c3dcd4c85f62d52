package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Option is a transport's setting as the inventory gave it: the value,
// trimmed and checked by the transport's OptionSpec but not otherwise
// interpreted, and the file:line it came from so that a transport can name
// the place to fix when the value does not work for it.
type Option struct {
	Key    string `json:"-"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Options are a host's transport options in the order they were first
// set. A host has a handful: a slice costs a fraction of a map, which
// counts at 100,000 hosts.
type Options []Option

// Get returns the option key.
func (o Options) Get(key string) (Option, bool) {
	for _, x := range o {
		if x.Key == key {
			return x, true
		}
	}
	return Option{}, false
}

// MarshalJSON writes the options as an object keyed by option name.
func (o Options) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
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

// ansible returns the options an Ansible variable sets (one variable may
// carry several: ansible_ssh_common_args names a jump host or a proxy
// command).
func (s Schema) ansible(name string) []OptionSpec {
	var out []OptionSpec
	for _, o := range s {
		for _, a := range o.Ansible {
			if a == name {
				out = append(out, o)
			}
		}
	}
	return out
}

func (s Schema) keys() []string {
	out := make([]string, 0, len(s))
	for _, o := range s {
		out = append(out, o.Key)
	}
	return out
}

// Opt returns a transport option's value ("" when unset).
func (h *Host) Opt(key string) string {
	o, _ := h.Options.Get(key)
	return o.Value
}

// SetOption sets a transport option (programmatic hosts: a jump host, a
// host from the manager's list, tests). The transport checks it when it
// reads it.
func (h *Host) SetOption(key, val, source string) {
	for i := range h.Options {
		if h.Options[i].Key == key {
			h.Options[i] = Option{Key: key, Value: val, Source: source}
			return
		}
	}
	h.Options = append(h.Options, Option{Key: key, Value: val, Source: source})
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

// ReadOptions checks each of h's options that specs declare, in the
// specs' order, and hands its checked value to set; the first that does
// not check is the error, naming where it was set. A transport reads its
// options with it (the same checks for a host built in code).
func (h *Host) ReadOptions(specs []OptionSpec, set func(key, val string)) error {
	for _, spec := range specs {
		opt, ok := h.Options.Get(spec.Key)
		if !ok {
			continue
		}
		v, err := CheckOption(spec, opt)
		if err != nil {
			return err
		}
		set(spec.Key, v)
	}
	return nil
}

// CheckOption checks o against spec, for a transport reading a host's
// option; the error names the file and line it was set on.
func CheckOption(spec OptionSpec, o Option) (string, error) {
	v, err := spec.Check(strings.TrimSpace(o.Value))
	if err != nil {
		return "", fmt.Errorf("%s: %s: %q %v", o.Source, spec.Key, clip(o.Value), err)
	}
	return v, nil
}
