package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOutNeverReplacesWhatIsNotARegularFile: --out to a FIFO (or a link
// to one, like /dev/stdout) writes through it; a link to a regular file
// keeps being a link; an existing file keeps its mode and a new one
// honours the umask; a directory is refused with exit 2.
func TestOutNeverReplacesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "run.json")
	if err := os.WriteFile(saved, []byte(`{"schema":"whyoffline/v1","started":"2026-11-24T02:00:00Z","finished":"2026-11-24T02:00:01Z","manager":null,"fleet":[],"summary":{"hosts":0,"healthy":0,"diagnosed":0,"unreachable":0,"error":0},"hosts":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	report := func(out string) runResult { return runCLI(t, "", nil, "report", saved, "-o", "csv", "--out", out) }

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs: %v", err)
	}
	link := filepath.Join(dir, "stdout-like")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{fifo, link} {
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		if r := report(target); r.code != 0 {
			t.Fatalf("--out %s: exit %d: %s", target, r.code, r.stderr)
		}
		if s := <-got; !strings.HasPrefix(s, "host,address,os,status") {
			t.Errorf("--out %s: the FIFO's reader got %q", target, s)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", st, err)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}

	// a link to a regular file: the file is replaced, the link stays
	real := filepath.Join(dir, "real.csv")
	if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(dir, "alias.csv")
	if err := os.Symlink(real, alias); err != nil {
		t.Fatal(err)
	}
	if r := report(alias); r.code != 0 {
		t.Fatalf("--out alias: exit %d: %s", r.code, r.stderr)
	}
	if st, err := os.Lstat(alias); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link to a file was replaced by a file: %v %v", st, err)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
		t.Errorf("existing file's mode %v, want 0640 kept", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(real); !strings.HasPrefix(string(b), "host,") {
		t.Errorf("the linked file was not rewritten: %q", b)
	}

	// a new file: 0666 less the umask
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	fresh := filepath.Join(dir, "new.csv")
	if r := report(fresh); r.code != 0 {
		t.Fatalf("--out new: exit %d: %s", r.code, r.stderr)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o640 {
		t.Errorf("new file mode %v, want 0640 under umask 027", st.Mode().Perm())
	}

	if r := report(dir); r.code != 2 || !strings.Contains(r.stderr, "is a directory") {
		t.Errorf("--out DIR: exit %d: %s", r.code, r.stderr)
	}
}
