package inventory

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/vault"
)

// MaxGroupDepth bounds how deep groups nest (children of children ...).
const MaxGroupDepth = 1000

// MaxFileSize bounds an inventory file; a larger one is almost certainly
// the wrong file.
const MaxFileSize = 64 << 20

// source is one parsed inventory file in a format-neutral shape: groups with
// vars, hosts and children, before group inheritance is resolved.
type source struct {
	// budget is how many more host names the file's ranges may expand to:
	// ranges are counted before they are expanded, so a small file of big
	// ranges cannot exhaust memory.
	budget   *int
	file     string
	ansible  bool // vars use Ansible names (ansible_host, ...)
	defaults vars
	groups   map[string]*group
	manager  Manager
	schema   Schema // the transports' options

	// Ansible sources merged into one (LoadRequest): the other files'
	// order, the vars directories beside the -i sources and what they
	// hold, the vault passwords, and notes for the user.
	sourceOrder map[string]int64
	bases       []string
	layers      int
	hostLayers  map[string][]vars
	vault       *vault.Keyring
	vaultNote   string
	notes       []string
}

type group struct {
	budget   *int // the source's range budget
	name     string
	file     string // "" = the source's file
	line     int
	order    int64 // file order across merged sources
	vars     vars
	hosts    []*hostEntry
	children []string
	layers   []vars // group_vars of each vars directory (source.bases order)
}

type hostEntry struct {
	name string
	file string // "" = the source's file
	line int
	vars vars
}

func newSource(file string, ansible bool) *source {
	budget := MaxHosts
	return &source{file: file, ansible: ansible, groups: map[string]*group{}, budget: &budget}
}

func (s *source) group(name string, line int) *group {
	g, ok := s.groups[name]
	if !ok {
		g = &group{name: name, line: line, order: int64(line), vars: vars{}, budget: s.budget}
		s.groups[name] = g
	}
	return g
}

// Load reads inventories in order; "-" reads stdin. See LoadRequest.
func Load(paths []string, stdin io.Reader, schema Schema) (*Inventory, error) {
	return LoadRequest(Request{Paths: paths, Stdin: stdin, Schema: schema})
}

// LoadRequest reads the sources in order, as Ansible reads them: every
// Ansible source (a file, each source of a directory, stdin) is one
// inventory whose groups and hosts merge across sources, with the
// group_vars/ and host_vars/ beside each -i source applied in Ansible's
// precedence; whyoffline's own YAML sources are read on their own. A
// host defined by several sources is merged, later ones winning.
func LoadRequest(r Request) (*Inventory, error) {
	if len(r.Paths) == 0 {
		return nil, &Error{File: "(command line)", Msg: "no inventory given: pass -i FILE or DIR (whyoffline YAML, Ansible INI/YAML/JSON, a host list), -i - for ansible-inventory --list output or a host list on stdin, or --from-manager"}
	}
	inv := &Inventory{}
	var own []*source
	var ansible *source
	var bases []string
	for _, p := range r.Paths {
		srcs, err := r.gather(p, inv)
		if err != nil {
			return nil, err
		}
		bases = append(bases, varsBase(p))
		for _, src := range srcs {
			src.schema = r.Schema
			if !src.ansible {
				own = append(own, src)
				continue
			}
			if ansible == nil {
				ansible = src
			} else if err := ansible.absorb(src); err != nil {
				return nil, err
			}
		}
	}
	var byName map[string]*Host
	add := func(hosts []*Host) {
		if byName == nil {
			byName = make(map[string]*Host, len(hosts))
		}
		for _, h := range hosts {
			if old, ok := byName[h.Name]; ok {
				merge(old, h)
				continue
			}
			byName[h.Name] = h
			inv.Hosts = append(inv.Hosts, h)
		}
	}
	for _, src := range own {
		hosts, _, err := src.resolve()
		if err != nil {
			return nil, err
		}
		add(hosts)
		if src.manager.Host != "" {
			inv.Manager = src.manager
		}
	}
	if ansible != nil {
		ansible.vault = r.Vault
		ansible.vaultNote = r.VaultNote
		ansible.bases = bases
		hosts, skipped, err := ansible.resolve()
		if err != nil {
			return nil, err
		}
		inv.Notes = append(inv.Notes, ansible.notes...)
		inv.Skipped = append(inv.Skipped, skipped...)
		add(hosts)
	}
	if len(inv.Skipped) > 0 {
		// a host another source defines in a way whyoffline can scan is
		// not skipped
		kept := inv.Skipped[:0]
		for _, sk := range inv.Skipped {
			if _, scanned := byName[sk.Name]; !scanned {
				kept = append(kept, sk)
			}
		}
		inv.Skipped = kept
	}
	return inv, nil
}

