package inventory

import (
	"strings"
)

// renderTemplate renders the Jinja a connection variable may hold, as far
// as the inventory alone can: {{ var }} (another inventory variable,
// itself rendered), {{ inventory_hostname }}, and {{ var | default(X) }}
// with X a quoted string, a number or another variable. Anything else —
// lookups, facts, other filters — is not rendered: ok is false and the
// host is skipped rather than scanned at a wrong address.
func renderTemplate(s string, vs vars, host string) (string, bool) {
	return render(s, vs, host, 0)
}

func render(s string, vs vars, host string, depth int) (string, bool) {
	if depth > 8 {
		return "", false // a variable that refers to itself
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), !strings.Contains(s, "{%")
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return "", false
		}
		b.WriteString(s[:i])
		v, ok := expr(strings.TrimSpace(s[i+2:i+j]), vs, host, depth)
		if !ok {
			return "", false
		}
		b.WriteString(v)
		s = s[i+j+2:]
	}
}

// expr evaluates NAME or NAME | default(X).
func expr(e string, vs vars, host string, depth int) (string, bool) {
	name, filter, piped := strings.Cut(e, "|")
	name = strings.TrimSpace(name)
	if !isIdent(name) {
		return "", false
	}
	val, defined := lookupVar(name, vs, host, depth)
	if !piped {
		return val, defined
	}
	filter = strings.TrimSpace(filter)
	var arg string
	switch {
	case strings.HasPrefix(filter, "default(") && strings.HasSuffix(filter, ")"):
		arg = strings.TrimSpace(filter[len("default(") : len(filter)-1])
	case strings.HasPrefix(filter, "d(") && strings.HasSuffix(filter, ")"):
		arg = strings.TrimSpace(filter[2 : len(filter)-1])
	default:
		return "", false
	}
	if defined {
		return val, true
	}
	switch {
	case len(arg) >= 2 && (arg[0] == '\'' || arg[0] == '"') && arg[len(arg)-1] == arg[0]:
		return arg[1 : len(arg)-1], true
	case arg != "" && strings.Trim(arg, "0123456789.-") == "":
		return arg, true
	case isIdent(arg):
		return lookupVar(arg, vs, host, depth)
	}
	return "", false
}

func lookupVar(name string, vs vars, host string, depth int) (string, bool) {
	if name == "inventory_hostname" {
		return host, true
	}
	if name == "inventory_hostname_short" {
		short, _, _ := strings.Cut(host, ".")
		return short, true
	}
	v, ok := vs[name]
	if !ok {
		return "", false
	}
	if strings.Contains(v.val, "{{") {
		return render(v.val, vs, host, depth+1)
	}
	return v.val, true
}

func isIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
