package report

import (
	"fmt"
	"io"
	"strings"
)

// Format is one output format: the name -o takes, the file names that
// imply it when only --out is given, whether its writer streams (keeps
// what it needs from each host as it finishes, so a sweep's memory stays
// flat), and how to make its writer. A new format is one file declaring
// its Format beside its writer, and one line in formats below; -o's help,
// its validation, --out's guess and the contract test all read this list.
type Format struct {
	Name       string
	Extensions []string // lower case, with the dot
	Streams    bool
	open       func(w io.Writer, o Options) Writer
}

// formats is the registry, in the order help lists them.
func formats() []Format {
	return []Format{tableFormat, jsonFormat, jsonlFormat, csvFormat, htmlFormat}
}

// Names lists the formats -o accepts.
func Names() []string {
	var names []string
	for _, f := range formats() {
		names = append(names, f.Name)
	}
	return names
}

// NamesText is the formats for help and error text: "a, b or c".
func NamesText() string {
	n := Names()
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}

// LookupFormat finds a format by its -o name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range formats() {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// FormatForFile guesses a format from a file name ("" when unknown). The
// longest matching extension wins, so "run.jsonl" is jsonl, not json.
func FormatForFile(name string) string {
	lower := strings.ToLower(name)
	best, bestLen := "", 0
	for _, f := range formats() {
		for _, ext := range f.Extensions {
			if strings.HasSuffix(lower, ext) && len(ext) > bestLen {
				best, bestLen = f.Name, len(ext)
			}
		}
	}
	return best
}

// New returns the writer for format.
func New(format string, w io.Writer, o Options) (Writer, error) {
	f, ok := LookupFormat(format)
	if !ok {
		return nil, fmt.Errorf("unknown output format %q: use %s", format, NamesText())
	}
	return registered{Writer: f.open(w, o), streams: f.Streams}, nil
}

// registered carries its format's streaming flag to Streams.
type registered struct {
	Writer
	streams bool
}

func (r registered) Streams() bool { return r.streams }
