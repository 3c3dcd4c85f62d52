package inventory

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ownTopKeys are the top-level keys of whyoffline's own format.
var ownTopKeys = map[string]bool{"manager": true, "defaults": true, "groups": true, "hosts": true}

func parseYAML(file string, data []byte) (*source, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, errorf(file, 0, "is empty: no hosts defined")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errorf(file, root.Line, "should be a mapping (manager:, defaults:, groups:, hosts: — or Ansible's all:), not a %s", kindName(root))
	}
	own := true
	for i := 0; i < len(root.Content); i += 2 {
		if !ownTopKeys[root.Content[i].Value] {
			own = false
		}
	}
	if own && ansibleGroupNamedHosts(root) {
		own = false
	}
	if own {
		return parseOwnYAML(file, root)
	}
	return parseAnsibleYAML(file, root)
}

func yamlError(file string, err error) error {
	// yaml.v3 says "yaml: line N: ..."; lift the line into our format.
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if ln, e := strconv.Atoi(n); e == nil {
				return errorf(file, ln, "YAML syntax: %s", strings.TrimSpace(tail))
			}
		}
	}
	return errorf(file, 0, "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// pairs iterates a mapping node's key/value pairs, as YAML means them: a
// merge key (<<: *defaults, or a list of aliases) contributes its
// mapping's pairs first, so the mapping's own keys win; an alias value
// (web02: *web01) is the node it names.
func pairs(n *yaml.Node, fn func(k, v *yaml.Node) error) error {
	return mergedPairs(deref(n), fn, 0)
}

func mergedPairs(n *yaml.Node, fn func(k, v *yaml.Node) error, depth int) error {
	if depth > 16 {
		return nil // merges nest no deeper in real files; a cycle ends here
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value != "<<" || k.Tag != "!!merge" {
			continue
		}
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			// earlier maps in the list win: apply them last
			merged = merged[:0]
			for j := len(v.Content) - 1; j >= 0; j-- {
				merged = append(merged, deref(v.Content[j]))
			}
		}
		for _, m := range merged {
			if m.Kind == yaml.MappingNode {
				if err := mergedPairs(m, fn, depth+1); err != nil {
					return err
				}
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			continue
		}
		if err := fn(k, deref(n.Content[i+1])); err != nil {
			return err
		}
	}
	return nil
}

// deref is the node an alias names (n itself otherwise).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// vaulted is the vaulted text of a !vault scalar, or of the
// {"__ansible_vault": TEXT} mapping ansible-inventory --list writes for
// one.
func vaulted(n *yaml.Node) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!vault" {
		return n.Value, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "__ansible_vault" && n.Content[1].Kind == yaml.ScalarNode {
		return n.Content[1].Value, true
	}
	return "", false
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "" && n.Style == 0))
}

// readVars reads a mapping of settings. strict: every value must be a
// single value (own format); lax: non-scalar values are skipped (Ansible
// inventories carry application data whyoffline has no use for).
func readVars(file string, n *yaml.Node, strict bool) (vars, error) {
	vs := vars{}
	if isNull(n) {
		return vs, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, errorf(file, n.Line, "settings should be a mapping (key: value), not a %s", kindName(n))
	}
	err := pairs(n, func(k, v *yaml.Node) error {
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if text, ok := vaulted(v); ok {
			// sealed until a setting whyoffline reads needs it
			vs[k.Value] = varValue{vault: text, line: v.Line}
			return nil
		}
		if v.Kind != yaml.ScalarNode {
			if strict {
				return errorf(file, v.Line, "%s: should be a single value, not a %s", clip(k.Value), kindName(v))
			}
			return nil
		}
		vs[k.Value] = varValue{val: v.Value, line: v.Line}
		return nil
	})
	return vs, err
}

