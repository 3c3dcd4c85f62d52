package playbook

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/frame"
)

// Params are the values a script is rendered with. Every one of them ends
// up in the script only as a single-quoted shell word.
type Params struct {
	Manager   string // manager host name or address ("" when unknown)
	Port      int    // heartbeat port
	AgentPort int    // agent's listening port (manager-initiated mode)
	Mode      string // manager mode
	// ManagerAddr is the bastion's address for Manager ("" when it did
	// not resolve): a host that cannot resolve the name still gets its
	// port tested against it.
	ManagerAddr string
	Nonce       string // marks section boundaries; see NewNonce
	// Budget is the host's whole deadline (0: none). The playbook's
	// *_timeout params are its defaults for a 60 s budget; a shorter
	// budget shrinks each in proportion (never below 1 s), so the probes
	// fit the deadline instead of outliving it.
	Budget time.Duration
}

// defaultBudget is the host deadline the playbooks' timeouts are set for.
const defaultBudget = 60 * time.Second

// param is a playbook param's value for this render.
func (p Params) param(name, value string) string {
	if p.Budget <= 0 || p.Budget >= defaultBudget || !strings.HasSuffix(name, "_timeout") {
		return value
	}
	n, err := strconv.Atoi(value)
	if err != nil || n <= 1 {
		return value
	}
	scaled := int(int64(n) * int64(p.Budget) / int64(defaultBudget))
	return strconv.Itoa(max(1, scaled))
}

// NewNonce returns a random marker for one run. Section markers carry it so
// that text inside a host's logs cannot forge a section boundary.
func NewNonce() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to a
		// fixed marker rather than refusing to scan.
		return "5ca1ab1e5ca1ab1e"
	}
	return hex.EncodeToString(b)
}

// Script is what one host is sent: the command to execute and the script
// body it reads on standard input.
type Script struct {
	Command string
	Body    []byte
	Nonce   string
	// Playbooks are the OSes whose checks the script holds: the only ones
	// a host's answer may claim.
	Playbooks []*Playbook
}

// Holds returns the playbook for os if the script holds its checks.
func (s *Script) Holds(os string) *Playbook {
	for _, p := range s.Playbooks {
		if p.OS == os {
			return p
		}
	}
	return nil
}

// ShellQuote quotes s as one POSIX shell word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RenderUnix builds the script for a POSIX host. With os == "" the script
// asks `uname -s` and runs the matching playbook's checks, so OS detection
// costs no extra round trip. become is "", "sudo" or "pfexec".
func (s *Set) RenderUnix(os, become string, p Params) (*Script, error) {
	var books []*Playbook
	if os == "" {
		books = s.Unix()
	} else {
		b := s.ForOS(os)
		if b == nil {
			return nil, fmt.Errorf("no playbook for os %q", os)
		}
		if b.Shell != "posix" {
			return nil, fmt.Errorf("playbook %s is not a POSIX shell playbook", b.ID)
		}
		books = []*Playbook{b}
	}
	if len(books) == 0 {
		return nil, fmt.Errorf("no POSIX playbooks loaded")
	}
	if !isHex(p.Nonce) {
		return nil, fmt.Errorf("nonce must be hex")
	}
	cmd := books[0].Exec
	if become != "" {
		c, ok := books[0].Become[become]
		if !ok {
			return nil, fmt.Errorf("become method %q is not supported by playbook %s", become, books[0].ID)
		}
		cmd = c
	}
	var w strings.Builder
	w.WriteString("# whyoffline read-only checks\n")
	w.WriteString(header(p, books).Comment())
	// Not every playbook reads every WO_* variable.
	w.WriteString("# shellcheck disable=SC2034\n")
	fmt.Fprintf(&w, "WO_MANAGER=%s\n", ShellQuote(p.Manager))
	fmt.Fprintf(&w, "WO_PORT=%s\n", ShellQuote(strconv.Itoa(p.Port)))
	fmt.Fprintf(&w, "WO_AGENT_PORT=%s\n", ShellQuote(strconv.Itoa(p.AgentPort)))
	fmt.Fprintf(&w, "WO_MODE=%s\n", ShellQuote(p.Mode))
	fmt.Fprintf(&w, "WO_BASTION_NAME=%s\n", ShellQuote(p.Manager))
	fmt.Fprintf(&w, "WO_BASTION_ADDR=%s\n", ShellQuote(p.ManagerAddr))
	w.WriteString("LC_ALL=C; LANG=C; export LC_ALL LANG\n")
	w.WriteString("PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin:/usr/xpg4/bin:$PATH; export PATH\n")
	// the newline, for the checks' shell-side line handling
	w.WriteString("wo_nl='\n'\n")
	// One uname for the OS and what setup reports of it (POSIX prints
	// the fields in this order; only the version may hold spaces).
	w.WriteString("WO_UNAME=`uname -s -n -r -v 2>/dev/null`\n")
	w.WriteString("wo_os=${WO_UNAME%% *}\n")
	// Every marker is printed on a line of its own (after a newline: the
	// login shell or a check may have left a line unfinished), and host
	// text only ever as a printf argument.
	fmt.Fprintf(&w, "printf '\\n%s\\n' \"$wo_os\"\n", frame.Marker(p.Nonce, "os:%s"))
	w.WriteString("case \"$wo_os\" in\n")
	for _, b := range books {
		fmt.Fprintf(&w, "%s)\n", ShellQuote(b.Uname))
		mark(&w, p.Nonce, "playbook:"+b.OS)
		for _, name := range slices.Sorted(maps.Keys(b.Params)) {
			fmt.Fprintf(&w, "WO_%s=%s\n", strings.ToUpper(name), ShellQuote(p.param(name, b.Params[name])))
		}
		writeChecks(&w, p.Nonce, b.Checks)
		w.WriteString(";;\n")
	}
	w.WriteString("*)\n")
	mark(&w, p.Nonce, "unsupported")
	w.WriteString(";;\nesac\n")
	mark(&w, p.Nonce, "done")
	return &Script{Command: cmd, Body: []byte(w.String()), Nonce: p.Nonce, Playbooks: books}, nil
}

