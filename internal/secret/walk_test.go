package secret

import (
	"strings"
	"sync"
	"testing"
)

type inner struct {
	Text  string
	Lines []string
}

type status string

type outer struct {
	ID      string `scrub:"-"`
	State   status
	Name    string
	Ptr     *inner
	List    []inner
	Facts   map[string][]string
	ByName  map[string]string
	Any     any
	private string
}

// TestScrubAllReachesEveryString: strings in pointers, slices, map values
// and interfaces are scrubbed in place; unexported fields, fields tagged
// scrub:"-", enums (named string types), map keys and non-secret text are
// left alone.
func TestScrubAllReachesEveryString(t *testing.T) {
	const pw = "Tr0ub4dor&3"
	v := outer{
		Name:    "web01 said " + pw,
		Ptr:     &inner{Text: "x " + strings.ToUpper(pw), Lines: []string{"ok", pw}},
		List:    []inner{{Text: "Authorization: Basic Zm9vOmJhcg=="}},
		Facts:   map[string][]string{"agent.log": {"line " + pw}, "clean": {"fine"}},
		ByName:  map[string]string{pw: "as a key " + pw},
		ID:      "agent-" + pw,
		State:   status("x" + pw),
		Any:     &inner{Text: pw},
		private: pw,
	}
	New(pw).ScrubAll(&v)
	got := strings.Join([]string{v.Name, v.Ptr.Text, strings.Join(v.Ptr.Lines, ","), v.List[0].Text,
		strings.Join(v.Facts["agent.log"], ","), v.Any.(*inner).Text}, "|")
	for k, val := range v.ByName {
		if k != pw {
			t.Errorf("a map key (a fact name) was changed: %q", k)
		}
		got += "|" + val
	}
	if strings.Contains(strings.ToLower(got), strings.ToLower(pw)) || strings.Contains(got, "Zm9vOmJhcg") {
		t.Errorf("a secret survived: %s", got)
	}
	if strings.Count(got, Hidden) != 7 {
		t.Errorf("want 7 strings hidden, got %s", got)
	}
	if v.Facts["clean"][0] != "fine" || v.Ptr.Lines[0] != "ok" || v.private != pw || v.ID != "agent-"+pw || v.State != status("x"+pw) {
		t.Errorf("text that is no secret changed: %+v", v)
	}
}

// TestScrubConcurrently: one scrubber serves every host of a sweep at
// once (run with -race).
func TestScrubConcurrently(t *testing.T) {
	s := New("concurrent-secret")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if got := s.Scrub("a concurrent-secret b"); got != "a "+Hidden+" b" {
					t.Errorf("got %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
