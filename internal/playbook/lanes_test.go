package playbook

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/playbooks"
)

// lanesPlaybook has three lanes whose checks print many lines at the same
// moment, and a second check in one lane that reads the first one's
// export and needs the shell's default word splitting back.
const lanesPlaybook = `id: lanes
os: linux
uname: Linux
description: concurrent lanes
shell: posix
exec: exec /bin/sh -s
checks:
  - id: a.lines
    title: a
    lane: a
    exports: {WO_A_FIRST: first}
    run: |
      i=0; while [ $i -lt 400 ]; do echo "a=$i"; i=$((i+1)); done; echo "first=yes"
  - id: a.after
    title: a after
    lane: a
    run: |
      set -- one two   three
      echo "words=$#"
      echo "got=$WO_A_FIRST"
      echo "  indented=kept  "
  - id: b.lines
    title: b
    lane: b
    run: |
      i=0; while [ $i -lt 400 ]; do echo "b=$i"; i=$((i+1)); done; exit 3
  - id: c.lines
    title: c
    lane: c
    run: |
      i=0; while [ $i -lt 400 ]; do echo "c=$i"; i=$((i+1)); done
`

// TestLanesDoNotMixSections runs three lanes that print at the same time
// under every shell, several times: each check gets exactly its own lines
// (bash writes a section line by line, so without per-line tags another
// lane's section lands inside this one), its exit status, and a lane's
// later check still sees the default IFS and the earlier check's export.
func TestLanesDoNotMixSections(t *testing.T) {
	params := Params{Manager: "localhost", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: NewNonce()}
	script := renderOne(t, lanesPlaybook, params)
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			path := needTool(t, sh.path)
			for round := 0; round < 5; round++ {
				out, err := runShell(path, sh.args, string(script.Body), 60*time.Second)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				raw := frame.Split(out, params.Nonce)
				for _, id := range []string{"a.lines", "b.lines", "c.lines"} {
					s := raw.Sections[id]
					if s == nil || !s.Complete {
						t.Fatalf("round %d: section %s = %+v", round, id, s)
					}
					lines := strings.Split(strings.TrimSuffix(s.Output, "\n"), "\n")
					key := id[:1] + "="
					if id == "a.lines" {
						lines = lines[:len(lines)-1] // first=yes
					}
					if len(lines) != 400 {
						t.Fatalf("round %d: %s has %d lines, want 400:\n%s", round, id, len(lines), s.Output)
					}
					for i, l := range lines {
						if l != key+strconv.Itoa(i) {
							t.Fatalf("round %d: %s line %d = %q, want %q", round, id, i, l, key+strconv.Itoa(i))
						}
					}
				}
				if raw.Sections["b.lines"].Exit != 3 {
					t.Errorf("b.lines exit = %d, want 3", raw.Sections["b.lines"].Exit)
				}
				if after := raw.Sections["a.after"]; after == nil || after.Output != "words=3\ngot=yes\n  indented=kept  \n" {
					t.Errorf("round %d: a.after = %+v; want the default word splitting, the export and its spaces", round, after)
				}
			}
		})
	}
}

// renderOne renders the Linux script of a playbook of its own (with the
// embedded causes.yaml).
func renderOne(t *testing.T, book string, params Params) *Script {
	t.Helper()
	causes, err := fs.ReadFile(playbooks.FS, "causes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load(fstest.MapFS{
		"one.yaml":    {Data: []byte(book), Mode: 0o644},
		"causes.yaml": {Data: causes, Mode: 0o644},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	script, err := set.RenderUnix("linux", "", params)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// TestACheckLeavesNoShellStateBehind: checks run in the script's own
// shell; one that returns from inside `set -f` with IFS changed (a site's
// overlay, say) must not leave the checks after it unable to glob — the
// log checks would read no logs and find no error — or to split words.
func TestACheckLeavesNoShellStateBehind(t *testing.T) {
	book := `id: state
os: linux
uname: Linux
description: shell state between checks
shell: posix
exec: exec /bin/sh -s
checks:
  - id: a.leaves
    title: leaves state behind
    run: |
      set -f
      IFS=:
      echo "left=yes"
      return 0
  - id: b.reads
    title: globs and splits
    run: |
      set -- /*
      [ "$1" != "/*" ] && echo "glob=yes"
      v="x y z"
      set -- $v
      echo "words=$#"
`
	params := Params{Manager: "localhost", Port: 4120, Nonce: NewNonce()}
	script := renderOne(t, book, params)
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			out, err := runShell(needTool(t, sh.path), sh.args, string(script.Body), 30*time.Second)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			raw := frame.Split(out, params.Nonce)
			if s := raw.Sections["b.reads"]; s == nil || strings.TrimSpace(s.Output) != "glob=yes\nwords=3" {
				t.Errorf("b.reads = %+v; want globbing on and IFS back to the default", s)
			}
		})
	}
}
