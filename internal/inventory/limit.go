package inventory

import (
	"fmt"
	"path"
	"strings"
)

// Limit selects hosts with an Ansible-style pattern: names, groups and
// globs separated by ',' or ':'; "&x" keeps only hosts also matching x,
// "!x" drops hosts matching x. "all" and "*" match every host.
func Limit(hosts []*Host, pattern string) ([]*Host, error) {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return hosts, nil
	}
	var include, require, exclude []string
	for _, p := range strings.FieldsFunc(pattern, func(r rune) bool { return r == ',' || r == ':' }) {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.HasPrefix(p, "!"):
			exclude = append(exclude, p[1:])
		case strings.HasPrefix(p, "&"):
			require = append(require, p[1:])
		default:
			include = append(include, p)
		}
	}
	for _, p := range append(append(append([]string{}, include...), require...), exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--limit: %q is not a valid pattern: %v", clip(p), err)
		}
	}
	if len(include) == 0 {
		include = []string{"all"}
	}
	var out []*Host
	for _, h := range hosts {
		if matchAny(h, include) && matchAll(h, require) && !matchAny(h, exclude) {
			out = append(out, h)
		}
	}
	return out, nil
}

func matchAny(h *Host, pats []string) bool {
	for _, p := range pats {
		if matchOne(h, p) {
			return true
		}
	}
	return false
}

func matchAll(h *Host, pats []string) bool {
	for _, p := range pats {
		if !matchOne(h, p) {
			return false
		}
	}
	return true
}

func matchOne(h *Host, p string) bool {
	if p == "all" || p == "*" {
		return true
	}
	if glob(p, h.Name) || glob(p, h.Address) {
		return true
	}
	for _, g := range h.Groups {
		if glob(p, g) {
			return true
		}
	}
	return false
}

func glob(p, s string) bool {
	ok, _ := path.Match(p, s)
	return ok
}