// parseOwnYAML reads whyoffline's own format (see inventory/README.md).
func parseOwnYAML(file string, root *yaml.Node) (*source, error) {
	src := newSource(file, false)
	all := src.group("all", root.Line)
	err := pairs(root, func(k, v *yaml.Node) error {
		switch k.Value {
		case "manager":
			return readManager(file, v, &src.manager)
		case "defaults":
			vs, err := readVars(file, v, true)
			src.defaults = vs
			return err
		case "hosts":
			return readOwnHosts(file, v, all)
		case "groups":
			if isNull(v) {
				return nil
			}
			if v.Kind != yaml.MappingNode {
				return errorf(file, v.Line, "groups: should map group names to {vars, hosts, children}")
			}
			return pairs(v, func(gk, gv *yaml.Node) error {
				if err := checkGroupName(gk.Value); err != nil {
					return errorf(file, gk.Line, "group name %v", err)
				}
				if gk.Value == "all" {
					return errorf(file, gk.Line, "group \"all\" is implicit; put settings for every host under defaults:")
				}
				g := src.group(gk.Value, gk.Line)
				all.children = append(all.children, g.name)
				if isNull(gv) {
					return nil
				}
				if gv.Kind != yaml.MappingNode {
					return errorf(file, gv.Line, "group %q: should be a mapping with vars:, hosts: and children:", clip(gk.Value))
				}
				return pairs(gv, func(ek, ev *yaml.Node) error {
					switch ek.Value {
					case "vars":
						vs, err := readVars(file, ev, true)
						g.vars = vs
						return err
					case "hosts":
						return readOwnHosts(file, ev, g)
					case "children":
						return readNameList(file, ev, func(name string, line int) error {
							if err := checkGroupName(name); err != nil {
								return errorf(file, line, "child group name %v", err)
							}
							g.children = append(g.children, name)
							return nil
						})
					default:
						return errorf(file, ek.Line, "group %q: unknown key %q; a group has vars:, hosts: and children:", clip(gk.Value), clip(ek.Value))
					}
				})
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(src.groups)) {
		for _, c := range src.groups[name].children {
			if _, ok := src.groups[c]; !ok {
				return nil, errorf(file, src.groups[name].line, "group %q lists child group %q, which is not defined under groups:", clip(name), clip(c))
			}
		}
	}
	return src, nil
}

func readManager(file string, n *yaml.Node, m *Manager) error {
	vs, err := readVars(file, n, true)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		v := vs[k]
		switch k {
		case "host":
			if err := checkAddress(v.val); err != nil {
				return errorf(file, v.line, "manager host %v", err)
			}
			m.Host = v.val
		case "port":
			p, ok := parsePort(v.val)
			if !ok {
				return errorf(file, v.line, "manager port %q is not a number from 1 to 65535", clip(v.val))
			}
			m.Port = p
		case "mode":
			switch v.val {
			case "agent-initiated", "manager-initiated", "bidirectional":
				m.Mode = v.val
			default:
				return errorf(file, v.line, "manager mode %q: use agent-initiated, manager-initiated or bidirectional", clip(v.val))
			}
		default:
			return errorf(file, v.line, "manager: unknown key %q; it has host:, port: and mode:", clip(k))
		}
	}
	return nil
}

// readOwnHosts accepts a mapping (name: {settings} or name: null) or a list
// (names, or mappings with name: and settings).
func readOwnHosts(file string, n *yaml.Node, g *group) error {
	add := func(name string, line int, settings *yaml.Node) error {
		vs, err := readVars(file, settings, true)
		if err != nil {
			return err
		}
		names, err := expandHosts(name, g.budget)
		if err != nil {
			return errorf(file, line, "%v", err)
		}
		for _, nm := range names {
			if err := checkAddress(nm); err != nil {
				return errorf(file, line, "host name %v", err)
			}
			g.hosts = append(g.hosts, &hostEntry{name: nm, line: line, vars: vs})
		}
		return nil
	}
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.MappingNode:
		return pairs(n, func(k, v *yaml.Node) error { return add(k.Value, k.Line, v) })
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			switch item.Kind {
			case yaml.ScalarNode:
				if err := add(item.Value, item.Line, nil); err != nil {
					return err
				}
			case yaml.MappingNode:
				var name string
				rest := &yaml.Node{Kind: yaml.MappingNode}
				_ = pairs(item, func(k, v *yaml.Node) error {
					if k.Value == "name" {
						name = v.Value
					} else {
						rest.Content = append(rest.Content, k, v)
					}
					return nil
				})
				if name == "" {
					return errorf(file, item.Line, "a host in a list needs name:")
				}
				if err := add(name, item.Line, rest); err != nil {
					return err
				}
			default:
				return errorf(file, item.Line, "a host should be a name or a mapping with name:, not a %s", kindName(item))
			}
		}
		return nil
	}
	return errorf(file, n.Line, "hosts: should be a mapping of host names or a list, not a %s", kindName(n))
}

func readNameList(file string, n *yaml.Node, fn func(string, int) error) error {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.SequenceNode:
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				return errorf(file, it.Line, "expected a group name, not a %s", kindName(it))
			}
			if err := fn(it.Value, it.Line); err != nil {
				return err
			}
		}
		return nil
	case n.Kind == yaml.MappingNode: // Ansible style: name: {} or name: null
		return pairs(n, func(k, _ *yaml.Node) error { return fn(k.Value, k.Line) })
	}
	return errorf(file, n.Line, "expected a list of group names")
}

