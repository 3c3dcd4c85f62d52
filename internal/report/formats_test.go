package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFormatsMatchTheContract: -o's list in docs/contract.md is the
// registry's, in the same order, so neither can grow alone.
func TestFormatsMatchTheContract(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`-o/--output ([a-z|]+)`").FindSubmatch(raw)
	if m == nil {
		t.Fatal("docs/contract.md no longer lists -o/--output's formats as `-o/--output a|b|c`")
	}
	if got, want := strings.Join(Names(), "|"), string(m[1]); got != want {
		t.Errorf("registry formats %s, contract %s", got, want)
	}
}

// TestFormatRegistry: every registered format makes a writer that renders
// a run, says whether it streams as its declaration does, and is what
// --out's extension picks; an unknown one is refused naming the choices.
func TestFormatRegistry(t *testing.T) {
	seen := map[string]string{}
	for _, f := range formats() {
		w, err := New(f.Name, &bytes.Buffer{}, Options{SpillDir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if Streams(w) != f.Streams {
			t.Errorf("%s: Streams() = %v, declared %v", f.Name, Streams(w), f.Streams)
		}
		if len(f.Extensions) == 0 {
			t.Errorf("%s: no file extension, so --out cannot imply it", f.Name)
		}
		for _, ext := range f.Extensions {
			if other, dup := seen[ext]; dup {
				t.Errorf("%s is claimed by %s and %s", ext, other, f.Name)
			}
			seen[ext] = f.Name
			if got := FormatForFile("/var/lib/whyoffline/RUN" + strings.ToUpper(ext)); got != f.Name {
				t.Errorf("FormatForFile(*%s) = %q, want %s", ext, got, f.Name)
			}
		}
		out := render(t, f.Name)
		if !strings.Contains(out, "web01") {
			t.Errorf("%s: the rendered run does not name its host: %.200s", f.Name, out)
		}
	}
	if got := FormatForFile("run.jsonl.bak"); got != "" {
		t.Errorf("an unknown extension guessed %q", got)
	}
	if _, err := New("yaml", &bytes.Buffer{}, Options{}); err == nil || !strings.Contains(err.Error(), NamesText()) {
		t.Errorf("unknown format: %v", err)
	}
}
