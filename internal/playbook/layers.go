package playbook

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A playbook is built from layers, each a YAML file applied key by key on
// top of what came before: the base it extends (itself built the same
// way), its embedded file, then the site's file of the same name from
// --playbooks. A later layer changes only the keys it gives; a check it
// names by id changes only that check's fields it gives.

// layer is one file's contribution to a playbook.
type layer struct {
	file string
	node *yaml.Node // the document's top-level mapping
	// overlay layers (a site's --playbooks files) may only change checks
	// that exist; the embedded files may add checks.
	overlay bool
	src     *source // where the file came from (its scripts too)
	// runs are the checks whose run: this file gives inline
	runs map[string]bool
}

// resolver builds playbooks from their layers.
type resolver struct {
	layers  map[string][]layer // by playbook id
	overlay *source            // the site's files (nil: none)
	built   map[string]*Playbook
}

// resolve builds every concrete playbook from the embedded files and the
// site's overlay files. Abstract playbooks (the POSIX base) are built too,
// so that their errors are found, but not returned.
func resolve(embedded, overlay *source, overrideDir string) ([]*Playbook, error) {
	r := &resolver{layers: map[string][]layer{}, overlay: overlay, built: map[string]*Playbook{}}
	ids, err := r.addLayers(embedded, overlay, overrideDir)
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	var out []*Playbook
	for _, id := range ids {
		p, err := r.build(id, nil)
		if err != nil {
			return nil, err
		}
		if !p.Abstract {
			out = append(out, p)
		}
	}
	// a script no playbook read is a typo or a check that is gone
	for _, src := range []*source{embedded, overlay} {
		if err := src.unused(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addLayers files every YAML file as the layer of its playbook and
// returns the playbook ids.
func (r *resolver) addLayers(embedded, overlay *source, overrideDir string) ([]string, error) {
	fileOf := map[string]string{} // file name -> id, to match overlays
	var ids []string
	for _, name := range sortedNames(embedded.yaml) {
		if name == "causes.yaml" {
			continue
		}
		l, id, err := decodeLayer("(embedded)/"+name, embedded.yaml[name], false)
		if err != nil {
			return nil, err
		}
		l.src = embedded
		if _, dup := r.layers[id]; dup {
			return nil, fmt.Errorf("%s: playbook id %q is used twice", l.file, id)
		}
		r.layers[id] = []layer{l}
		fileOf[name] = id
		ids = append(ids, id)
	}
	if overlay == nil {
		return ids, nil
	}
	for _, name := range sortedNames(overlay.yaml) {
		if name == "causes.yaml" {
			continue
		}
		id, err := addOverlay(r.layers, fileOf, filepath.Join(overrideDir, name), name, overlay.yaml[name], overlay)
		if err != nil {
			return nil, err
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// build builds playbook id on the base it extends; chain is the ids that
// extend it, to refuse a loop.
func (r *resolver) build(id string, chain []string) (*Playbook, error) {
	if p, ok := r.built[id]; ok {
		return p, nil
	}
	if slices.Contains(chain, id) {
		return nil, fmt.Errorf("playbooks: %s extends itself (%s)", id, strings.Join(append(chain, id), " -> "))
	}
	ls, ok := r.layers[id]
	if !ok {
		return nil, fmt.Errorf("playbooks: %s extends %q, which no playbook defines", chain[len(chain)-1], id)
	}
	p := &Playbook{}
	if base := scalar(ls[0].node, "extends"); base != "" {
		b, err := r.build(base, append(chain, id))
		if err != nil {
			return nil, err
		}
		p = b.clone()
		p.Abstract = false // being a base is not inherited
	}
	if err := r.applyLayers(p, ls); err != nil {
		return nil, err
	}
	p.file = ls[len(ls)-1].file
	if _, err := compile(p); err != nil {
		return nil, err
	}
	r.built[id] = p
	return p, nil
}

// applyLayers applies each layer, and after the one that defines the
// playbook its scripts; a site's scripts for it come last.
func (r *resolver) applyLayers(p *Playbook, ls []layer) error {
	dir := scalar(ls[0].node, "scripts")
	siteRuns := map[string]bool{}
	for i, l := range ls {
		if err := p.apply(l); err != nil {
			return err
		}
		if i > 0 {
			maps.Copy(siteRuns, l.runs)
			continue
		}
		if err := p.applyScripts(dir, l.src, l.runs); err != nil {
			return err
		}
	}
	if r.overlay != nil && ls[0].src != r.overlay {
		return p.applyScripts(dir, r.overlay, siteRuns)
	}
	return nil
}

// unused is an error naming a script of s no playbook read.
func (s *source) unused() error {
	if s == nil {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(s.scripts)) {
		if !s.used[name] {
			dir, file, _ := strings.Cut(name, "/")
			return fmt.Errorf("playbooks: %s: no playbook with scripts: %s has a check %q (whyoffline playbooks show lists them)",
				filepath.Join(s.where, name), dir, strings.TrimSuffix(strings.TrimSuffix(file, ".sh"), ".ps1"))
		}
	}
	return nil
}

// applyScripts sets the code of p's checks from src's DIR/ID files. A
// check whose run: the same source's file gave inline is ambiguous.
func (p *Playbook) applyScripts(dir string, src *source, inline map[string]bool) error {
	if dir == "" || src == nil {
		return nil
	}
	ext := ".sh"
	if p.Shell == "powershell" {
		ext = ".ps1"
	}
	for i := range p.Checks {
		c := &p.Checks[i]
		name := dir + "/" + c.ID + ext
		b, ok := src.scripts[name]
		if !ok {
			continue
		}
		src.used[name] = true
		path := filepath.Join(src.where, name)
		if inline[c.ID] {
			return fmt.Errorf("playbooks: %s and the run: of check %q in %s both give its code: keep one", path, c.ID, c.file)
		}
		c.Run = string(b)
		c.runFile, c.runLine = path, 1
	}
	return nil
}

// addOverlay adds a site file: onto the built-in playbook of the same file
// name, or (a file of its own) as a new playbook, whose id it returns.
func addOverlay(layers map[string][]layer, fileOf map[string]string, file, name string, data []byte, src *source) (string, error) {
	id, known := fileOf[name]
	l, ownID, err := decodeLayer(file, data, known)
	if err != nil {
		return "", err
	}
	l.src = src
	if !known {
		// a file of its own: a new playbook (it may extend a built-in one)
		if _, dup := layers[ownID]; dup {
			return "", fmt.Errorf("%s: playbook id %q is already used by a built-in playbook: name the file %s.yaml to change that one", file, ownID, ownID)
		}
		layers[ownID] = []layer{l}
		return ownID, nil
	}
	if ownID != "" && ownID != id {
		return "", fmt.Errorf("%s: id %q: this file changes the built-in playbook %q; leave id out", file, ownID, id)
	}
	layers[id] = append(layers[id], l)
	return "", nil
}

// decodeLayer checks one file strictly (unknown keys, wrong types: errors
// with file:line) and keeps its node tree for the key-by-key merge.
func decodeLayer(file string, data []byte, overlay bool) (layer, string, error) {
	var strict Playbook
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&strict); err != nil {
		return layer{}, "", fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return layer{}, "", fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return layer{}, "", fmt.Errorf("%s: a playbook is a YAML mapping (id:, os:, checks: …)", file)
	}
	if strict.ID == "" && !overlay {
		return layer{}, "", fmt.Errorf("%s: id: is required", file)
	}
	l := layer{file: file, node: doc.Content[0], overlay: overlay, runs: map[string]bool{}}
	for i := 0; i+1 < len(l.node.Content); i += 2 {
		if l.node.Content[i].Value == "checks" && l.node.Content[i+1].Kind == yaml.SequenceNode {
			for _, item := range l.node.Content[i+1].Content {
				if hasKey(item, "run") {
					l.runs[scalar(item, "id")] = true
				}
			}
		}
	}
	return l, strict.ID, nil
}

// scalar returns the value of a top-level scalar key, or "".
func scalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// apply merges one layer into p: every top-level key it gives replaces
// p's (params and become merge key by key), and its checks merge by id.
func (p *Playbook) apply(l layer) error {
	top := &yaml.Node{Kind: yaml.MappingNode}
	var checks *yaml.Node
	for i := 0; i+1 < len(l.node.Content); i += 2 {
		k, v := l.node.Content[i], l.node.Content[i+1]
		switch k.Value {
		case "checks":
			checks = v
		case "id", "os", "extends":
			if l.overlay {
				if k.Value != "id" {
					return fmt.Errorf("%s:%d: %s: a site file changes checks and settings of the built-in playbook; it cannot change its %s", l.file, k.Line, k.Value, k.Value)
				}
				continue
			}
			top.Content = append(top.Content, k, v)
		default:
			top.Content = append(top.Content, k, v)
		}
	}
	if err := top.Decode(p); err != nil {
		return fmt.Errorf("%s: %v", l.file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if checks == nil {
		return nil
	}
	if checks.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: checks: must be a list", l.file, checks.Line)
	}
	for _, item := range checks.Content {
		id := scalar(item, "id")
		i := p.checkIndex(id)
		if i < 0 {
			if l.overlay {
				return fmt.Errorf("%s:%d: check %q: the built-in %s playbook has no such check (whyoffline playbooks show %s lists them); a site file changes existing checks", l.file, item.Line, id, p.ID, p.ID)
			}
			var c Check
			if err := item.Decode(&c); err != nil {
				return fmt.Errorf("%s: %v", l.file, strings.TrimPrefix(err.Error(), "yaml: "))
			}
			c.setFile(l.file)
			c.runFile = l.file
			p.Checks = append(p.Checks, c)
			continue
		}
		c := p.Checks[i].clone()
		hasFacts := hasKey(item, "facts")
		if hasKey(item, "pass_if") {
			c.PassIf = nil // a layer's pass_if replaces the whole judgement
		}
		if err := item.Decode(&c); err != nil {
			return fmt.Errorf("%s: %v", l.file, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		c.file = l.file
		if hasKey(item, "run") {
			c.runFile = l.file
		}
		if hasFacts {
			c.setFile(l.file)
		}
		p.Checks[i] = c
	}
	return nil
}

// hasKey reports whether mapping m has key.
func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (p *Playbook) checkIndex(id string) int {
	for i := range p.Checks {
		if p.Checks[i].ID == id {
			return i
		}
	}
	return -1
}

// setFile records which file a check and its fact rules came from.
func (c *Check) setFile(file string) {
	c.file = file
	for j := range c.Facts {
		c.Facts[j].file = file
	}
}

// clone copies p deeply enough that changing the copy never changes p.
func (p *Playbook) clone() *Playbook {
	q := *p
	q.Become = cloneMap(p.Become)
	q.Params = cloneMap(p.Params)
	q.DeniedPatterns = append([]string(nil), p.DeniedPatterns...)
	q.denied = nil
	q.Checks = make([]Check, len(p.Checks))
	for i := range p.Checks {
		q.Checks[i] = p.Checks[i].clone()
	}
	return &q
}

func (c Check) clone() Check {
	c.PassIf = cloneMap(c.PassIf)
	c.Exports = cloneMap(c.Exports)
	c.passIf = nil
	facts := make([]FactRule, len(c.Facts))
	for i, r := range c.Facts {
		r.Map = cloneMap(r.Map)
		facts[i] = r
	}
	c.Facts = facts
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
