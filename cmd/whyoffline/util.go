package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/playbooks"
)

func terminal(f *os.File) (bool, int) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return false, 0
	}
	w, _, err := term.GetSize(fd)
	if err != nil {
		w = 120
	}
	return true, w
}

func buildVersion() string {
	return buildInfo().Version
}

// buildInfo is what wrote a run: the version (-ldflags -X main.version,
// else the module version go install recorded), and the commit and its
// time from the build's VCS stamp.
func buildInfo() result.Tool {
	t := result.Tool{Name: "whyoffline", Version: version, Commit: commit, Date: buildDate}
	bi, ok := debug.ReadBuildInfo()
	if !ok || commit != "" {
		return t
	}
	if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		t.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			t.Commit = s.Value
		case "vcs.time":
			t.Date = s.Value
		case "vcs.modified":
			t.Modified = s.Value == "true"
		}
	}
	return t
}

// parseManager splits HOST[:PORT] ([v6]:port too); the port defaults.
func parseManager(s string, defPort int) (string, int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, nil
	}
	for _, scheme := range []string{"https://", "dsm://"} {
		s = strings.TrimPrefix(s, scheme)
	}
	s = strings.TrimSuffix(s, "/")
	host, port := s, defPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("--manager %q: port %q is not a number from 1 to 65535", s, p)
		}
		host, port = h, n
	} else if strings.Count(s, ":") == 1 {
		return "", 0, fmt.Errorf("--manager %q: give HOST or HOST:PORT", s)
	}
	host = strings.Trim(host, "[]")
	if net.ParseIP(host) == nil {
		for _, r := range host {
			if !(r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
				return "", 0, fmt.Errorf("--manager %q: %q is not a host name or address", s, host)
			}
		}
		if host == "" || strings.HasPrefix(host, "-") || len(host) > 253 {
			return "", 0, fmt.Errorf("--manager %q is not a host name or address", s)
		}
	}
	return host, port, nil
}

// atomicFile writes to a temporary file beside the target and renames it
// into place on Commit, so a reader never sees half a report and a failed
// run leaves the previous report untouched.
type atomicFile struct {
	*os.File
	path string
	mode os.FileMode
}

func createAtomic(path string, mode os.FileMode) (*atomicFile, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &atomicFile{File: f, path: path, mode: mode}, nil
}

func (a *atomicFile) Commit() error {
	if err := a.Sync(); err != nil {
		a.Abort()
		return err
	}
	if err := a.Close(); err != nil {
		os.Remove(a.Name())
		return err
	}
	if err := os.Chmod(a.Name(), a.mode); err != nil {
		os.Remove(a.Name())
		return err
	}
	return os.Rename(a.Name(), a.path)
}

func (a *atomicFile) Abort() {
	a.Close()
	os.Remove(a.Name())
}

// output is where a report goes: stdout, a file replaced atomically, or a
// device, FIFO or descriptor written through.
type output struct {
	w       io.Writer
	file    *atomicFile // nil unless replacing a regular file
	through *os.File    // a non-regular target written in place
	path    string
}

// openOutput opens where --out points, or stdout when path is "". Commands
// call it only after validating their input, so bad input writes nothing.
//
// A regular file (or a new one) is replaced atomically; it keeps an
// existing file's mode, and a new one gets 0666 less the umask. A symlink
// to a regular file replaces the file it points to, not the link.
// Anything else — /dev/stdout, a FIFO, a terminal — is written through and
// never replaced; a directory is refused.
func openOutput(e *env, path string) (*output, error) {
	if path == "" {
		return &output{w: e.stdout}, nil
	}
	target, mode, through, err := outputTarget(path)
	if err != nil {
		return nil, usageErr("--out %s: %v", path, err)
	}
	if through {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, usageErr("--out %s: %v", path, unwrap(err))
		}
		return &output{w: f, through: f, path: path}, nil
	}
	f, err := createAtomic(target, mode)
	if err != nil {
		return nil, usageErr("--out %s: %v", path, unwrap(err))
	}
	return &output{w: f, file: f, path: path}, nil
}

