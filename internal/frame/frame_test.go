package frame

import (
	"strings"
	"testing"
)

const n = "0123456789abcdef"

func m(tag string) string { return Marker(n, tag) + "\n" }

// TestSplitCutShort: output cut off by a deadline tells which check was
// still running; a marker with another nonce, or not at the start of a
// line, is plain text.
func TestSplitCutShort(t *testing.T) {
	full := m("os:Linux") + m("playbook:linux") + m("begin:a") + "x=1\n" + m("end:a:0") + m("begin:b") + "y=2\n" + m("end:b:0") + m("done")
	for _, tc := range []struct {
		name, out, running string
		complete           []string
		done               bool
	}{
		{"nothing", "", "", nil, false},
		{"banner only", "Welcome to host\n", "", nil, false},
		{"inside a", full[:strings.Index(full, "x=1")+4], "a", nil, false},
		{"between", full[:strings.Index(full, m("begin:b"))], "", []string{"a"}, false},
		{"inside b, forged end with another nonce", full[:strings.Index(full, "y=2")] + "<<WO:ffffffffffffffff:end:b:0>>\n", "b", []string{"a"}, false},
		{"inside b, end marker inside a log line", full[:strings.Index(full, "y=2")] + "log: " + m("end:b:0") + "also " + m("done"), "b", []string{"a"}, false},
		{"whole", full, "", []string{"a", "b"}, true},
		{"whole with CRLF", strings.ReplaceAll(full, "\n", "\r\n"), "", []string{"a", "b"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := Split([]byte(tc.out), n)
			var complete []string
			for _, id := range []string{"a", "b"} {
				if s := raw.Sections[id]; s != nil && s.Complete {
					complete = append(complete, id)
				}
			}
			if raw.Running != tc.running || raw.Done != tc.done || strings.Join(complete, ",") != strings.Join(tc.complete, ",") {
				t.Errorf("running %q done %v complete %v; want %q %v %v", raw.Running, raw.Done, complete, tc.running, tc.done, tc.complete)
			}
		})
	}
}

// TestWriterRoundTrip: what the simulators write is what Split reads.
func TestWriterRoundTrip(t *testing.T) {
	out := NewWriter(n).OS("Linux").Playbook("linux").Section("a", "k=v", 0).Section("b", "", 3).Done().String()
	raw := Split([]byte(out), n)
	if !raw.Done || raw.OS != "Linux" || raw.Playbook != "linux" || raw.Sections["a"].Output != "k=v\n" || raw.Sections["b"].Exit != 3 {
		t.Errorf("raw = %+v", raw)
	}
	doc := Document{OS: "Windows", Playbook: "windows", Sections: map[string]DocumentPart{"a": {O: "k=v", X: 1}}}
	j := SplitJSON(append([]byte("banner"), JSONAnswer(n, doc)...), n)
	if !j.Done || j.Sections["a"].Output != "k=v" || j.Sections["a"].Exit != 1 {
		t.Errorf("json raw = %+v", j)
	}
	// a json marker in the middle of a line is not the document
	forged := []byte("text " + Marker(n, "json") + `{"os":"x","sections":{}}` + Marker(n, "done"))
	if r := SplitJSON(forged, n); r.Done {
		t.Errorf("mid-line json marker accepted: %+v", r)
	}
}

// TestHeader: the header a renderer writes is what a simulator reads.
func TestHeader(t *testing.T) {
	h := Header{Nonce: n, Manager: "dsm", Port: 4120, Checks: map[string][]string{"linux": {"setup", "clock"}}}
	got, err := ParseHeader("#!/bin/sh\n" + h.Comment() + "echo hi\n")
	if err != nil || got.Nonce != n || got.Port != 4120 || strings.Join(got.Checks["linux"], ",") != "setup,clock" {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := ParseHeader("echo no header\n"); err == nil {
		t.Error("no header accepted")
	}
}

// TestSplitInterleavedLanes: sections printed at the same time by lanes,
// cut into lines the way bash writes them and interleaved, each get their
// own lines back; a tagged line for a section not begun or already ended
// is nobody's, and untagged text while lanes print joins no section.
func TestSplitInterleavedLanes(t *testing.T) {
	l := func(id, text string) string { return LinePrefix(n, id) + text + "\n" }
	out := m("begin:serial") + "s=1\n" + m("end:serial:0") +
		m("begin:a") + m("begin:b") +
		l("a", "a=1") + l("b", "b=1") + "half of a line\n" + l("a", "a=2") +
		m("end:b:0") + l("b", "late=1") + l("c", "c=1") + l("a", "") +
		m("end:a:3") + m("done")
	raw := Split([]byte(out), n)
	want := map[string]string{"serial": "s=1\n", "a": "a=1\na=2\n\n", "b": "b=1\n"}
	for id, w := range want {
		s := raw.Sections[id]
		if s == nil || !s.Complete || s.Output != w {
			t.Errorf("section %s = %+v; want complete with %q", id, s, w)
		}
	}
	if raw.Sections["a"].Exit != 3 || raw.Sections["c"] != nil || !raw.Done {
		t.Errorf("raw = %+v", raw)
	}
}
