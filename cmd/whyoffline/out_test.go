package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// TestSavedRunsAreUntrustedText: a saved run whose strings carry escape
// sequences prints none of them; an unknown status is refused.
func TestSavedRunsAreUntrustedText(t *testing.T) {
	dir := t.TempDir()
	forged := filepath.Join(dir, "forged.json")
	doc := `{"schema":"whyoffline/v1","started":"2026-11-24T02:00:00Z","finished":"2026-11-24T02:00:01Z","manager":null,"fleet":[],
"summary":{"hosts":1,"healthy":0,"diagnosed":1,"unreachable":0,"error":0},
"hosts":[{"name":"web\u001b]0;pwned\u0007","address":"10.0.0.5","os":"linux","transport":"ssh","status":"diagnosed","duration_ms":1,
"causes":[{"id":"agent-not-running","confidence":"confirmed","evidence":"\u001b[2J\u001b[31mcleared","remedy":"run \u001b[8mhidden"}],"checks":[],"error":null}]}`
	if err := os.WriteFile(forged, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "csv", "html"} {
		r := runCLI(t, "", nil, "report", forged, "-o", format)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		if strings.ContainsAny(r.stdout, "\x1b\x07") {
			t.Errorf("-o %s printed an escape sequence from the saved run: %q", format, r.stdout)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(doc, `"status":"diagnosed"`, `"status":"\u001b[31mfine"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", nil, "report", bad); r.code != 2 || strings.ContainsAny(r.stderr, "\x1b") {
		t.Errorf("unknown status: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestBlockedReadsGiveWayToSIGINT: an inventory that is a FIFO nobody
// writes, or a saved run that is one, does not hold the command once it is
// interrupted: exit 3, nothing written.
func TestBlockedReadsGiveWayToSIGINT(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "inventory")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs: %v", err)
	}
	for _, args := range [][]string{
		{"scan", "-i", fifo, "--out", filepath.Join(dir, "never.json")},
		{"report", fifo},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		done := make(chan int, 1)
		go func() { done <- run(ctx, e, args) }()
		time.Sleep(200 * time.Millisecond)
		cancel() // what SIGINT does to the command's context
		select {
		case code := <-done:
			if code != exitFailed || !strings.Contains(errb.String(), "interrupted while reading") {
				t.Errorf("%v: exit %d: %s", args, code, errb.String())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: still blocked 5 s after the interrupt", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "never.json")); !os.IsNotExist(err) {
		t.Errorf("an interrupted scan wrote its report: %v", err)
	}
}

// TestOutRefusesAPlantedLink: in a sticky world-writable directory, --out
// does not follow a symbolic link another user planted (the victim file
// stays as it was); a link the directory's owner or the runner made is
// still followed, as before.
func TestOutRefusesAPlantedLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting a link owned by another user needs root")
	}
	dir := t.TempDir()
	sticky := filepath.Join(dir, "tmp")
	if err := os.Mkdir(sticky, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "shadow")
	write(t, victim, "root:$6$secret:19000::::::\n")
	_, inv, kh := startFleet(t, []string{"healthy"})
	link := filepath.Join(sticky, "report.csv")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "-o", "csv", "--out", link}
	r := runCLI(t, "", map[string]string{"HOME": dir}, args...)
	if b, _ := os.ReadFile(victim); r.code != exitUsage || !strings.Contains(r.stderr, "protected_symlinks") || !strings.HasPrefix(string(b), "root:$6$") {
		t.Fatalf("a planted link: exit %d, %s; the victim now: %.60q", r.code, r.stderr, b)
	}
	// the runner's own link is followed
	if err := os.Lchown(link, 0, 0); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine.csv")
	write(t, mine, "old\n")
	_ = os.Remove(link)
	if err := os.Symlink(mine, link); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", map[string]string{"HOME": dir}, args...); r.code != 0 {
		t.Fatalf("the runner's own link: exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(mine); !strings.HasPrefix(string(b), "host,") {
		t.Errorf("the link's target was not replaced: %q", b)
	}
}
