package secret

import "reflect"

// ScrubAll scrubs, in place, every string v reaches through pointers,
// structs (exported fields), slices, arrays, maps and interfaces: a
// result the sweep is about to write, whatever fields it grows later. A
// new field cannot escape the scrub by being forgotten in a list.
func (s *Scrubber) ScrubAll(v any) {
	s.walk(reflect.ValueOf(v), 0)
}

// maxDepth bounds the walk: results are shallow, and a cycle (which
// results do not have) must not hang a sweep.
const maxDepth = 32

func (s *Scrubber) walk(v reflect.Value, depth int) (changed bool) {
	if depth > maxDepth || !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return s.walk(v.Elem(), depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() && s.walk(v.Field(i), depth+1) {
				changed = true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if s.walk(v.Index(i), depth+1) {
				changed = true
			}
		}
	case reflect.Map:
		return s.walkMap(v, depth)
	case reflect.String:
		if t := s.Scrub(v.String()); t != v.String() && v.CanSet() {
			v.SetString(t)
			return true
		}
	}
	return changed
}

// walkMap scrubs a map's values, and its keys when they are strings (a
// fact's name could be an echo too). A value held in a map cannot be set
// in place, so each is scrubbed in a copy, stored again only if changed.
func (s *Scrubber) walkMap(v reflect.Value, depth int) (changed bool) {
	if v.IsNil() {
		return false
	}
	type entry struct{ old, key, val reflect.Value }
	var redo []entry
	iter := v.MapRange()
	for iter.Next() {
		k, val := iter.Key(), iter.Value()
		nv := reflect.New(val.Type()).Elem()
		nv.Set(val)
		valChanged := s.walk(nv, depth+1)
		nk := k
		if k.Kind() == reflect.String {
			if t := s.Scrub(k.String()); t != k.String() {
				nk = reflect.New(k.Type()).Elem()
				nk.SetString(t)
			}
		}
		if valChanged || nk.Interface() != k.Interface() {
			redo = append(redo, entry{k, nk, nv})
		}
	}
	for _, e := range redo {
		v.SetMapIndex(e.old, reflect.Value{})
		v.SetMapIndex(e.key, e.val)
	}
	return len(redo) > 0
}
