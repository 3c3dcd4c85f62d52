// Package report renders results: a terminal table, the whyoffline/v1 JSON
// document, JSON lines streamed as hosts finish, CSV for ops review and a
// self-contained HTML page. Everything printed from a result is cleaned
// again here, because a saved run handed to `whyoffline report` is input
// like any other.
package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// Writer receives hosts as they finish and the whole run at the end.
type Writer interface {
	// Host is called once per host as it finishes; i is the host's place
	// in inventory order. A streaming writer writes or spills it now.
	Host(i int, h *result.Host) error
	// End is called once with the run. run.Hosts holds every host in
	// inventory order, except for a writer that Streams: that one has
	// what it needs from Host, and run.Hosts may hold only the hosts
	// fleet findings read.
	End(run *result.Run) error
}

// Streams reports whether w keeps what it needs from Host itself, so a
// sweep need not hold every host's result until End: jsonl and csv write
// each host as it finishes, json spills each to an unlinked temporary file
// and assembles the document at the end. Memory then stays flat in fleet
// size. The table and HTML writers need every host at once (they group
// and sort), so they hold the whole run.
func Streams(w Writer) bool {
	switch w := w.(type) {
	case tee:
		for _, x := range w {
			if !Streams(x) {
				return false
			}
		}
		return true
	case interface{ Inner() Writer }:
		return Streams(w.Inner())
	case interface{ Streams() bool }:
		return w.Streams()
	}
	return false
}

// Tee sends every host and the end to each writer in turn (the report and
// the state directory's copy of the run).
func Tee(ws ...Writer) Writer { return tee(ws) }

type tee []Writer

func (t tee) Host(i int, h *result.Host) error {
	for _, w := range t {
		if err := w.Host(i, h); err != nil {
			return err
		}
	}
	return nil
}

func (t tee) End(run *result.Run) error {
	for _, w := range t {
		if err := w.End(run); err != nil {
			return err
		}
	}
	return nil
}

// ChangeText is a host's change since the previous run, for a cell:
// "new", "still since 2026-11-20", "fixed (was diagnosed: ...)".
func ChangeText(c *result.Change) string {
	if c == nil {
		return ""
	}
	switch c.Kind {
	case result.ChangeStill:
		if c.Since != nil {
			return "still since " + c.Since.UTC().Format("2006-01-02")
		}
	case result.ChangeDifferent, result.ChangeFixed:
		if c.Previous != "" {
			return c.Kind + " (was " + c.Previous + ")"
		}
	}
	return c.Kind
}

// Options for writers.
type Options struct {
	Color bool // ANSI colour in the table
	Width int  // terminal width for the table (0: 120; -1: unlimited, nothing cut)
	// SpillDir is where -o json keeps hosts until the end: the --out
	// file's directory, which must be writable anyway (a read-only root
	// may have no writable $TMPDIR); "" is $TMPDIR.
	SpillDir string
	// History: the run is compared with a previous one (--state-dir), so
	// CSV gets a change column (the other formats show it when present).
	History bool
	// ManagerStatus: the hosts came from the manager's API, so CSV gets a
	// manager_status column with the manager's own words.
	ManagerStatus bool
}

var (
	jsonFormat = Format{Name: "json", Extensions: []string{".json"}, Streams: true,
		open: func(w io.Writer, o Options) Writer { return &jsonWriter{w: w, dir: o.SpillDir} }}
	jsonlFormat = Format{Name: "jsonl", Extensions: []string{".jsonl", ".ndjson"}, Streams: true,
		open: func(w io.Writer, _ Options) Writer { return &jsonlWriter{w: w, enc: json.NewEncoder(w)} }}
)

// jsonWriter writes one document, hosts in inventory order. Hosts finish
// in any order, so each is encoded as it finishes into a temporary file
// (unlinked at once: nothing is left behind, even on a crash) and only its
// offset is kept; End writes the document around them.
type jsonWriter struct {
	w     io.Writer
	dir   string // where to spill: beside --out (else $TMPDIR)
	spill *os.File
	at    []span // by inventory index; n == 0: no host there
	size  int64
}

