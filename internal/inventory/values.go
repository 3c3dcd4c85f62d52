package inventory

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/whyoffline/whyoffline/internal/didyoumean"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// MaxHosts bounds how many hosts one inventory may expand to, so that a typo
// like web[0:99999999] is an error rather than an out-of-memory.
const MaxHosts = 1_000_000

// clip makes an untrusted value safe to quote in an error message.
func clip(s string) string { return textsafe.Line(s, 80) }

// secretWord marks a variable that holds a secret (ansible_password,
// ansible_become_pass, vault_..., api_token, private keys).
var secretWord = regexp.MustCompile(`(?i)pass|secret|token|vault|private_key|credential`)

// secretAssignment is key=value (or key: value) for a secret-named key,
// anywhere in a line.
var secretAssignment = regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:pass|secret|token|vault|private_key|credential)[A-Za-z0-9_.-]*(?:\s*[=:]\s*|\s+))("[^"]*"?|'[^']*'?|\S+)`)

// clipLine quotes a line of an inventory in an error: clipped, and every
// secret-named variable's value hidden — an error message lands in
// terminals and logs.
func clipLine(s string) string {
	return clip(secretAssignment.ReplaceAllString(s, "${1}(hidden)"))
}

// clipValue quotes a setting's value in an error, unless the setting holds
// a secret.
func clipValue(key, v string) string {
	if secretWord.MatchString(key) {
		return "(hidden)"
	}
	return clip(v)
}

// checkToken accepts names, users and addresses: printable, no spaces, no
// shell or option syntax at the front. These values are quoted wherever they
// are used, but refusing obvious garbage gives a clearer error earlier.
func checkToken(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > 255 {
		return errors.New("is longer than 255 characters")
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q starts with '-'", clip(s))
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("'\"`$;&|<>(){}\\", r) {
			return fmt.Errorf("%q contains %q, which no host or user name has", clip(s), r)
		}
	}
	return nil
}

