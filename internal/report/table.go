package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// The table groups and sorts, so it needs every host at once.
var tableFormat = Format{Name: "table", Extensions: []string{".txt"},
	open: func(w io.Writer, o Options) Writer { return &tableWriter{w: w, o: o} }}

type tableWriter struct {
	w io.Writer
	o Options
}

func (t *tableWriter) Host(int, *result.Host) error { return nil }

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiGrey   = "\x1b[90m"
)

func (t *tableWriter) paint(code, s string) string {
	if !t.o.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func statusColor(s result.Status) string {
	switch s {
	case result.Healthy:
		return ansiGreen
	case result.Diagnosed:
		return ansiYellow
	}
	return ansiRed
}

func (t *tableWriter) End(run *result.Run) error {
	width := t.o.Width
	if width == 0 {
		width = 120
	}
	nameW, causeW, changeW, managerW := columnWidths(run)
	const statusW = len("unreachable")
	evW := max(width-nameW-statusW-causeW-changeW-managerW-6, 30)
	if width < 0 {
		evW = 4000 // not a terminal: whole evidence, hints included
	}
	var b strings.Builder
	change, manager := "", ""
	row := func(name, status, statusCode, cause, ev string) {
		ch := ""
		if changeW > 0 {
			ch = pad(clean(change, 48), changeW) + "  "
		}
		if managerW > 0 {
			ch += pad(clean(manager, 40), managerW) + "  "
		}
		fmt.Fprintf(&b, "%s  %s  %s%s  %s\n",
			pad(name, nameW), t.paint(statusCode, pad(status, statusW)), ch, pad(cause, causeW), clean(ev, evW))
		change, manager = "", ""
	}
	head := ""
	if changeW > 0 {
		head = pad("CHANGE", changeW) + "  "
	}
	if managerW > 0 {
		head += pad("MANAGER", managerW) + "  "
	}
	// fleet findings first: 400 offline agents read as a few problems
	if len(run.Fleet) > 0 {
		b.WriteString(t.paint(ansiBold+ansiRed, "Fleet findings") + "\n")
		for _, f := range run.Fleet {
			fmt.Fprintf(&b, "  %s: %s\n    → %s\n", t.paint(ansiRed, clean(f.ID, 40)), clean(f.Evidence, 400), clean(f.Remedy, 600))
		}
		b.WriteString("\n")
	}
	b.WriteString(t.paint(ansiBold, fmt.Sprintf("%s  %s  %s%s  %s", pad("HOST", nameW), pad("STATUS", statusW), head, pad("CAUSE", causeW), "EVIDENCE")) + "\n")
	for i := range run.Hosts {
		h := &run.Hosts[i]
		name := clean(h.Name, 40)
		change, manager = ChangeText(h.Change), ManagerText(h)
		switch {
		case h.Error != nil && len(h.Causes) == 0:
			row(name, string(h.Status), statusColor(h.Status), clean(string(h.Error.Kind), 30), h.Error.Message)
		case len(h.Causes) == 0:
			row(name, string(h.Status), statusColor(h.Status), "-", "agent running, every check passed")
		default:
			for j, c := range h.Causes {
				id := clean(c.ID, 30)
				ev := "[" + string(c.Confidence) + "] " + c.Evidence
				if c.FleetRef != "" {
					ev = "[" + string(c.Confidence) + ", fleet: " + c.FleetRef + "] " + c.Evidence
				}
				if j == 0 {
					row(name, string(h.Status), statusColor(h.Status), id, ev)
				} else {
					row("", "", "", "+ "+id, ev)
				}
			}
			if u := unverifiedText(h); u != "" && h.Error == nil {
				row("", "", "", "? unverified", u)
			}
		}
	}
	t.whatToDo(&b, groupCauses(run))
	if len(run.Skipped) > 0 {
		b.WriteString("\n" + t.paint(ansiBold, "Skipped (not scanned, not judged)") + "\n")
		for _, sk := range run.Skipped {
			fmt.Fprintf(&b, "  %s (%s): %s\n", clean(sk.Name, 60), clean(sk.Source, 120), clean(sk.Reason, 300))
		}
	}
	s := run.Summary
	dur := run.Finished.Sub(run.Started).Round(100_000_000)
	skipped := ""
	if s.Skipped > 0 {
		skipped = fmt.Sprintf(" (%d more skipped)", s.Skipped)
	}
	fmt.Fprintf(&b, "\n%d hosts%s: %s healthy, %s diagnosed, %s unreachable, %s error — %s\n", s.Hosts, skipped,
		t.paint(ansiGreen, fmt.Sprint(s.Healthy)), t.paint(ansiYellow, fmt.Sprint(s.Diagnosed)),
		t.paint(ansiRed, fmt.Sprint(s.Unreachable)), t.paint(ansiRed, fmt.Sprint(s.Error)), dur)
	_, err := io.WriteString(t.w, b.String())
	return err
}

// columnWidths measures the host, cause and optional columns: CHANGE
// only when the run was compared with one before, MANAGER only when the
// hosts came from the manager's API (0: no such column).
func columnWidths(run *result.Run) (nameW, causeW, changeW, managerW int) {
	nameW, causeW = len("HOST"), len("CAUSE")
	for i := range run.Hosts {
		h := &run.Hosts[i]
		nameW = max(nameW, min(utf8.RuneCountInString(clean(h.Name, 40)), 40))
		for _, c := range h.Causes {
			causeW = max(causeW, len(clean(c.ID, 30))+2)
		}
		if h.Error != nil {
			causeW = max(causeW, len(clean(string(h.Error.Kind), 30)))
		}
		if h.Change != nil {
			changeW = max(changeW, len("CHANGE"), min(utf8.RuneCountInString(ChangeText(h.Change)), 48))
		}
		if m := ManagerText(h); m != "" {
			managerW = max(managerW, len("MANAGER"), min(utf8.RuneCountInString(m), 40))
		}
	}
	return nameW, causeW, changeW, managerW
}

// clean makes a result string safe for one table cell.
func clean(s string, max int) string { return textsafe.Line(s, max) }

func pad(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

// ManagerText is the manager's word on a host for one cell: its status,
// and since when the agent has not communicated.
func ManagerText(h *result.Host) string {
	t := h.ManagerStatus
	if c := h.Computer; c != nil && c.OfflineSince != nil {
		since := c.OfflineSince.UTC().Format("2006-01-02 15:04")
		if t == "" {
			return "since " + since
		}
		t += ", since " + since
	}
	return t
}

// whatToDo writes the "What to do" section: each cause, and each kind of
// error, with its hosts and remedy.
func (t *tableWriter) whatToDo(b *strings.Builder, groups []causeGroup) {
	if len(groups) == 0 {
		return
	}
	b.WriteString("\n" + t.paint(ansiBold, "What to do") + "\n")
	for _, g := range groups {
		hosts := g.Hosts
		more := ""
		if len(hosts) > 8 {
			more = fmt.Sprintf(" and %d more", len(hosts)-8)
			hosts = hosts[:8]
		}
		for i := range hosts {
			hosts[i] = clean(hosts[i], 40)
		}
		label := clean(g.ID, 40)
		if g.Error {
			label += " (could not judge)"
		}
		fmt.Fprintf(b, "  %s (%d: %s%s)\n", t.paint(ansiYellow, label), len(g.Hosts), strings.Join(hosts, ", "), more)
		for _, r := range g.remedyText(clean) {
			fmt.Fprintf(b, "    → %s\n", r)
		}
	}
}