type span struct {
	off  int64
	n    int
	name string // to mark the causes a fleet finding explains, at End
}

func (j *jsonWriter) Host(i int, h *result.Host) error {
	if i < 0 {
		return fmt.Errorf("host %q has no place in the run", h.Name)
	}
	if j.spill == nil {
		f, err := os.CreateTemp(j.dir, ".whyoffline-run-*.json")
		if err != nil && j.dir != "" {
			f, err = os.CreateTemp("", "whyoffline-run-*.json")
		}
		if err != nil {
			return fmt.Errorf("cannot spill hosts for -o json (write with --out FILE in a writable directory, or set TMPDIR to one): %v", err)
		}
		_ = os.Remove(f.Name())
		j.spill = f
	}
	b, err := json.MarshalIndent(h, "    ", "  ")
	if err != nil {
		return err
	}
	if _, err := j.spill.WriteAt(b, j.size); err != nil {
		return fmt.Errorf("spilling hosts for -o json: %v", err)
	}
	for len(j.at) <= i {
		j.at = append(j.at, span{})
	}
	j.at[i] = span{off: j.size, n: len(b), name: h.Name}
	j.size += int64(len(b))
	return nil
}

func (j *jsonWriter) End(run *result.Run) error {
	if j.spill != nil {
		defer j.spill.Close()
	}
	env := *run
	env.Hosts = nil
	if env.Fleet == nil {
		env.Fleet = []result.Finding{} // the contract: "fleet" is always a list
	}
	head, err := json.MarshalIndent(&env, "", "  ")
	if err != nil {
		return err
	}
	// Hosts is the document's last field: cut its null and write the
	// spilled hosts in its place.
	const tail = `"hosts": null` + "\n}"
	if !bytes.HasSuffix(head, []byte(tail)) {
		return fmt.Errorf("internal error: the run's JSON does not end with its hosts")
	}
	bw := bufio.NewWriterSize(j.w, 1<<16)
	bw.Write(head[:len(head)-len(tail)])
	bw.WriteString(`"hosts": [`)
	first := true
	var buf []byte
	// the fleet findings were known only after the hosts were spilled:
	// the hosts they explain are written again with their causes marked
	refs := result.FleetRefs(run.Fleet)
	for _, sp := range j.at {
		if sp.n == 0 {
			continue
		}
		if cap(buf) < sp.n {
			buf = make([]byte, sp.n)
		}
		buf = buf[:sp.n]
		if _, err := j.spill.ReadAt(buf, sp.off); err != nil {
			return fmt.Errorf("reading back spilled hosts: %v", err)
		}
		if _, listed := refs[sp.name]; listed {
			if buf, err = relink(buf, refs); err != nil {
				return err
			}
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		bw.WriteString("\n    ")
		bw.Write(buf)
	}
	if !first {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// relink marks a spilled host's causes with the fleet findings' refs.
func relink(b []byte, refs map[string]map[string]string) ([]byte, error) {
	var h result.Host
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("reading back spilled hosts: %v", err)
	}
	if !result.LinkFleet(&h, refs) {
		return b, nil
	}
	return json.MarshalIndent(&h, "    ", "  ")
}

type jsonlWriter struct {
	w   io.Writer
	enc *json.Encoder
}

func (j *jsonlWriter) Host(_ int, h *result.Host) error { return j.enc.Encode(h) }

func (j *jsonlWriter) End(run *result.Run) error {
	return j.enc.Encode(struct {
		Summary  result.Summary   `json:"summary"`
		Tool     *result.Tool     `json:"tool,omitempty"`
		Skipped  []result.Skipped `json:"skipped,omitempty"`
		Fleet    []result.Finding `json:"fleet"`
		Manager  *result.Manager  `json:"manager"`
		Started  any              `json:"started"`
		Finished any              `json:"finished"`
	}{run.Summary, run.Tool, run.Skipped, fleetList(run.Fleet), run.Manager, run.Started, run.Finished})
}

// fleetList is never null: the contract's "fleet" is always a list.
func fleetList(f []result.Finding) []result.Finding {
	if f == nil {
		return []result.Finding{}
	}
	return f
}

// MaxRun bounds a saved run, compressed or not (100,000 hosts with their
// checks are a few hundred MiB).
const MaxRun = 1 << 30

// OptionsFor are the extra columns a saved run needs: its change since
// the previous run, the manager's record — so report, merge and diff
// keep everything scan wrote.
func OptionsFor(run *result.Run) Options {
	var o Options
	for i := range run.Hosts {
		h := &run.Hosts[i]
		o.History = o.History || h.Change != nil
		o.ManagerStatus = o.ManagerStatus || h.ManagerStatus != "" || h.Computer != nil
	}
	if run.Manager != nil && run.Manager.API != nil {
		o.ManagerStatus = true
	}
	return o
}

// Read parses a saved run for re-rendering: one written with -o json, or
// gzip'd as --state-dir keeps them; the decompressed document is capped
// too.
func Read(r io.Reader) (*result.Run, error) {
	counted := &safefile.Counter{R: r}
	br := bufio.NewReader(counted)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("a gzip'd run that does not open: %v", err)
		}
		defer zr.Close()
		// a bomb is refused while it inflates, not after
		in = &safefile.Bounded{R: zr, Compressed: counted, Max: MaxRun}
	}
	lr := &io.LimitedReader{R: in, N: MaxRun + 1}
	dec := json.NewDecoder(lr)
	var run result.Run
	if err := dec.Decode(&run); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("the run is larger than %d MiB (decompressed): not a run whyoffline wrote", MaxRun>>20)
		}
		return nil, fmt.Errorf("not a whyoffline JSON run (%v); save one with: whyoffline scan ... -o json --out run.json", err)
	}
	if run.Schema != result.Schema {
		return nil, fmt.Errorf("schema %q is not %q: save the run with -o json (jsonl and csv cannot be re-rendered)", run.Schema, result.Schema)
	}
	if run.Fleet == nil {
		run.Fleet = []result.Finding{}
	}
	if err := contain(&run); err != nil {
		return nil, err
	}
	return &run, nil
}

