package secret

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestScrubEveryForm(t *testing.T) {
	const user, pw = `CORP\svc-scan`, "Wint3r!Sun&Moon"
	s := New()
	s.AddCredential(user, pw)
	s.Add("2:dsm-API-key-SECRET")
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	for _, leak := range []string{
		"plain " + pw,
		"upper " + strings.ToUpper(pw),
		"lower " + strings.ToLower(pw),
		"query " + url.QueryEscape(pw),
		"lower-encoded " + strings.ToLower(url.QueryEscape(pw)),
		"base64 " + base64.StdEncoding.EncodeToString([]byte(pw)),
		"basic pair, no header " + basic,
		"<h:Authorization>Basic " + basic + "</h:Authorization>",
		"Authorization: Negotiate TlRMTVNTUAADAAAAGAAYAHgAAAA",
		`{"headers":{"api-secret-key":"anything at all"}}`,
		"Cookie: session=abcdef123456",
		"key 2:dsm-api-key-secret and " + url.QueryEscape("2:dsm-API-key-SECRET"),
	} {
		got := s.Scrub(leak)
		for _, secret := range []string{pw, strings.ToLower(pw), url.QueryEscape(pw), basic, "TlRMTVNTUAADAAAAGAAYAHgAAAA", "anything at all", "abcdef123456", "dsm-api-key-secret", "dsm-API-key-SECRET"} {
			if strings.Contains(strings.ToLower(got), strings.ToLower(secret)) {
				t.Errorf("%q → %q still holds %q", leak, got, secret)
			}
		}
		if !strings.Contains(got, Hidden) {
			t.Errorf("%q → %q: nothing hidden", leak, got)
		}
	}
	if got := New("ab").Scrub("a cab in a lab"); got != "a cab in a lab" {
		t.Errorf("a two-letter secret scrubs ordinary text: %q", got)
	}
	if got := (*Scrubber)(nil).Scrub("Authorization: Basic eA=="); strings.Contains(got, "eA==") {
		t.Errorf("a nil scrubber keeps a header value: %q", got)
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("Authorization: Basic dXNlcjpwYXNz", "pass")
	f.Add("<a>p%40ss</a>", "p@ss")
	f.Fuzz(func(t *testing.T, text, pw string) {
		s := New(pw)
		out := s.Scrub(text)
		if len(pw) >= minLen && strings.Contains(asciiLower(out), asciiLower(pw)) && !strings.Contains(asciiLower(Hidden), asciiLower(pw)) {
			t.Fatalf("%q leaked through: %q", pw, out)
		}
	})
}

// TestScrubCutSecret: a text cut to length in the middle of a secret
// (textsafe's caps end it with an ellipsis) does not keep its first half.
func TestScrubCutSecret(t *testing.T) {
	s := New("Correct-Horse-Battery")
	if got := s.Scrub("retry with password=Correct-Hor…"); got != "retry with password="+Hidden+"…" {
		t.Errorf("got %q", got)
	}
	if got := s.Scrub("nothing cut here…"); got != "nothing cut here…" {
		t.Errorf("got %q", got)
	}
	if got := s.Scrub("ends with Cor…"); got != "ends with Cor…" {
		t.Errorf("a prefix shorter than a secret's shortest hidden length was hidden: %q", got)
	}
}
