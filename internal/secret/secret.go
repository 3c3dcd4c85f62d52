// Package secret scrubs secrets from text before it leaves the process:
// error messages quoting what a remote endpoint answered, evidence, log
// lines, reports. A Scrubber knows the secrets of a host or a run —
// passwords, keys, vault-decrypted values — and hides each in every form
// an echo might carry it: as written, case-folded, URL-encoded, base64
// (alone, and as the user:password of HTTP Basic), and the values of
// credential headers (Authorization, Proxy-Authorization, Cookie,
// api-secret-key) whatever they hold.
package secret

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Hidden replaces a secret.
const Hidden = "[secret hidden]"

// headers are credential headers an echo (a proxy's error page, a debug
// endpoint) may repeat, with their values: in HTTP form (Name: value) or
// as JSON/XML-ish name/value pairs ("api-secret-key":"…").
var headers = regexp.MustCompile(`(?i)((?:proxy-)?authorization|cookie|set-cookie|api-secret-key|x-api-key)("?\s*[:=]\s*"?)([^"\r\n<]+)`)

// minLen is the shortest secret hidden: a one- or two-character
// "password" would turn ordinary text into noise.
const minLen = 4

// Scrubber hides a set of secrets. The zero value hides only header
// values. Scrub may be called from many goroutines at once (a sweep
// scrubs hosts as they finish); Add and Merge belong to whoever builds it.
type Scrubber struct {
	needles []string
	mu      sync.Mutex
	lowered []string // needles, ASCII-folded, longest first (built on use)
}

// New is a scrubber for secrets (empty ones are ignored).
func New(secrets ...string) *Scrubber {
	s := &Scrubber{}
	for _, v := range secrets {
		s.Add(v)
	}
	return s
}

// Add hides v and its encodings.
func (s *Scrubber) Add(v string) {
	if len(v) < minLen {
		return
	}
	s.needles = append(s.needles, v, url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)))
	s.lowered = nil
}

// AddCredential hides a password and the Basic-auth encodings of the
// user with it (user:password).
func (s *Scrubber) AddCredential(user, password string) {
	s.Add(password)
	if len(password) < minLen {
		return
	}
	for _, u := range []string{user, strings.ToLower(user)} {
		pair := u + ":" + password
		s.needles = append(s.needles, base64.StdEncoding.EncodeToString([]byte(pair)), base64.RawStdEncoding.EncodeToString([]byte(pair)))
	}
	s.lowered = nil
}

// Merge adds another scrubber's secrets.
func (s *Scrubber) Merge(o *Scrubber) {
	if o == nil {
		return
	}
	s.needles = append(s.needles, o.needles...)
	s.lowered = nil
}

// Empty reports whether s hides only header values.
func (s *Scrubber) Empty() bool { return s == nil || len(s.needles) == 0 }

// folded is the needles to look for, built once after the last Add.
func (s *Scrubber) folded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lowered == nil {
		seen := map[string]bool{}
		for _, n := range s.needles {
			if l := asciiLower(n); len(l) >= minLen && !seen[l] {
				seen[l] = true
				s.lowered = append(s.lowered, l)
			}
		}
		// longest first, so a secret's encoding is hidden whole
		sort.Slice(s.lowered, func(i, j int) bool { return len(s.lowered[i]) > len(s.lowered[j]) })
	}
	return s.lowered
}

// mayHoldHeader is a cheap test before the header expression: most text
// (evidence, hostnames) has neither a separator nor a header's name.
func mayHoldHeader(low string) bool {
	for _, h := range []string{"authorization", "cookie", "api-secret-key", "x-api-key"} {
		if strings.Contains(low, h) {
			return true
		}
	}
	return false
}

// Scrub returns text with every known secret (case folded for ASCII
// letters) and every credential header's value hidden. It works on bytes:
// a secret or a text that is not valid UTF-8 is matched all the same.
func (s *Scrubber) Scrub(text string) string {
	var needles []string
	if !s.Empty() {
		needles = s.folded()
	}
	return scrub(text, needles)
}

// scrub hides the folded needles and credential headers' values in text.
func scrub(text string, needles []string) string {
	if text == "" {
		return text
	}
	if strings.ContainsAny(text, ":=") && mayHoldHeader(asciiLower(text)) {
		text = headers.ReplaceAllString(text, "${1}${2}"+Hidden)
	}
	if len(needles) == 0 || len(text) < minLen {
		return text
	}
	low := asciiLower(text)
	var hide []bool // made on the first match: most text holds none
	if cut := cutTail(low, needles); cut > 0 {
		hide = make([]bool, len(text))
		for k := len(text) - len(ellipsis) - cut; k < len(text)-len(ellipsis); k++ {
			hide[k] = true
		}
	}
	for _, n := range needles {
		for from := 0; ; {
			i := strings.Index(low[from:], n)
			if i < 0 {
				break
			}
			for k := from + i; k < from+i+len(n); k++ {
				if hide == nil {
					hide = make([]bool, len(text))
				}
				hide[k] = true
			}
			from += i + 1
		}
	}
	if hide == nil {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if !hide[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(Hidden)
		for i < len(text) && hide[i] {
			i++
		}
	}
	return b.String()
}

// ellipsis ends a text cut to length (textsafe.Ellipsis).
const ellipsis = "…"

// cutTail is how many bytes before a closing ellipsis begin a secret the
// cut left unfinished (0: none): a capped evidence line must not keep the
// first half of a password.
func cutTail(low string, needles []string) int {
	if !strings.HasSuffix(low, ellipsis) {
		return 0
	}
	body := low[:len(low)-len(ellipsis)]
	best := 0
	for _, n := range needles {
		for k := len(n) - 1; k >= minLen && k > best; k-- {
			if strings.HasSuffix(body, n[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// asciiLower folds ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	upper := false
	for i := 0; i < len(s) && !upper; i++ {
		upper = 'A' <= s[i] && s[i] <= 'Z'
	}
	if !upper {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Bytes is Scrub for raw output; b itself is returned when nothing in it
// is hidden.
func (s *Scrubber) Bytes(b []byte) []byte {
	t := s.Scrub(string(b))
	if len(t) == len(b) && t == string(b) {
		return b
	}
	return []byte(t)
}