// contain treats a saved run as the untrusted text it may be (a file can
// be edited or forged): every string is capped and stripped of control
// characters and escape sequences, as live host output is, and a status,
// confidence or error kind outside the schema is refused.
func contain(run *result.Run) error {
	line := func(s *string, max int) { *s = textsafe.Line(*s, max) }
	for i := range run.Fleet {
		f := &run.Fleet[i]
		line(&f.ID, 64)
		line(&f.Evidence, 1200)
		line(&f.Remedy, 1200)
	}
	if m := run.Manager; m != nil {
		line(&m.Host, 253)
		line(&m.Mode, 32)
		if a := m.API; a != nil {
			for _, p := range []*string{&a.URL, &a.Product, &a.Auth} {
				line(p, 200)
			}
			for _, l := range [][]string{a.UnknownStatusTexts, a.Ambiguous} {
				for j := range l {
					line(&l[j], 400)
				}
			}
		}
	}
	for i := range run.Skipped {
		sk := &run.Skipped[i]
		line(&sk.Name, 253)
		line(&sk.Source, 300)
		line(&sk.Reason, 600)
	}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		switch h.Status {
		case result.Healthy, result.Diagnosed, result.Unreachable, result.Error:
		default:
			return fmt.Errorf("host %d: status %q is not one of healthy, diagnosed, unreachable, error: not a run whyoffline wrote", i+1, textsafe.Line(string(h.Status), 40))
		}
		for _, p := range []*string{&h.Name, &h.Address, &h.OS, &h.Transport, &h.Role} {
			line(p, 253)
		}
		line(&h.ManagerStatus, 200)
		for j := range h.Groups {
			line(&h.Groups[j], 253)
		}
		containRecords(h)
		for j := range h.Causes {
			c := &h.Causes[j]
			switch c.Confidence {
			case result.Confirmed, result.Likely, result.Possible, "":
			default:
				return fmt.Errorf("host %s: confidence %q is not confirmed, likely or possible", h.Name, textsafe.Line(string(c.Confidence), 40))
			}
			line(&c.ID, 64)
			line(&c.Evidence, 1200)
			line(&c.Remedy, 1200)
		}
		for j := range h.Checks {
			c := &h.Checks[j]
			line(&c.ID, 64)
			line(&c.Result, 16)
			c.Output = textsafe.Block(c.Output, 4000)
		}
		for j := range h.Unverified {
			line(&h.Unverified[j].Check, 64)
			line(&h.Unverified[j].Reason, 400)
		}
		if e := h.Error; e != nil {
			e.Kind = result.ErrorKind(textsafe.Line(string(e.Kind), 40))
			line(&e.Message, 1200)
		}
	}
	return nil
}