// header describes the script for the simulators (frame.ParseHeader).
func header(p Params, books []*Playbook) frame.Header {
	h := frame.Header{Nonce: p.Nonce, Manager: p.Manager, Port: p.Port, Checks: map[string][]string{}, Params: map[string]map[string]string{}}
	for _, b := range books {
		for _, c := range b.Checks {
			h.Checks[b.OS] = append(h.Checks[b.OS], c.ID)
		}
		if len(b.Params) > 0 {
			h.Params[b.OS] = map[string]string{}
			for k, v := range b.Params {
				h.Params[b.OS][k] = p.param(k, v)
			}
		}
	}
	return h
}

// mark prints one fixed marker on a line of its own.
func mark(w *strings.Builder, nonce, tag string) {
	fmt.Fprintf(w, "printf '\\n%s\\n'\n", frame.Marker(nonce, tag))
}

// writeChecks writes the checks in order; a run of checks with lanes is
// one concurrent block (writeLanes).
func writeChecks(w *strings.Builder, nonce string, checks []Check) {
	for i := 0; i < len(checks); {
		if checks[i].Lane == "" {
			c := checks[i]
			writeSection(w, nonce, c.ID, c.Run, c.InShell)
			i++
			continue
		}
		j := i
		for j < len(checks) && checks[j].Lane != "" {
			j++
		}
		writeLanes(w, nonce, checks[i:j])
		i = j
	}
}

// writeLanes runs each lane of a block in the background and waits for
// them all. A lane runs its checks in order, each in a subshell whose
// output is held until it ends and then printed between its markers,
// every line behind frame.LinePrefix. No shell prints a section in one
// write — bash line-buffers its stdout, dash, ksh, mksh and busybox cut
// at 4 or 8 KiB, wherever that falls in a line — so lanes interleave,
// and a line must say whose it is; one printf per line makes each line
// one write (below the pipe's atomic 4 KiB). A check's exports reach the
// checks after it in its lane.
//
// The held output is split into lines by the shell itself (IFS is a
// newline, globbing off): no process per check, and empty lines drop
// out, which no fact rule reads. IFS is then set back to the POSIX
// default the checks after it expect.
func writeLanes(w *strings.Builder, nonce string, checks []Check) {
	var lanes []string
	byLane := map[string][]Check{}
	for _, c := range checks {
		if _, ok := byLane[c.Lane]; !ok {
			lanes = append(lanes, c.Lane)
		}
		byLane[c.Lane] = append(byLane[c.Lane], c)
	}
	w.WriteString("# concurrent: " + strings.Join(lanes, ", ") + "\n")
	for _, lane := range lanes {
		w.WriteString("(\n")
		for _, c := range byLane[lane] {
			// the check's function runs in the command substitution's
			// subshell, whose exit ends only the check; $( ) and not
			// backquotes: the snippets use backquotes inside; an
			// assignment's status is its command substitution's
			writeCheckFunc(w, c.Run)
			w.WriteString("wo_sec=$( wo_check </dev/null 2>&1 ); wo_x=$?\n")
			fmt.Fprintf(w, "printf '%%s\\n' '%s'\n", frame.Marker(nonce, "begin:"+c.ID))
			w.WriteString("IFS='\n'; set -f\n")
			fmt.Fprintf(w, "for wo_line in $wo_sec; do printf '%s%%s\\n' \"$wo_line\"; done\n", frame.LinePrefix(nonce, c.ID))
			w.WriteString("IFS=' \t\n'; set +f\n")
			fmt.Fprintf(w, "printf '%s\\n' \"$wo_x\"\n", frame.Marker(nonce, "end:"+c.ID+":%s"))
			// an export is the value of the first KEY= line, read by the
			// shell (no process)
			for _, v := range slices.Sorted(maps.Keys(c.Exports)) {
				fmt.Fprintf(w, "wo_ex=$wo_nl$wo_sec; case $wo_ex in *\"$wo_nl\"%s*) wo_ex=${wo_ex#*\"$wo_nl\"%s}; %s=${wo_ex%%%%\"$wo_nl\"*} ;; *) %s='' ;; esac\n",
					ShellQuote(c.Exports[v]+"="), ShellQuote(c.Exports[v]+"="), v, v)
			}
		}
		w.WriteString(") </dev/null &\n")
	}
	w.WriteString("wait\n")
}

