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
	full := 0
	c := &CappedBuffer{Limit: 8, OnFull: func() { full++ }}
	if _, _ = c.Write([]byte("01234567")); c.Truncated() || full != 0 {
		t.Errorf("exactly the limit is not truncation: %v %d", c.Truncated(), full)
	}
	n, err := c.Write([]byte("89"))
	if n != 2 || err != nil || c.String() != "01234567" || !c.Truncated() {
		t.Errorf("got %d %v %q %v", n, err, c.Bytes(), c.Truncated())
	}
	_, _ = c.Write([]byte("more"))
	if full != 1 {
		t.Errorf("OnFull called %d times, want once", full)
	}
}

// TestCappedBufferConcurrent: written and read at once (run with -race).
func TestCappedBufferConcurrent(t *testing.T) {
	c := &CappedBuffer{Limit: 1 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			_, _ = c.Write([]byte("line\n"))
		}
	}()
	for i := 0; i < 100; i++ {
		_ = c.String()
		_ = c.Truncated()
	}
	<-done
	if len(c.Bytes()) != 1<<10 || !c.Truncated() {
		t.Errorf("%d bytes kept, truncated %v", len(c.Bytes()), c.Truncated())
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