// absorb merges another Ansible source into s as Ansible's one inventory
// does: a group's vars are set again (later sources win, key by key), its
// hosts and children add up; a host's entries keep their order.
func (s *source) absorb(o *source) error {
	for _, name := range slices.Sorted(maps.Keys(o.groups)) {
		og := o.groups[name]
		og.stamp(o.file)
		g, ok := s.groups[name]
		if !ok {
			og.order += s.orderBase(o)
			s.groups[name] = og
			og.budget = s.budget
			continue
		}
		for k, v := range og.vars {
			g.vars[k] = v
		}
		g.hosts = append(g.hosts, og.hosts...)
		for _, c := range og.children {
			if !contains(g.children, c) {
				g.children = append(g.children, c)
			}
		}
	}
	*s.budget -= MaxHosts - *o.budget
	if *s.budget < 0 {
		return errorf(o.file, 0, "the inventory sources define more than %d hosts", MaxHosts)
	}
	return nil
}

// orderBase orders the groups of later sources after the earlier ones'
// (group order is file order, then source order).
func (s *source) orderBase(o *source) int64 {
	if s.sourceOrder == nil {
		s.sourceOrder = map[string]int64{}
	}
	off, ok := s.sourceOrder[o.file]
	if !ok {
		off = int64(len(s.sourceOrder)+1) << 32
		s.sourceOrder[o.file] = off
	}
	return off
}

// stamp records file on a group's values and host entries that came from
// it, so that messages and sources name the right file once sources are
// merged.
func (g *group) stamp(file string) {
	g.file = file
	for k, v := range g.vars {
		if v.file == "" {
			v.file = file
			g.vars[k] = v
		}
	}
	for _, h := range g.hosts {
		if h.file == "" {
			h.file = file
			for k, v := range h.vars {
				if v.file == "" {
					v.file = file
					h.vars[k] = v
				}
			}
		}
	}
}

func merge(dst, src *Host) {
	groups := dst.Groups
	explicit := dst.explicit
	*dst = *src
	for _, g := range groups {
		dst.addGroup(g)
	}
	for _, k := range explicit {
		dst.markExplicit(k)
	}
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// detectFormat chooses YAML by extension, else by content: INI sections and
// host lines never end their first meaningful line with a colon.
func detectFormat(path string, data []byte) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return "yaml"
	case ".ini", ".cfg", ".txt", ".hosts", ".list":
		return "ini"
	}
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t == "---" || strings.HasSuffix(t, ":") || strings.HasPrefix(t, "{") {
			return "yaml"
		}
		return "ini"
	}
	return "ini"
}

// groupTree returns each group's parents and its depth: parents come
// before children, so a child group's vars override its parent's, as in
// Ansible. A child that is not defined, or a cycle, is an error.
func (s *source) groupTree() (map[string][]string, map[string]int, error) {
	depth := map[string]int{}
	parents := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		for _, c := range s.groups[name].children {
			parents[c] = append(parents[c], name)
			if _, ok := s.groups[c]; !ok {
				return nil, nil, errorf(s.fileOf(s.groups[name]), s.groups[name].line, "group %q lists child group %q, which is not defined", clip(name), clip(c))
			}
		}
	}
	// a cycle is found by a set of the groups being visited, not a scan
	// of the path (quadratic in a deep chain), and nesting is bounded: no
	// real inventory nests groups 1,000 deep, and every level costs each
	// host below it a walk
	onPath := map[string]bool{}
	var visit func(name string, stack []string) error
	visit = func(name string, stack []string) error {
		if _, ok := depth[name]; ok {
			return nil
		}
		if onPath[name] {
			path := stack
			if len(path) > 8 {
				path = append([]string{"…"}, path[len(path)-8:]...)
			}
			return errorf(s.fileOf(s.groups[name]), s.groups[name].line, "group %q is its own ancestor (%s)", clip(name), clip(strings.Join(append(path, name), " > ")))
		}
		if len(stack) >= MaxGroupDepth {
			return errorf(s.fileOf(s.groups[name]), s.groups[name].line, "groups nest more than %d deep above %q: is a children: list looping through many groups?", MaxGroupDepth, clip(name))
		}
		onPath[name] = true
		defer delete(onPath, name)
		d := 0
		if name != "all" {
			d = 1
		}
		for _, p := range parents[name] {
			if err := visit(p, append(stack, name)); err != nil {
				return err
			}
			d = max(d, depth[p]+1)
		}
		depth[name] = d
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		if err := visit(name, nil); err != nil {
			return nil, nil, err
		}
	}
	return parents, depth, nil
}

// member is one host's entries and groups in a source.
type member struct {
	entries []*hostEntry
	groups  map[string]bool
	via     []string // the groups the host is listed in, in file order
}