// outputTarget says how to write path: the regular file to replace and its
// mode, or through (the path is not a regular file).
func outputTarget(path string) (target string, mode os.FileMode, through bool, err error) {
	if err := protectedSymlink(path); err != nil {
		return "", 0, false, err
	}
	st, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&os.ModeSymlink != 0 {
			return "", 0, true, nil // a dangling link (/dev/fd/N of a pipe): write through it
		}
		return path, os.FileMode(0o666 &^ umask()), false, nil
	case err != nil:
		return "", 0, false, unwrap(err)
	case st.IsDir():
		return "", 0, false, fmt.Errorf("is a directory: name a file in it")
	case !st.Mode().IsRegular():
		return "", 0, true, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil || strings.HasPrefix(real, "/proc/") || strings.HasPrefix(real, "/dev/") {
		return "", 0, true, nil // a descriptor (/dev/stdout redirected to a file): write through
	}
	return real, st.Mode().Perm(), false, nil
}

// protectedSymlink applies the kernel's protected_symlinks rule to --out
// (which root may otherwise be tricked past): a symbolic link in a sticky,
// world-writable directory (/tmp) is followed only when its owner is the
// directory's owner or the one running whyoffline — else anyone could
// plant /tmp/report.csv -> /etc/shadow and have root replace the target.
func protectedSymlink(path string) error {
	lst, err := os.Lstat(path)
	if err != nil || lst.Mode()&os.ModeSymlink == 0 {
		return nil
	}
	dst, err := os.Stat(filepath.Dir(path))
	if err != nil || dst.Mode()&os.ModeSticky == 0 || dst.Mode().Perm()&0o002 == 0 {
		return nil
	}
	link, dir := fileOwner(lst), fileOwner(dst)
	if link == dir || link == os.Geteuid() {
		return nil
	}
	return fmt.Errorf("is a symbolic link owned by uid %d in the sticky, world-writable directory %s: not followed (the kernel's protected_symlinks rule); write to a path you own", link, filepath.Dir(path))
}

// writer returns the report writer for format: colour only for a table on
// a terminal, and never when NO_COLOR is set.
func (o *output) writer(e *env, format string) (report.Writer, error) {
	return o.writerWith(e, format, report.Options{})
}

// writerWith is writer with the run's extra columns (History,
// ManagerStatus) set in extra.
func (o *output) writerWith(e *env, format string, extra report.Options) (report.Writer, error) {
	extra.Color = format == "table" && o.file == nil && o.through == nil && e.stdoutTTY && e.getenv("NO_COLOR") == ""
	extra.Width = tableWidth(e, o.file == nil && o.through == nil && e.stdoutTTY)
	if o.file != nil {
		extra.SpillDir = filepath.Dir(o.file.Name())
	}
	return report.New(format, o.w, extra)
}

// tableWidth is how wide the table may be: $COLUMNS when set, else the
// terminal's width; into a file or a pipe, unlimited (-1), so no
// evidence or hint is cut for whoever reads it later.
func tableWidth(e *env, terminal bool) int {
	if c, err := strconv.Atoi(e.getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	if terminal {
		return e.width
	}
	return -1
}

// finish puts the file in place when err is nil and discards it otherwise;
// it returns err, or the failure to put the file in place.
func (o *output) finish(err error) error {
	if o.through != nil {
		if cerr := o.through.Close(); cerr != nil && err == nil {
			return failed(fmt.Errorf("--out %s: %v", o.path, cerr))
		}
		return err
	}
	if o.file == nil {
		return err
	}
	if err != nil {
		o.file.Abort()
		return err
	}
	if cerr := o.file.Commit(); cerr != nil {
		return failed(fmt.Errorf("--out %s: %v", o.path, cerr))
	}
	return nil
}

func homeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// loadChecks loads the playbooks (embedded, overlaid by dir) and compiles
// every cause's remedy with the site's causes.yaml applied. Either failing
// is bad input: exit 2 before anything is scanned.
func loadChecks(dir string) (*playbook.Set, *diagnose.Remedies, error) {
	set, err := playbook.Load(playbooks.FS, dir)
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	rem, err := diagnose.NewRemedies(set.Causes)
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	return set, rem, nil
}

// untilDone runs read — an inventory, a playbook directory, a saved run:
// a file that may be a FIFO or stdin that never ends — and gives up when
// ctx is cancelled (SIGINT, SIGTERM): a blocked read never holds the
// command. what names the read for the message.
func untilDone[T any](ctx context.Context, what string, read func() (T, error)) (T, error) {
	type answer struct {
		v   T
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		v, err := read()
		ch <- answer{v, err}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		var zero T
		return zero, failed(fmt.Errorf("interrupted while reading %s: nothing was scanned or written", what))
	}
}
