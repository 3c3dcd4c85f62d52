// Package textsafe turns untrusted text — remote command output, inventory
// values, log lines — into something safe to print: valid UTF-8, no control
// characters or terminal escape sequences, and bounded in size.
package textsafe

import (
	"net/netip"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks text that was cut to fit its cap.
const Ellipsis = "…"

// Line cleans s for a single-line context (a table cell, an evidence string):
// newlines and tabs become spaces, runs of spaces collapse, escape sequences
// and other control characters are dropped, and the result holds at most max
// runes (max <= 0 means no cap).
func Line(s string, max int) string {
	return clean(s, max, false)
}

// Block cleans s for a multi-line context (check output): like Line but
// newlines are kept.
func Block(s string, max int) string {
	return clean(s, max, true)
}

// FirstLines is the first n non-empty lines of s, each trimmed, joined
// with " | " into one clean line of at most max runes: what a program
// said, quoted in a message.
func FirstLines(s string, n, max int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
			if len(out) == n {
				break
			}
		}
	}
	return Line(strings.Join(out, " | "), max)
}

func clean(s string, max int, keepNewlines bool) string {
	var b strings.Builder
	b.Grow(min(len(s), 4096))
	n := 0
	lastSpace := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			r = '\uFFFD'
			size = 1
		}
		// ESC starts a terminal control sequence: skip the whole sequence,
		// not just the ESC byte, so "\x1b[2J" leaves nothing behind.
		if r == 0x1b {
			i += size + escapeLen(s[i+size:])
			continue
		}
		i += size
		switch {
		case keepNewlines && (r == '\n' || r == '\t'):
		case r == '\r':
			continue
		case r == '\n' || r == '\t' || r == ' ':
			if keepNewlines {
				break
			}
			// One line: whitespace runs collapse to one space, none leading.
			if lastSpace || n == 0 {
				continue
			}
			r = ' '
			lastSpace = true
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidi(r):
			continue
		default:
			lastSpace = false
		}
		if max > 0 && n >= max {
			out := b.String()
			return strings.TrimRight(out, " ") + Ellipsis
		}
		b.WriteRune(r)
		n++
	}
	out := b.String()
	if !keepNewlines {
		out = strings.TrimRight(out, " ")
	}
	return out
}

// escapeLen returns how many bytes after an ESC belong to its sequence
// (CSI "[...final", OSC "]...BEL/ST", or a single following byte).
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		for j := 1; j < len(s) && j < 64; j++ {
			if s[j] >= 0x40 && s[j] <= 0x7e {
				return j + 1
			}
		}
		return min(len(s), 64)
	case ']':
		for j := 1; j < len(s) && j < 512; j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return min(len(s), 512)
	default:
		return 1
	}
}

// isBidi reports Unicode bidirectional overrides, which can make a printed
// line read differently from what it contains.
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f'
}

// Truncate caps s at max bytes without splitting a UTF-8 sequence.
func Truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// CappedBuffer is an io.Writer that keeps at most Limit bytes and records
// whether anything was dropped; it never returns an error, so a flood of
// remote output cannot make the caller's copy loop fail half-way (a
// library's output pipes must keep draining). It is safe for a writer and
// a reader at once: a failed handshake reads what a ProxyCommand wrote so
// far, a WinRM shell's streams are written by the library's goroutines.
// Every transport's output goes through this one type.
type CappedBuffer struct {
	Limit int
	// OnFull, if set, is called once, when the first byte is dropped:
	// the caller stops the flood at its source.
	OnFull func()

	mu      sync.Mutex
	buf     []byte
	dropped bool
}

func (c *CappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.Limit - len(c.buf)
	if len(p) > room {
		if room > 0 {
			c.buf = append(c.buf, p[:room]...)
		}
		if len(p) > 0 {
			c.drop()
		}
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *CappedBuffer) drop() {
	if !c.dropped && c.OnFull != nil {
		c.OnFull()
	}
	c.dropped = true
}

// Bytes returns what was kept so far. Later writes only append, so the
// slice returned never changes under the caller.
func (c *CappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf[:len(c.buf):len(c.buf)]
}

// String is Bytes as text.
func (c *CappedBuffer) String() string { return string(c.Bytes()) }

// Truncated reports whether anything was dropped.
func (c *CappedBuffer) Truncated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// HostName reports whether s is usable as a host name or address: an IP
// literal, or a DNS name of letters, digits, '-' and '_' in labels of at
// most 63 bytes, 253 in all, not starting with '-'. A name a host reports
// (its agent's manager) is used in evidence, remedies and lookups only if
// it is one.
func HostName(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '-' {
		return false
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
