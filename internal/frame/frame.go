// Package frame is the wire protocol between a rendered check script and
// the bastion: the markers that cut a host's output into sections, the
// header that describes a script, and the readers for both script
// dialects (POSIX sections, one PowerShell JSON document). The renderer
// writes with it, scan reads with it, and the simulators (fleetsim,
// wsmantest) answer with it — one definition, not three.
//
// A marker is "<<WO:" NONCE ":" TAG ">>" at the start of a line. The nonce
// is random per host, so text inside a host's logs cannot forge a
// section boundary, and a marker in the middle of a line is plain text.
package frame

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// Caps on what a host's output may cost the bastion.
const (
	MaxSectionBytes = 64 << 10 // one check's output kept for parsing
	maxSections     = 200
	maxTag          = 300
)

const prefix = "<<WO:"

// Marker returns the marker for tag ("os:Linux", "begin:dns.resolve",
// "end:dns.resolve:0", "playbook:linux", "unsupported", "json", "done").
func Marker(nonce, tag string) string { return prefix + nonce + ":" + tag + ">>" }

// LinePrefix starts each line of a section that is printed while other
// sections print too (a check in a lane): "<<WO:NONCE:line:ID>>" then the
// line. Shells do not print a section in one write — bash line-buffers
// its stdout, so another lane's whole section lands between two of this
// one's lines — and a line that says whose it is cannot be misfiled.
func LinePrefix(nonce, id string) string { return Marker(nonce, "line:"+id) }

// Section is one check's output as it came back.
type Section struct {
	Output   string
	Exit     int
	Complete bool // the end marker arrived
}

// Raw is a host's script output split into sections.
type Raw struct {
	OS          string // what the host said its OS is (uname -s)
	Playbook    string // which playbook's branch ran
	Unsupported bool   // the host's OS matched no playbook
	Done        bool   // the script ran to its end
	Running     string // the check that began and never ended, if any
	Sections    map[string]*Section
}

// Split cuts a POSIX script's stdout into sections. Text outside any
// section (a login banner, a motd) is ignored; so is anything that looks
// like a marker but does not start a line or carry this nonce.
func Split(stdout []byte, nonce string) *Raw {
	raw := &Raw{Sections: map[string]*Section{}}
	marker := prefix + nonce + ":"
	var cur *Section
	// each section's text grows in a builder: appending to a string per
	// line is quadratic, and a hostile host sends a megabyte of empty
	// lines
	out := map[*Section]*strings.Builder{}
	defer func() {
		for s, b := range out {
			s.Output = b.String()
		}
	}()
	text := string(stdout)
	for len(text) > 0 {
		line := text
		next := ""
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, next = text[:i+1], text[i+1:]
		}
		text = next
		if id, text, ok := taggedLine(line, marker); ok {
			// A tagged line goes to its own section, whichever began
			// last; and the section open until now takes no more
			// untagged text — while lanes print, untagged text is a
			// line some shell cut in two, and it is nobody's.
			if s := raw.Sections[id]; s != nil && !s.Complete {
				appendCapped(out, s, text)
			}
			cur = nil
			continue
		}
		tag, ok := markerTag(line, marker)
		if !ok {
			if cur != nil {
				appendCapped(out, cur, line)
			}
			continue
		}
		kind, arg, _ := strings.Cut(tag, ":")
		switch kind {
		case "os":
			raw.OS = textsafe.Line(arg, 64)
		case "playbook":
			raw.Playbook = arg
		case "unsupported":
			raw.Unsupported = true
		case "done":
			raw.Done = true
			cur = nil
		case "begin":
			if len(raw.Sections) >= maxSections {
				cur = nil
				continue
			}
			cur = &Section{}
			raw.Sections[arg] = cur
			raw.Running = arg
		case "end":
			id, code, _ := strings.Cut(arg, ":")
			if s := raw.Sections[id]; s != nil {
				s.Complete = true
				s.Exit, _ = strconv.Atoi(code)
			}
			if id == raw.Running {
				raw.Running = ""
			}
			cur = nil
		}
	}
	return raw
}

// taggedLine splits a line printed with LinePrefix into its section's ID
// and its text (with the line's newline).
func taggedLine(line, marker string) (id, text string, ok bool) {
	rest, ok := strings.CutPrefix(line, marker+"line:")
	if !ok {
		return "", "", false
	}
	id, text, ok = strings.Cut(rest, ">>")
	if !ok || len(id) > maxTag {
		return "", "", false
	}
	return id, text, true
}

// markerTag returns the tag of a line that is exactly one marker.
func markerTag(line, marker string) (string, bool) {
	if !strings.HasPrefix(line, marker) {
		return "", false
	}
	rest := strings.TrimRight(line[len(marker):], "\r\n")
	if !strings.HasSuffix(rest, ">>") || len(rest) > maxTag {
		return "", false
	}
	return rest[:len(rest)-2], true
}