// writeCheckFunc defines the function wo_check whose body is a check's
// code: a check ends with return, and a function is what gives it one.
func writeCheckFunc(w *strings.Builder, body string) {
	fmt.Fprintf(w, "wo_check() {\n%s\n}\n", strings.TrimRight(body, "\n"))
}

// writeSection frames one snippet with begin/end markers carrying its exit
// status. A check runs as a function with stdin closed, so one that reads
// input cannot disturb the rest; it runs in the script's own shell — no
// process per check — unless its text says exit, when it runs in a
// subshell so the exit ends the check and not the script (a site's
// overlay may still be written that way). What a check in the script's
// shell may leave behind that would change how the checks after it read
// the host — globbing off, IFS changed — is set back after it, so one
// that returns early from inside `set -f` cannot make the log checks
// read no logs. An in_shell check runs in the script's own shell so the
// variables it sets reach the checks after it.
func writeSection(w *strings.Builder, nonce, id, body string, inShell bool) {
	mark(w, nonce, "begin:"+id)
	if !inShell {
		writeCheckFunc(w, body)
		if exitWord.MatchString(body) {
			w.WriteString("( wo_check ) </dev/null 2>&1\n")
		} else {
			w.WriteString("wo_check </dev/null 2>&1\n")
		}
		fmt.Fprintf(w, "wo_x=$?; set +f; IFS=' \t\n'\nprintf '\\n%s\\n' \"$wo_x\"\n", frame.Marker(nonce, "end:"+id+":%s"))
		return
	}
	// An in-shell check sets variables for the checks after it; the status
	// of its last command says nothing, so its end marker carries 0.
	fmt.Fprintf(w, "{\n%s\n} </dev/null 2>&1\n", strings.TrimRight(body, "\n"))
	mark(w, nonce, "end:"+id+":0")
}

// exitWord finds the word exit in a snippet (conservatively: in a string
// or a comment too).
var exitWord = regexp.MustCompile(`(^|[^A-Za-z0-9_])exit($|[^A-Za-z0-9_])`)

func isHex(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Origin says where line n (1-based) of the rendered script is written:
// the playbook file and line of the check's run: text it comes from. ok
// is false for the lines the renderer writes itself (markers, params,
// the frame). A linter's finding in the script thus names the line a
// person edits.
func (s *Script) Origin(n int) (file string, line int, check string, ok bool) {
	body := string(s.Body)
	for _, pb := range s.Playbooks {
		for i := range pb.Checks {
			c := &pb.Checks[i]
			run := strings.TrimRight(c.Run, "\n")
			if run == "" || c.runLine == 0 {
				continue
			}
			for from := 0; ; {
				k := strings.Index(body[from:], run)
				if k < 0 {
					break
				}
				at := from + k
				from = at + 1
				// whole lines only
				if at > 0 && body[at-1] != '\n' || at+len(run) < len(body) && body[at+len(run)] != '\n' {
					continue
				}
				start := strings.Count(body[:at], "\n") + 1
				if n >= start && n < start+strings.Count(run, "\n")+1 {
					return c.runFile, c.runLine + n - start, c.ID, true
				}
			}
		}
	}
	return "", 0, "", false
}
