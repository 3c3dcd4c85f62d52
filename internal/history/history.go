// Package history keeps every run of a nightly sweep in a state directory
// (--state-dir) — compressed JSON, pruned by count and age — and tells,
// per host, what changed since the previous run: a new problem, one
// fixed, one still there since a date, or a different one.
package history

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/safefile"
)

// Schema is the state directory's layout version. A directory written by
// a newer whyoffline (a higher schema) is refused rather than misread.
const Schema = 1

// maxRunSize bounds one decompressed saved run.
const maxRunSize = 4 << 30

// Store is one state directory: state.json (its schema) and runs/, one
// run-<UTC time>.json.gz per sweep.
type Store struct {
	dir string
}

type stateFile struct {
	Schema int    `json:"schema"`
	Writer string `json:"writer"`
}

// Open opens (creating it, mode 0700) the state directory dir.
func Open(dir, version string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o700); err != nil {
		return nil, fmt.Errorf("--state-dir %s: %v", dir, err)
	}
	path := filepath.Join(dir, "state.json")
	b, err := safefile.Read(path, 1<<20)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b, _ = json.Marshal(stateFile{Schema: Schema, Writer: "whyoffline " + version})
		if err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
			return nil, fmt.Errorf("--state-dir %s: %v", dir, err)
		}
	case err != nil:
		return nil, fmt.Errorf("--state-dir %s: %v", dir, err)
	default:
		var st stateFile
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("%s: not a whyoffline state file: %v", path, err)
		}
		if st.Schema > Schema {
			return nil, fmt.Errorf("%s was written by a newer whyoffline (%s, state schema %d; this one reads %d): upgrade, or use another --state-dir", path, st.Writer, st.Schema, Schema)
		}
	}
	return &Store{dir: dir}, nil
}

// Runs lists the saved runs, oldest first (complete ones only: a run is
// renamed into place once written).
func (s *Store) Runs() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "runs"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "run-") && strings.HasSuffix(n, ".json.gz") && e.Type().IsRegular() {
			out = append(out, filepath.Join(s.dir, "runs", n))
		}
	}
	sort.Strings(out) // the names are UTC times: lexical is chronological
	return out, nil
}

// Load reads a saved run.
func Load(path string) (*result.Run, error) {
	f, err := safefile.Open(path, maxRunSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// report.Read inflates it, bounded by what the compressed bytes can
	// hold (a gzip bomb planted in the state directory is refused)
	run, err := report.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return run, nil
}

// Latest is the newest saved run (nil when there is none).
func (s *Store) Latest() (*result.Run, error) {
	runs, err := s.Runs()
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return Load(runs[len(runs)-1])
}

// Recorder writes one run into the store as it is swept: a JSON writer
// whose output is compressed into a temporary file, renamed into place by
// Commit — a half-written run never replaces the last good one.
type Recorder struct {
	report.Writer
	store    *Store
	tmp      *os.File
	zw       *gzip.Writer
	name     string
	statuses strings.Builder // "status<TAB>name" lines: the run's sidecar
}

// Host records h's status for the sidecar and writes h.
func (r *Recorder) Host(i int, h *result.Host) error {
	r.statuses.WriteString(string(h.Status) + "\t" + strings.ReplaceAll(h.Name, "\n", " ") + "\n")
	return r.Writer.Host(i, h)
}

// Inner is the JSON writer under the recorder (report.Streams asks it).
func (r *Recorder) Inner() report.Writer { return r.Writer }

// Record starts recording the run that starts at started.
func (s *Store) Record(started time.Time) (*Recorder, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "runs"), ".partial-*")
	if err != nil {
		return nil, fmt.Errorf("--state-dir: %v", err)
	}
	zw := gzip.NewWriter(tmp)
	w, err := report.New("json", zw, report.Options{})
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	name := "run-" + started.UTC().Format("20060102T150405.000Z") + ".json.gz"
	return &Recorder{Writer: w, store: s, tmp: tmp, zw: zw, name: name}, nil
}

// Commit finishes the file and puts it in place; Abort throws it away.
func (r *Recorder) Commit() error {
	err := r.zw.Close()
	if err == nil {
		err = r.tmp.Sync()
	}
	if cerr := r.tmp.Close(); err == nil {
		err = cerr
	}
	// the sidecar first: a run in place always has its statuses
	if err == nil {
		side := filepath.Join(r.store.dir, "runs", strings.TrimSuffix(r.name, ".json.gz")+".status")
		err = writeAtomic(side, func(w io.Writer) error { _, err := io.WriteString(w, r.statuses.String()); return err })
	}
	if err == nil {
		err = os.Rename(r.tmp.Name(), filepath.Join(r.store.dir, "runs", r.name))
	}
	if err != nil {
		os.Remove(r.tmp.Name())
		return fmt.Errorf("--state-dir: saving the run: %v", err)
	}
	return nil
}

// Statuses is one past run's hosts by status, read from its sidecar: all
// a look over many runs needs, without reading the runs themselves.
type Statuses struct {
	At     time.Time
	Status map[string]result.Status // by lower-cased host name
}

// Recent reads the statuses of the newest n runs, oldest first (runs
// without a sidecar are skipped).
func (s *Store) Recent(n int) ([]Statuses, error) {
	runs, err := s.Runs()
	if err != nil {
		return nil, err
	}
	if len(runs) > n {
		runs = runs[len(runs)-n:]
	}
	var out []Statuses
	for _, p := range runs {
		at, ok := runTime(p)
		b, err := safefile.Read(strings.TrimSuffix(p, ".json.gz")+".status", 64<<20)
		if !ok || err != nil {
			continue
		}
		out = append(out, Statuses{At: at, Status: parseStatuses(b)})
	}
	return out, nil
}

// parseStatuses reads a sidecar's "status<TAB>name" lines. A line
// whose status is not one of the four, or with no name, is not a
// host's: the rules that look across runs read only what a run wrote.
func parseStatuses(b []byte) map[string]result.Status {
	st := map[string]result.Status{}
	for line := range strings.SplitSeq(string(b), "\n") {
		status, name, ok := strings.Cut(line, "\t")
		if !ok || name == "" {
			continue
		}
		switch s := result.Status(status); s {
		case result.Healthy, result.Diagnosed, result.Unreachable, result.Error:
			st[strings.ToLower(name)] = s
		}
	}
	return st
}

// Abort discards a run that did not finish.
func (r *Recorder) Abort() {
	r.tmp.Close()
	os.Remove(r.tmp.Name())
}

// Prune keeps the newest keep runs and drops runs older than maxAge (0:
// no limit); the newest run is always kept.
func (s *Store) Prune(keep int, maxAge time.Duration, now time.Time) (int, error) {
	runs, err := s.Runs()
	if err != nil {
		return 0, err
	}
	dropped := 0
	for i, p := range runs {
		newest := i == len(runs)-1
		tooMany := keep > 0 && len(runs)-i > keep
		tooOld := false
		if maxAge > 0 {
			if t, ok := runTime(p); ok && now.Sub(t) > maxAge {
				tooOld = true
			}
		}
		if !newest && (tooMany || tooOld) {
			if err := os.Remove(p); err != nil {
				return dropped, err
			}
			_ = os.Remove(strings.TrimSuffix(p, ".json.gz") + ".status")
			dropped++
		}
	}
	return dropped, nil
}

func runTime(path string) (time.Time, bool) {
	n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "run-"), ".json.gz")
	t, err := time.Parse("20060102T150405.000Z", n)
	return t, err == nil
}

func writeAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	err = fill(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