// appendCapped adds text to s's builder in out, up to MaxSectionBytes.
func appendCapped(out map[*Section]*strings.Builder, s *Section, text string) {
	b := out[s]
	if b == nil {
		b = &strings.Builder{}
		out[s] = b
	}
	room := MaxSectionBytes - b.Len()
	if room <= 0 {
		return
	}
	b.WriteString(textsafe.Truncate(text, room))
}

// Document is what a PowerShell run prints between its json and done
// markers: every check's output and exit status.
type Document struct {
	OS       string                  `json:"os"`
	Playbook string                  `json:"playbook"`
	Sections map[string]DocumentPart `json:"sections"`
}

// DocumentPart is one check in a Document.
type DocumentPart struct {
	O string `json:"o"`
	X int    `json:"x"`
}

// SplitJSON reads a PowerShell run's output: the JSON document between
// the nonce markers, the first of which starts a line. Text around it (a
// banner, warnings) is ignored.
func SplitJSON(stdout []byte, nonce string) *Raw {
	raw := &Raw{Sections: map[string]*Section{}}
	text := string(stdout)
	begin := Marker(nonce, "json")
	i := strings.Index(text, begin)
	for i > 0 && text[i-1] != '\n' {
		j := strings.Index(text[i+1:], begin)
		if j < 0 {
			return raw
		}
		i += 1 + j
	}
	if i < 0 {
		return raw
	}
	text = text[i+len(begin):]
	end := strings.Index(text, Marker(nonce, "done"))
	if end < 0 {
		return raw // cut short: no complete document
	}
	var doc Document
	if err := json.Unmarshal([]byte(text[:end]), &doc); err != nil {
		return raw
	}
	raw.OS, raw.Playbook, raw.Done = textsafe.Line(doc.OS, 64), doc.Playbook, true
	for id, s := range doc.Sections {
		if len(raw.Sections) >= maxSections {
			break
		}
		raw.Sections[id] = &Section{Exit: s.X, Complete: true, Output: textsafe.Truncate(s.O, MaxSectionBytes)}
	}
	return raw
}

// Header describes a rendered script in its first lines (a comment to
// the shell), so that simulators answer the script they were sent without
// parsing shell or PowerShell.
type Header struct {
	Nonce   string `json:"nonce"`
	Manager string `json:"manager"`
	Port    int    `json:"port"`
	// Checks lists each playbook's check IDs, in the order they run.
	Checks map[string][]string `json:"checks"`
	// Params are each playbook's params as rendered for this host (its
	// probe timeouts after scaling to its deadline).
	Params map[string]map[string]string `json:"params,omitempty"`
}

const headerTag = "whyoffline-frame: "

// Comment renders h as one comment line ("# " works for sh and PowerShell).
func (h Header) Comment() string {
	b, _ := json.Marshal(h)
	return "# " + headerTag + string(b) + "\n"
}

// ParseHeader finds the header of a rendered script.
func ParseHeader(script string) (Header, error) {
	i := strings.Index(script, "# "+headerTag)
	if i < 0 {
		return Header{}, fmt.Errorf("no whyoffline-frame header")
	}
	line := script[i+2+len(headerTag):]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	var h Header
	if err := json.Unmarshal([]byte(line), &h); err != nil {
		return Header{}, fmt.Errorf("whyoffline-frame header: %v", err)
	}
	return h, nil
}

// Writer builds a POSIX script's output the way a host would print it:
// for simulators and tests.
type Writer struct {
	nonce string
	b     strings.Builder
}

// NewWriter starts the output of the script with this nonce.
func NewWriter(nonce string) *Writer { return &Writer{nonce: nonce} }

func (w *Writer) marker(tag string) { w.b.WriteString(Marker(w.nonce, tag) + "\n") }

// OS is what uname -s printed.
func (w *Writer) OS(name string) *Writer { w.marker("os:" + name); return w }

// Playbook is the branch that ran.
func (w *Writer) Playbook(os string) *Writer { w.marker("playbook:" + os); return w }

// Unsupported: the OS matched no playbook.
func (w *Writer) Unsupported() *Writer { w.marker("unsupported"); return w }

// Begin starts a check's section (a check that hangs never ends).
func (w *Writer) Begin(id string) *Writer { w.marker("begin:" + id); return w }

// Section writes a whole check: begin, output, end with its exit status.
func (w *Writer) Section(id, output string, exit int) *Writer {
	w.Begin(id)
	w.b.WriteString(output)
	if output != "" && !strings.HasSuffix(output, "\n") {
		w.b.WriteByte('\n')
	}
	w.marker("end:" + id + ":" + strconv.Itoa(exit))
	return w
}

// Done: the script ran to its end.
func (w *Writer) Done() *Writer { w.marker("done"); return w }

// String is the output so far.
func (w *Writer) String() string { return w.b.String() }

// JSONAnswer is what a PowerShell run prints: doc between the nonce's json
// and done markers, the first at the start of a line.
func JSONAnswer(nonce string, doc Document) []byte {
	b, _ := json.Marshal(doc)
	return []byte("\r\n" + Marker(nonce, "json") + string(b) + Marker(nonce, "done") + "\r\n")
}
