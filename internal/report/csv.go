package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// CSVHeader is the contract's header row: its eight columns, then the
// primary cause's confidence (confirmed, likely, possible), so a
// "likely" never reads as confirmed in a review.
var CSVHeader = []string{"host", "address", "os", "status", "primary_cause", "causes", "evidence", "remedy", "confidence"}

// csvWriter writes a row per host as it finishes (so a sweep of any size
// holds no results for it): rows come in the order hosts finish; sort by
// the host column for inventory order.
var csvFormat = Format{Name: "csv", Extensions: []string{".csv"}, Streams: true,
	open: func(w io.Writer, o Options) Writer {
		return &csvWriter{cw: csv.NewWriter(w), history: o.History, manager: o.ManagerStatus}
	}}

type csvWriter struct {
	cw      *csv.Writer
	header  bool
	history bool // a column: the change since the previous run
	manager bool // a column: the manager's own status text
}

func (c *csvWriter) start() error {
	if c.header {
		return nil
	}
	c.header = true
	head := append([]string{}, CSVHeader...)
	if c.history {
		head = append(head, "change")
	}
	if c.manager {
		head = append(head, ManagerCSVHeader...)
	}
	return c.cw.Write(head)
}

func (c *csvWriter) Host(_ int, h *result.Host) error {
	if err := c.start(); err != nil {
		return err
	}
	id, ev, rem := primary(h)
	conf := ""
	if len(h.Causes) > 0 {
		conf = string(h.Causes[0].Confidence)
	}
	row := []string{h.Name, h.Address, h.OS, string(h.Status), id, strings.Join(causeIDs(h), ";"), ev, rem, conf}
	if c.history {
		row = append(row, ChangeText(h.Change))
	}
	if c.manager {
		row = append(row, managerCells(h)...)
	}
	for j := range row {
		row[j] = CSVCell(row[j])
	}
	return c.cw.Write(row)
}

// End adds a row per fleet finding, its host column empty and its status
// "fleet": one problem that explains many hosts' rows.
func (c *csvWriter) End(run *result.Run) error {
	if err := c.start(); err != nil {
		return err
	}
	// a skipped host's row: status "skipped", the reason as evidence
	rows := make([][]string, 0, len(run.Skipped)+len(run.Fleet))
	for _, sk := range run.Skipped {
		rows = append(rows, []string{sk.Name, "", "", "skipped", "", "", sk.Reason + " (" + sk.Source + ")", "", ""})
	}
	for _, f := range run.Fleet {
		rows = append(rows, []string{"", "", "", "fleet", f.ID, strings.Join(f.Hosts, ";"), f.Evidence, f.Remedy, ""})
	}
	for _, row := range rows {
		if c.history {
			row = append(row, "")
		}
		if c.manager {
			row = append(row, make([]string, len(ManagerCSVHeader))...)
		}
		for j := range row {
			row[j] = CSVCell(row[j])
		}
		if err := c.cw.Write(row); err != nil {
			return err
		}
	}
	c.cw.Flush()
	return c.cw.Error()
}

// CSVCell makes a value safe for a spreadsheet: one clean line, and never
// the start of a formula (=, +, -, @, or a tab/CR that some importers
// strip first), which gets a leading apostrophe.
func CSVCell(s string) string {
	s = textsafe.Line(s, 4000)
	// what a spreadsheet skips before it looks for a formula: white space,
	// and invisible format characters (zero-width space, BOM, bidi marks)
	trimmed := strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
	if trimmed != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", []rune(trimmed)[0]) {
		return "'" + s
	}
	return s
}

// ManagerCSVHeader are the columns a run from the manager's API adds: the
// manager's status text, then its record of the computer.
var ManagerCSVHeader = []string{"manager_status", "manager_id", "offline_since", "agent_version", "platform", "last_ip"}

func managerCells(h *result.Host) []string {
	c := h.Computer
	if c == nil {
		return []string{h.ManagerStatus, "", "", "", "", ""}
	}
	since := ""
	if c.OfflineSince != nil {
		since = c.OfflineSince.UTC().Format(time.RFC3339)
	}
	return []string{h.ManagerStatus, strconv.Itoa(c.ID), since, c.AgentVersion, c.Platform, c.LastIP}
}
