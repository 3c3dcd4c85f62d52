package inventory

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
)

// parseINI reads an Ansible INI inventory; a plain host list (one host a
// line, optionally user@host:port) is the same format without sections.
func parseINI(file string, data []byte) (*source, error) {
	src := newSource(file, true)
	src.group("all", 0)
	section, kind := "ungrouped", "hosts"
	src.group("ungrouped", 0)
	src.groups["all"].children = append(src.groups["all"].children, "ungrouped")
	for i, raw := range strings.Split(string(data), "\n") {
		ln := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && !isBracketedIP(line) {
			var err error
			if section, kind, err = sectionHeader(src, line, ln); err != nil {
				return nil, err
			}
			continue
		}
		g := src.groups[section]
		switch kind {
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, errorf(file, ln, "in [%s:vars], %q should be key=value", clip(section), clipLine(line))
			}
			g.vars[strings.TrimSpace(k)] = varValue{val: varsValue(strings.TrimSpace(v)), line: ln}
		case "children":
			// a child's name, and a comment after it if any
			if i := strings.IndexByte(line, '#'); i > 0 {
				line = strings.TrimSpace(line[:i])
			}
			if err := checkGroupName(line); err != nil {
				return nil, errorf(file, ln, "child group name %v", err)
			}
			g.children = append(g.children, line)
		default:
			if err := parseHostLine(src, g, line, ln); err != nil {
				return nil, err
			}
		}
	}
	// [group:children] may name a group defined only by its children
	// section; make sure every child exists, creating empty ones.
	for _, name := range slices.Sorted(maps.Keys(src.groups)) {
		for _, c := range src.groups[name].children {
			if _, ok := src.groups[c]; !ok {
				src.group(c, src.groups[name].line)
			}
		}
	}
	return src, nil
}

// sectionHeader reads "[group]", "[group:vars]" or "[group:children]",
// a comment allowed after it as Ansible does ([web]  # frontends), and
// makes sure the group exists under all.
func sectionHeader(src *source, line string, ln int) (section, kind string, err error) {
	if end := strings.IndexByte(line, ']'); end > 0 {
		if rest := strings.TrimSpace(line[end+1:]); rest == "" || rest[0] == '#' || rest[0] == ';' {
			line = line[:end+1]
		}
	}
	if !strings.HasSuffix(line, "]") {
		return "", "", errorf(src.file, ln, "section header %q has no closing ']'", clip(line))
	}
	name := strings.TrimSpace(line[1 : len(line)-1])
	section, kind = name, "hosts"
	if n, k, ok := strings.Cut(name, ":"); ok {
		section, kind = n, k
		if kind != "vars" && kind != "children" {
			return "", "", errorf(src.file, ln, "section [%s]: ':%s' is not a section kind; use [group], [group:vars] or [group:children]", clip(name), clip(kind))
		}
	}
	if err := checkGroupName(section); err != nil {
		return "", "", errorf(src.file, ln, "group name %v", err)
	}
	src.group(section, ln)
	if section != "all" && section != "ungrouped" && !contains(src.groups["all"].children, section) {
		src.groups["all"].children = append(src.groups["all"].children, section)
	}
	return section, kind, nil
}

func parseHostLine(src *source, g *group, line string, ln int) error {
	fields, err := splitFields(line)
	if err != nil {
		return errorf(src.file, ln, "%v", err)
	}
	hostPart := fields[0]
	vs := vars{}
	// user@host keeps its whole as the host's name, as in Ansible; ssh
	// takes the user from it (ansibleHost)
	// (Ansible reads no port after user@: the name stays whole, and
	// whyoffline, for plain host lists, dials the port it gives)
	if u, rest, ok := strings.Cut(hostPart, "@"); ok {
		if err := checkUser(u); err != nil {
			return errorf(src.file, ln, "user %v", err)
		}
		if _, p, ok := splitHostPort(rest); ok {
			if _, valid := parsePort(p); !valid {
				return errorf(src.file, ln, "port %q of %q is not a number from 1 to 65535", clip(p), clip(hostPart))
			}
			vs["ansible_port"] = varValue{val: p, line: ln}
		}
	} else if h, p, ok := splitHostPort(hostPart); ok {
		if _, valid := parsePort(p); !valid {
			return errorf(src.file, ln, "port %q of %q is not a number from 1 to 65535", clip(p), clip(hostPart))
		}
		hostPart = h
		vs["ansible_port"] = varValue{val: p, line: ln}
	}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return errorf(src.file, ln, "%q after the host name should be key=value (host vars), e.g. ansible_host=10.0.0.5", clipLine(f))
		}
		vs[k] = varValue{val: unquote(v), line: ln}
	}
	names, err := expandHosts(hostPart, src.budget)
	if err != nil {
		return errorf(src.file, ln, "%v", err)
	}
	for _, n := range names {
		if err := checkHostName(n); err != nil {
			return errorf(src.file, ln, "host name %v", err)
		}
		g.hosts = append(g.hosts, &hostEntry{name: n, line: ln, vars: vs})
	}
	return nil
}

// splitHostPort splits "host:port" but leaves bare IPv6 addresses and
// ranges like web[01:10] alone.
func splitHostPort(s string) (string, string, bool) {
	if strings.HasPrefix(s, "[") && strings.Contains(s, "]:") {
		h, p, err := net.SplitHostPort(s)
		return h, p, err == nil
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.LastIndexByte(s, ']') > i { // none, or a range's colon
		return s, "", false
	}
	if strings.Count(s, ":") != 1 {
		// a range before a port (web[01:03]:2222); anything else with
		// several colons is an IPv6 address
		if !strings.Contains(s[:i], "]") || strings.Trim(s[i+1:], "0123456789") != "" {
			return s, "", false
		}
	}
	return s[:i], s[i+1:], true
}

// splitFields splits on whitespace, honouring single and double quotes.
func splitFields(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	inField := false
	for _, r := range line {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
			inField = true
			cur.WriteRune(r)
		case r == ' ' || r == '\t':
			if inField {
				out = append(out, cur.String())
				cur.Reset()
				inField = false
			}
		case r == '#':
			// outside quotes a '#' starts a comment, even mid-word: the
			// rest of the line is not Ansible's (shlex with comments)
			goto done
		default:
			inField = true
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, clipLine(line))
	}
done:
	if inField {
		out = append(out, cur.String())
	}
	return out, nil
}

// varsValue reads a [group:vars] value as Ansible does (it evaluates the
// text as a Python literal): a quoted string followed only by a comment
// is the string — ansible_password='s3cret'  # rotate is s3cret — and
// anything else is taken as written.
func varsValue(v string) string {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			rest := strings.TrimSpace(v[end+2:])
			if rest == "" || rest[0] == '#' {
				return unquote(v[:end+2])
			}
		}
	}
	return unquote(v)
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
		return v[1 : len(v)-1]
	}
	return v
}

func checkGroupName(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return fmt.Errorf("%q has %q; group names are letters, digits, '_', '-' and '.'", clip(s), r)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isBracketedIP tells "[2001:db8::1]:22" (a host) from "[group]".
func isBracketedIP(line string) bool {
	end := strings.IndexByte(line, ']')
	return end > 0 && net.ParseIP(line[1:end]) != nil
}
