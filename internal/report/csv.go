package report

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// CSVHeader is the contract's header row.
var CSVHeader = []string{"host", "address", "os", "status", "primary_cause", "causes", "evidence", "remedy"}

type csvWriter struct{ w io.Writer }

func (c *csvWriter) Host(*result.Host) error { return nil }

func (c *csvWriter) End(run *result.Run) error {
	cw := csv.NewWriter(c.w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		id, ev, rem := primary(h)
		row := []string{h.Name, h.Address, h.OS, string(h.Status), id, strings.Join(causeIDs(h), ";"), ev, rem}
		for j := range row {
			row[j] = CSVCell(row[j])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVCell makes a value safe for a spreadsheet: one clean line, and never
// the start of a formula (=, +, -, @, or a tab/CR that some importers
// strip first), which gets a leading apostrophe.
func CSVCell(s string) string {
	s = textsafe.Line(s, 4000)
	trimmed := strings.TrimLeftFunc(s, unicode.IsSpace)
	if trimmed != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", []rune(trimmed)[0]) {
		return "'" + s
	}
	return s
}