// containRecords caps and strips a saved host's observed facts (what
// --rediagnose quotes) and the manager's record of it.
func containRecords(h *result.Host) {
	line := func(s *string, max int) { *s = textsafe.Line(*s, max) }
	if o := h.Observed; o != nil {
		// facts feed --rediagnose, whose evidence quotes them: a forged
		// run's facts are capped and stripped like a host's output
		clean := make(map[string][]string, len(o.Facts))
		for k, vs := range o.Facts {
			if len(clean) >= 2000 {
				break
			}
			if len(vs) > 1000 {
				vs = vs[:1000]
			}
			for j := range vs {
				line(&vs[j], 1200)
			}
			clean[textsafe.Line(k, 64)] = vs
		}
		o.Facts = clean
		for _, p := range []*string{&o.ConnectedAddr, &o.BastionResolveErr, &o.AgentPortFromManager, &o.AgentPortProbedFrom} {
			line(p, 200)
		}
		for j := range o.BastionAddrs {
			line(&o.BastionAddrs[j], 64)
		}
	}
	if c := h.Computer; c != nil {
		for _, p := range []*string{&c.Status, &c.AgentStatus, &c.AgentVersion, &c.Platform, &c.LastIP, &c.InstanceID, &c.MatchedBy} {
			line(p, 200)
		}
	}
}

// causeGroup is one cause — or one error kind, for hosts that could not
// be judged — with its hosts and what to do, for "What to do".
type causeGroup struct {
	ID    string
	Error bool // an error kind, not a cause
	Hosts []string
	// Remedy is shared by every host of the group; when hosts' remedies
	// differ (per-host numbers, another OS's wording, another manager),
	// Remedy is empty and Variants holds each text with its hosts, so no
	// host's text is ever shown as another host's.
	Remedy   string
	Variants []remedyVariant
}

type remedyVariant struct {
	Remedy string
	Hosts  []string
}