// resolve applies group inheritance and returns the hosts in file order,
// and (Ansible sources) the hosts skipped.
func (s *source) resolve() ([]*Host, []Skipped, error) {
	if s.ansible {
		// every Ansible inventory has ungrouped, a child of all
		s.group("ungrouped", 0)
		if all := s.group("all", 0); !contains(all.children, "ungrouped") {
			all.children = append(all.children, "ungrouped")
		}
	}
	parents, depth, err := s.groupTree()
	if err != nil {
		return nil, nil, err
	}
	// membership: a host of a child group is a host of each ancestor.
	// Each group's ancestors are walked once, not once per host.
	lineage := map[string][]string{} // group → itself and every ancestor
	var walk func(name string, seen map[string]bool, out []string) []string
	walk = func(name string, seen map[string]bool, out []string) []string {
		if seen[name] {
			return out
		}
		seen[name] = true
		out = append(out, name)
		for _, p := range parents[name] {
			out = walk(p, seen, out)
		}
		return out
	}
	entries := 0
	for _, g := range s.groups {
		entries += len(g.hosts)
	}
	members := make(map[string]*member, entries)
	order := make([]string, 0, entries)
	groupsInFileOrder := slices.Sorted(maps.Keys(s.groups))
	sort.SliceStable(groupsInFileOrder, func(i, j int) bool {
		return s.groups[groupsInFileOrder[i]].order < s.groups[groupsInFileOrder[j]].order
	})
	for _, gname := range groupsInFileOrder {
		g := s.groups[gname]
		if len(g.hosts) == 0 {
			continue
		}
		line, ok := lineage[gname]
		if !ok {
			line = walk(gname, map[string]bool{}, nil)
			lineage[gname] = line
		}
		for _, h := range g.hosts {
			m, ok := members[h.name]
			if !ok {
				m = &member{groups: make(map[string]bool, len(line))}
				members[h.name] = m
				order = append(order, h.name)
			}
			m.entries = append(m.entries, h)
			m.via = append(m.via, gname)
			for _, a := range line {
				m.groups[a] = true
			}
		}
	}
	if len(order) > MaxHosts {
		return nil, nil, errorf(s.file, 0, "defines more than %d hosts", MaxHosts)
	}
	if s.ansible {
		return s.ansibleHosts(order, members, depth)
	}

	hosts := make([]*Host, 0, len(order))
	// Hosts listed in the same groups get the same defaults and group
	// vars: apply them once per group set, then copy (a fleet of 100,000
	// hosts has a few hundred group sets).
	templates := map[string]*Host{}
	for _, name := range order {
		m := members[name]
		first := m.entries[0]
		key := strings.Join(m.via, "\x00")
		t, ok := templates[key]
		if !ok {
			if t, err = s.groupTemplate(m.groups, depth); err != nil {
				return nil, nil, err
			}
			templates[key] = t
		}
		h := t.clone()
		h.Name = name
		if !t.Explicit("address") {
			h.Address = name
		}
		h.Source = s.fileOfEntry(first) + ":" + strconv.Itoa(first.line)
		for _, e := range m.entries {
			if err := s.applyVars(h, e.vars); err != nil {
				return nil, nil, err
			}
		}
		h.fillDefaults()
		hosts = append(hosts, h)
	}
	return hosts, nil, nil
}

// fileOf is the file group g was (first) defined in.
func (s *source) fileOf(g *group) string {
	if g.file != "" {
		return g.file
	}
	return s.file
}

// fileOfEntry is the file a host entry is in.
func (s *source) fileOfEntry(e *hostEntry) string {
	if e.file != "" {
		return e.file
	}
	return s.file
}

// fillDefaults sets what a host's settings imply: a WinRM host is a
// Windows one, become without a method is sudo.
func (h *Host) fillDefaults() {
	if h.Transport == WinRM && h.OS == "" {
		h.OS = "windows"
	}
	if h.BecomeMethod == "" && h.Become {
		h.BecomeMethod = "sudo"
	}
}

// groupTemplate is a host with the defaults and the vars of groups
// applied, parents before children.
func (s *source) groupTemplate(groups map[string]bool, depth map[string]int) (*Host, error) {
	t := &Host{Transport: SSH}
	if err := s.applyVars(t, s.defaults); err != nil {
		return nil, err
	}
	for _, g := range s.orderGroups(groups, depth) {
		if err := s.applyVars(t, s.groups[g].vars); err != nil {
			return nil, err
		}
		t.addGroup(g)
	}
	return t, nil
}

// orderGroups is the order group vars apply in, as Ansible's: parents
// before children (depth), then ansible_group_priority (default 1), then
// name.
func (s *source) orderGroups(groups map[string]bool, depth map[string]int) []string {
	gs := make([]string, 0, len(groups))
	priority := make(map[string]int, len(groups))
	for g := range groups {
		gs = append(gs, g)
		priority[g] = 1
		if v, ok := s.groups[g].vars["ansible_group_priority"]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v.val)); err == nil {
				priority[g] = n
			}
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if depth[a] != depth[b] {
			return depth[a] < depth[b]
		}
		if priority[a] != priority[b] {
			return priority[a] < priority[b]
		}
		return a < b
	})
	return gs
}

// applyVars applies whyoffline's own settings (Ansible sources are read
// whole, by ansibleHost).
func (s *source) applyVars(h *Host, vs vars) error {
	if len(vs) == 0 {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		if err := h.apply(k, vs[k], s.file, s.schema); err != nil {
			return err
		}
	}
	return nil
}