// parseAnsibleYAML reads Ansible's YAML inventory: top-level groups (usually
// just all:), each with hosts:, vars: and children: (which nest groups).
// readAnsibleHosts reads a group's hosts: a mapping of host patterns
// (ranges, :port suffixes) to their vars, or one host name as a string.
func readAnsibleHosts(src *source, g *group, v *yaml.Node) error {
	file := src.file
	if isNull(v) {
		return nil
	}
	if v.Kind == yaml.ScalarNode {
		// hosts: web01 — one host, as Ansible takes it
		v = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Content: []*yaml.Node{v, {Kind: yaml.ScalarNode, Tag: "!!null", Line: v.Line}}}
	}
	if v.Kind == yaml.SequenceNode {
		// ansible-inventory --list and inventory scripts: a list of host
		// names, their vars in _meta.hostvars
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return errorf(file, it.Line, "group %q: hosts: a list holds host names, not a %s", clip(g.name), kindName(it))
			}
			if err := checkHostName(it.Value); err != nil {
				return errorf(file, it.Line, "host name %v", err)
			}
			if *g.budget--; *g.budget < 0 {
				return errorf(file, it.Line, "defines more than %d hosts", MaxHosts)
			}
			g.hosts = append(g.hosts, &hostEntry{name: it.Value, line: it.Line})
		}
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return errorf(file, v.Line, "group %q: hosts: should map host names to their vars", clip(g.name))
	}
	return pairs(v, func(hk, hv *yaml.Node) error {
		vs, err := readVars(file, hv, false)
		if err != nil {
			return err
		}
		pattern := hk.Value
		if h, p, ok := splitHostPort(pattern); ok {
			// web[01:02]:2222, [2001:db8::1]:2222: the port is the
			// host's ansible_port unless its vars say
			if _, valid := parsePort(p); !valid {
				return errorf(file, hk.Line, "port %q of %q is not a number from 1 to 65535", clip(p), clip(pattern))
			}
			pattern = h
			if _, set := vs["ansible_port"]; !set {
				if vs == nil {
					vs = vars{}
				}
				vs["ansible_port"] = varValue{val: p, line: hk.Line}
			}
		}
		names, err := expandHosts(pattern, src.budget)
		if err != nil {
			return errorf(file, hk.Line, "%v", err)
		}
		for _, nm := range names {
			if err := checkHostName(nm); err != nil {
				return errorf(file, hk.Line, "host name %v", err)
			}
			g.hosts = append(g.hosts, &hostEntry{name: nm, line: hk.Line, vars: vs})
		}
		return nil
	})
}

// ansibleGroupNamedHosts: the file's only top-level key is hosts:, and it
// reads as an Ansible group (its keys are hosts:, vars: and children:)
// rather than whyoffline's host map.
func ansibleGroupNamedHosts(root *yaml.Node) bool {
	if len(root.Content) != 2 || root.Content[0].Value != "hosts" {
		return false
	}
	v := deref(root.Content[1])
	if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		return false
	}
	for i := 0; i < len(v.Content); i += 2 {
		switch v.Content[i].Value {
		case "hosts", "vars", "children":
		default:
			return false
		}
	}
	return true
}

