package secret

import "reflect"

// ScrubAll scrubs, in place, every string v reaches through pointers,
// structs (exported fields), slices, arrays, map values and interfaces: a
// result the sweep is about to write, whatever fields it grows later. A
// new field cannot escape the scrub by being forgotten in a list.
//
// Identifiers the bastion decides are left whole, so that a password
// that happens to be a word ("running") cannot turn a cause ID, a status
// or a host name into something no consumer knows: fields tagged
// `scrub:"-"`, strings of a named type (enums such as result.Status) and
// map keys (fact names).
func (s *Scrubber) ScrubAll(v any) {
	var needles []string
	if !s.Empty() {
		needles = s.folded() // once, not per string
	}
	walk(reflect.ValueOf(v), needles, 0)
}

// maxDepth bounds the walk: results are shallow, and a cycle (which
// results do not have) must not hang a sweep.
const maxDepth = 32

func walk(v reflect.Value, needles []string, depth int) (changed bool) {
	if depth > maxDepth || !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walk(v.Elem(), needles, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && f.Tag.Get("scrub") != "-" && walk(v.Field(i), needles, depth+1) {
				changed = true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if walk(v.Index(i), needles, depth+1) {
				changed = true
			}
		}
	case reflect.Map:
		return walkMap(v, needles, depth)
	case reflect.String:
		if v.Type() != plainString {
			return false // an enum: the bastion's own word
		}
		if t := scrub(v.String(), needles); t != v.String() && v.CanSet() {
			v.SetString(t)
			return true
		}
	}
	return changed
}

// walkMap scrubs a map's values. A value held in a map cannot be set in
// place, so each is scrubbed in a copy, stored again only if changed.
func walkMap(v reflect.Value, needles []string, depth int) (changed bool) {
	if v.IsNil() {
		return false
	}
	type entry struct{ key, val reflect.Value }
	var redo []entry
	iter := v.MapRange()
	for iter.Next() {
		val := iter.Value()
		nv := reflect.New(val.Type()).Elem()
		nv.Set(val)
		if walk(nv, needles, depth+1) {
			redo = append(redo, entry{iter.Key(), nv})
		}
	}
	for _, e := range redo {
		v.SetMapIndex(e.key, e.val)
	}
	return len(redo) > 0
}

var plainString = reflect.TypeOf("")
