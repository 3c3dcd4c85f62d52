package textsafe

import (
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"  two\nlines\t\tand tabs ", "two lines and tabs"},
		{"red \x1b[31mtext\x1b[0m", "red text"},
		{"title \x1b]0;pwned\x07 after", "title after"},
		{"bell\x07 and nul\x00", "bell and nul"},
		{"bidi \u202egnp.exe", "bidi gnp.exe"},
		{"bad utf8 \xff end", "bad utf8 \uFFFD end"},
		{"cr\roverwrite", "croverwrite"},
	}
	for _, c := range cases {
		if got := Line(c.in, 0); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Line(strings.Repeat("x", 50), 10); got != strings.Repeat("x", 10)+Ellipsis {
		t.Errorf("cap: %q", got)
	}
}

func TestBlockKeepsLines(t *testing.T) {
	if got := Block("a\n  b\x1b[2J\n", 0); got != "a\n  b\n" {
		t.Errorf("Block = %q", got)
	}
}

func TestCappedBuffer(t *testing.T) {
	c := &CappedBuffer{Limit: 8}
	n, err := c.Write([]byte("0123456789"))
	if n != 10 || err != nil || string(c.Bytes()) != "01234567" || !c.Truncated {
		t.Errorf("got %d %v %q %v", n, err, c.Bytes(), c.Truncated)
	}
}

func FuzzLine(f *testing.F) {
	f.Add("a\x1b[31mb\x1b]0;x\x07c\u202e", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		out := Line(s, max%500)
		if strings.ContainsAny(out, "\x1b\x07\n\r\x00") {
			t.Fatalf("Line(%q) = %q keeps control characters", s, out)
		}
	})
}