func parseAnsibleYAML(file string, root *yaml.Node) (*source, error) {
	src := newSource(file, true)
	all := src.group("all", root.Line)
	var readGroup func(name string, line int, n *yaml.Node) error
	readGroup = func(name string, line int, n *yaml.Node) error {
		if err := checkGroupName(name); err != nil {
			return errorf(file, line, "group name %v", err)
		}
		g := src.group(name, line)
		if isNull(n) {
			return nil
		}
		if n.Kind == yaml.SequenceNode {
			// an inventory script's group: a list of its hosts
			return readAnsibleHosts(src, g, n)
		}
		if n.Kind != yaml.MappingNode {
			return errorf(file, n.Line, "group %q should be a mapping with hosts:, vars: and children:, not a %s", clip(name), kindName(n))
		}
		return pairs(n, func(k, v *yaml.Node) error {
			switch k.Value {
			case "hosts":
				return readAnsibleHosts(src, g, v)
			case "vars":
				vs, err := readVars(file, v, false)
				if err != nil {
					return err
				}
				for key, val := range vs {
					g.vars[key] = val
				}
				return nil
			case "children":
				if isNull(v) {
					return nil
				}
				if v.Kind == yaml.SequenceNode {
					// ansible-inventory --list: child group names
					return readNameList(file, v, func(c string, line int) error {
						if err := checkGroupName(c); err != nil {
							return errorf(file, line, "child group name %v", err)
						}
						if !contains(g.children, c) {
							g.children = append(g.children, c)
						}
						src.group(c, line)
						return nil
					})
				}
				if v.Kind != yaml.MappingNode {
					return errorf(file, v.Line, "group %q: children: should map child group names to groups", clip(name))
				}
				return pairs(v, func(ck, cv *yaml.Node) error {
					if !contains(g.children, ck.Value) {
						g.children = append(g.children, ck.Value)
					}
					return readGroup(ck.Value, ck.Line, cv)
				})
			default:
				return errorf(file, k.Line, "group %q: unknown key %q; Ansible groups have hosts:, vars: and children: (is the indentation right?)", clip(name), clip(k.Value))
			}
		})
	}
	var meta *yaml.Node
	err := pairs(root, func(k, v *yaml.Node) error {
		if k.Value == "_meta" {
			meta = v
			return nil
		}
		if k.Value != "all" && !contains(all.children, k.Value) {
			all.children = append(all.children, k.Value)
		}
		return readGroup(k.Value, k.Line, v)
	})
	if err != nil {
		return nil, err
	}
	if err := readHostvars(src, meta); err != nil {
		return nil, err
	}
	return src, nil
}

// readHostvars reads _meta.hostvars of ansible-inventory --list (or an
// inventory script): each listed host's vars, as a host entry after its
// groups'. A host no group lists is not a host, as in Ansible.
func readHostvars(src *source, meta *yaml.Node) error {
	if meta == nil || isNull(meta) {
		return nil
	}
	if meta.Kind != yaml.MappingNode {
		return errorf(src.file, meta.Line, "_meta: should be a mapping with hostvars:, not a %s", kindName(meta))
	}
	listed := map[string]bool{}
	for _, g := range src.groups {
		for _, h := range g.hosts {
			listed[h.name] = true
		}
	}
	all := src.group("all", 0)
	return pairs(meta, func(k, v *yaml.Node) error {
		if k.Value != "hostvars" || isNull(v) {
			return nil
		}
		if v.Kind != yaml.MappingNode {
			return errorf(src.file, v.Line, "_meta.hostvars: should map host names to their vars, not a %s", kindName(v))
		}
		return pairs(v, func(hk, hv *yaml.Node) error {
			if !listed[hk.Value] {
				return nil
			}
			vs, err := readVars(src.file, hv, false)
			if err != nil {
				return err
			}
			all.hosts = append(all.hosts, &hostEntry{name: hk.Value, line: hk.Line, vars: vs})
			return nil
		})
	})
}