// groupCauses groups hosts by cause ID in contract order, then the hosts
// in error by kind.
func groupCauses(run *result.Run) []causeGroup {
	byID := map[string]*causeGroup{}
	texts := map[string]map[string][]string{} // group → remedy → hosts
	add := func(id string, isErr bool, remedy, host string) {
		g := byID[id]
		if g == nil {
			g = &causeGroup{ID: id, Error: isErr}
			byID[id] = g
			texts[id] = map[string][]string{}
		}
		g.Hosts = append(g.Hosts, host)
		texts[id][remedy] = append(texts[id][remedy], host)
	}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		for _, c := range h.Causes {
			add(c.ID, false, c.Remedy, h.Name)
		}
		if h.Error != nil && len(h.Causes) == 0 {
			add("error:"+string(h.Error.Kind), true, ErrorRemedy(h.Error.Kind), h.Name)
		}
	}
	out := make([]causeGroup, 0, len(byID))
	for key, g := range byID {
		g.ID = strings.TrimPrefix(key, "error:")
		if len(texts[key]) == 1 {
			for r := range texts[key] {
				g.Remedy = r
			}
		} else {
			for _, r := range slices.Sorted(maps.Keys(texts[key])) {
				g.Variants = append(g.Variants, remedyVariant{Remedy: r, Hosts: texts[key][r]})
			}
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Error != out[j].Error {
			return !out[i].Error
		}
		ri, rj := diagnose.Rank(out[i].ID), diagnose.Rank(out[j].ID)
		if ri != rj {
			return ri < rj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// errorRemedies say what to do for each kind of error: a host that could
// not be judged is work too. The host's own line (its error message)
// carries its specifics: the key and the exact command, the refused sudo
// rule, the unverified checks.
var errorRemedies = map[result.ErrorKind]string{
	result.HostKeyUnknown: "whyoffline did not log in: the host's SSH key is not in known_hosts. Verify the key out of band (the host's console, your CMDB), then add it " +
		"with the command in the host's line (ssh-keyscan -p PORT HOST >> KNOWN_HOSTS); on a first sweep of a network you trust, run once with " +
		"--host-key-policy accept-new and the keys are pinned from then on.",
	result.HostKeyMismatch: "The host's SSH key changed — reinstalled, or someone is intercepting. Verify the new key out of band, then replace the host's line " +
		"in known_hosts (ssh-keygen -R HOST, then add the verified key).",
	result.CertificateInvalid: "Renew or re-sign the host certificate the host's line names, or fix the @cert-authority line in known_hosts.",
	result.AuthFailed: "The login was refused: check the user, key and password source for the host (whyoffline inventory -l HOST shows what scan uses) " +
		"and that the key is authorised on the host.",
	result.PrivilegeDenied: "The checks need root: let the login user run them without a password (a sudo NOPASSWD rule, or pfexec on Solaris), or log in " +
		"as root; the host's line names the refused command.",
	result.Timeout: "The host did not finish within --timeout: it is slow or overloaded — itself a reason agents go offline. Check its load, then raise " +
		"its timeout (whyoffline_timeout in the inventory, or --timeout).",
	result.ConnectionRefused: "Nothing listens on the login port: start sshd (or WinRM: winrm quickconfig), or fix the port in the inventory.",
	result.ProtocolError:     "The host answered in a way whyoffline could not read (quoted in its line): check its login shell and shell startup files, or its WinRM endpoint.",
	result.UnsupportedOS:     "whyoffline checks Linux, Solaris, AIX and Windows hosts: set os: in the inventory if the detection was wrong.",
	result.Interrupted:       "The run was interrupted before the host finished: scan it again.",
	result.Incomplete: "Checks a verdict depends on did not finish or could not run (named in the host's line), so no verdict is claimed: raise --timeout, " +
		"or install the tool the line names.",
	result.JumpFailed: "The jump host or ProxyCommand failed (the host's line says which and why): fix it first; the host behind it was not judged.",
}

// ErrorRemedy is what to do about a host in error of kind k.
func ErrorRemedy(k result.ErrorKind) string {
	if r, ok := errorRemedies[k]; ok {
		return r
	}
	return "The host could not be judged: its line says why."
}

// remedyText is a group's remedy for one line: the shared text, or each
// variant with its hosts.
func (g causeGroup) remedyText(clip func(string, int) string) []string {
	if len(g.Variants) == 0 {
		return []string{clip(g.Remedy, 800)}
	}
	var out []string
	for _, v := range g.Variants {
		hosts := v.Hosts
		more := ""
		if len(hosts) > 5 {
			hosts, more = hosts[:5], fmt.Sprintf(" +%d", len(hosts)-5)
		}
		out = append(out, "["+clip(strings.Join(hosts, ", "), 200)+more+"] "+clip(v.Remedy, 800))
	}
	return out
}

// causeIDs lists a host's cause IDs.
func causeIDs(h *result.Host) []string {
	ids := make([]string, 0, len(h.Causes))
	for _, c := range h.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// primary returns the cause or error kind to show first.
func primary(h *result.Host) (id, evidence, remedy string) {
	if len(h.Causes) > 0 {
		ev := h.Causes[0].Evidence
		if u := unverifiedText(h); u != "" {
			ev += "; unverified: " + u
		}
		return h.Causes[0].ID, ev, h.Causes[0].Remedy
	}
	if h.Error != nil {
		return string(h.Error.Kind), h.Error.Message, ""
	}
	return "", "", ""
}

// unverifiedText lists a host's unverified checks with their reasons.
func unverifiedText(h *result.Host) string {
	var parts []string
	for _, u := range h.Unverified {
		parts = append(parts, u.Check+" ("+u.Reason+")")
	}
	return strings.Join(parts, ", ")
}