// checkUser is checkToken that also accepts a Windows down-level logon
// name, DOMAIN\user. A user name never reaches a shell: it is an SSH user
// or an HTTP authentication field.
func checkUser(s string) error {
	if d, u, ok := strings.Cut(s, `\`); ok && d != "" && u != "" && !strings.Contains(u, `\`) {
		if err := checkToken(d + u); err != nil {
			return fmt.Errorf("%q: %v", clip(s), err)
		}
		return nil
	}
	return checkToken(s)
}

// checkHostName accepts an Ansible host name: an address, or
// user@address.
func checkHostName(s string) error {
	if u, a, ok := strings.Cut(s, "@"); ok {
		if err := checkUser(u); err != nil {
			return err
		}
		if h, _, ok := splitHostPort(a); ok {
			a = h
		}
		return checkAddress(a)
	}
	return checkAddress(s)
}

// checkAddress accepts a host name, IPv4 or IPv6 address.
func checkAddress(s string) error {
	if net.ParseIP(strings.Trim(s, "[]")) != nil {
		return nil
	}
	if err := checkToken(s); err != nil {
		return err
	}
	for _, r := range s {
		if !(r == '.' || r == '-' || r == '_' || r == ':' || r == '%' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return fmt.Errorf("%q is not a host name or IP address", clip(s))
		}
	}
	return nil
}

func parsePort(s string) (int, bool) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	return p, err == nil && p > 0 && p < 65536
}

// parseBool accepts the spellings Ansible and YAML users write.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "y":
		return true, true
	case "false", "no", "off", "0", "n", "":
		return false, true
	}
	return false, false
}

// suggest returns ` (did you mean "x"?)` for the closest known key.
func suggest(got string, known []string) string {
	if best := didyoumean.Closest(got, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return "; known settings: " + strings.Join(known, ", ")
}

// rangeParts splits a range's inside; an empty start is 0, as in
// Ansible (mail[:5] is mail0 to mail5).
func rangeParts(spec string) []string {
	parts := strings.Split(spec, ":")
	if len(parts) >= 2 && parts[0] == "" {
		parts[0] = "0"
	}
	return parts
}

// rangeItems expands the inside of one range: "01:20", "a:f", "0:10:2".
func rangeItems(spec string) ([]string, error) {
	parts := rangeParts(spec)
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("host range [%s] should be [start:end] or [start:end:step]", clip(spec))
	}
	step := 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(parts[2])
		if err != nil || s < 1 {
			return nil, fmt.Errorf("host range [%s]: step %q is not a positive number", clip(spec), clip(parts[2]))
		}
		step = s
	}
	var items []string
	lo, hi := parts[0], parts[1]
	if a, errA := strconv.Atoi(lo); errA == nil {
		b, errB := strconv.Atoi(hi)
		if errB != nil || b < a {
			return nil, fmt.Errorf("host range [%s]: end must be a number not below the start", clip(spec))
		}
		if (b-a)/step+1 > MaxHosts {
			return nil, fmt.Errorf("host range [%s] expands to more than %d hosts", clip(spec), MaxHosts)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo) // Ansible keeps the zero padding of the start
		}
		for i := a; i <= b; i += step {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
		return items, nil
	}
	if len(lo) == 1 && len(hi) == 1 && unicode.IsLetter(rune(lo[0])) && unicode.IsLetter(rune(hi[0])) && lo <= hi {
		for c := lo[0]; c <= hi[0]; c += byte(step) {
			items = append(items, string(c))
			if int(c)+step > 255 {
				break
			}
		}
		return items, nil
	}
	return nil, fmt.Errorf("host range [%s] should be numbers ([01:20]) or single letters ([a:f])", clip(spec))
}

// expandHosts expands a host pattern within budget (the names its file may
// still produce), counting before it expands.
func expandHosts(pattern string, budget *int) ([]string, error) {
	n, err := rangeCount(pattern)
	if err != nil {
		return nil, err
	}
	if n > *budget {
		return nil, fmt.Errorf("host pattern %q would take the file past %d hosts", clip(pattern), MaxHosts)
	}
	*budget -= n
	return expandRange(pattern)
}

// rangeCount is how many names pattern expands to, without expanding it.
func rangeCount(pattern string) (int, error) {
	n := 1
	for {
		open := strings.IndexByte(pattern, '[')
		if open < 0 {
			return n, nil
		}
		end := strings.IndexByte(pattern[open:], ']')
		if end < 0 {
			return 0, fmt.Errorf("host range %q has '[' without ']'", clip(pattern))
		}
		c, err := rangeSize(pattern[open+1 : open+end])
		if err != nil {
			return 0, err
		}
		if c > MaxHosts/n {
			return 0, fmt.Errorf("host pattern %q expands to more than %d hosts", clip(pattern), MaxHosts)
		}
		n *= c
		pattern = pattern[open+end+1:]
	}
}

// rangeSize is how many items one range's inside ("01:20", "a:f",
// "0:10:2") stands for.
func rangeSize(spec string) (int, error) {
	parts := rangeParts(spec)
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("host range [%s] should be [start:end] or [start:end:step]", clip(spec))
	}
	step := 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(parts[2])
		if err != nil || s < 1 {
			return 0, fmt.Errorf("host range [%s]: step %q is not a positive number", clip(spec), clip(parts[2]))
		}
		step = s
	}
	lo, hi := parts[0], parts[1]
	if a, err := strconv.Atoi(lo); err == nil {
		b, err := strconv.Atoi(hi)
		if err != nil || b < a {
			return 0, fmt.Errorf("host range [%s]: end must be a number not below the start", clip(spec))
		}
		return (b-a)/step + 1, nil
	}
	if len(lo) == 1 && len(hi) == 1 && lo <= hi {
		return (int(hi[0])-int(lo[0]))/step + 1, nil
	}
	return 0, fmt.Errorf("host range [%s] should be numbers ([01:20]) or single letters ([a:f])", clip(spec))
}

// expandRange expands Ansible host ranges: web[01:20].example.com,
// db-[a:f], node[0:10:2]. Several ranges in one pattern multiply.
func expandRange(pattern string) ([]string, error) {
	open := strings.IndexByte(pattern, '[')
	if open < 0 {
		return []string{pattern}, nil
	}
	closeIdx := strings.IndexByte(pattern[open:], ']')
	if closeIdx < 0 {
		return nil, fmt.Errorf("host range %q has '[' without ']'", clip(pattern))
	}
	closeIdx += open
	items, err := rangeItems(pattern[open+1 : closeIdx])
	if err != nil {
		return nil, err
	}
	rest, err := expandRange(pattern[closeIdx+1:])
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > MaxHosts {
		return nil, fmt.Errorf("host pattern %q expands to more than %d hosts", clip(pattern), MaxHosts)
	}
	out := make([]string, 0, len(items)*len(rest))
	prefix := pattern[:open]
	for _, it := range items {
		for _, r := range rest {
			out = append(out, prefix+it+r)
		}
	}
	return out, nil
}
