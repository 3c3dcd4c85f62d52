// Package safefile reads the local files whyoffline is pointed at —
// config, state, saved runs — as a careful daemon does: a regular file
// only (a FIFO would hang the read, /dev/zero would fill memory), size
// capped, and gzip decompression bounded by what the compressed bytes
// could honestly hold (a bomb is refused, not inflated).
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular: the path is a FIFO, device, socket or directory.
var ErrNotRegular = errors.New("is not a regular file")

// Open opens path for reading when it is a regular file of at most max
// bytes (0: any size).
func Open(path string, max int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %w (%s)", path, ErrNotRegular, kind(st.Mode()))
	}
	if max > 0 && st.Size() > max {
		return nil, fmt.Errorf("%s is %d MiB, more than the %d MiB such a file can be: is it the right file?", path, st.Size()>>20, max>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// it may have been swapped since the Stat: check what was opened
	if st2, err := f.Stat(); err != nil || !st2.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s %w", path, ErrNotRegular)
	}
	return f, nil
}

// Read reads a regular file of at most max bytes.
func Read(path string, max int64) ([]byte, error) {
	f, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s grew past %d MiB while read", path, max>>20)
	}
	return b, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0, m&os.ModeCharDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// MaxRatio is how much larger than its compressed bytes a gzip'd run may
// decompress: JSON runs compress 10-30×; a bomb compresses 1000×.
const MaxRatio = 100

// Bounded caps a decompressed stream: it fails once the output passes
// MaxRatio × the compressed bytes read so far (plus slack), or max.
type Bounded struct {
	R          io.Reader // the decompressor
	Compressed *Counter  // counts what the decompressor read
	Max        int64
	n          int64
}

// ErrBomb: the stream inflates past what its compressed size allows.
var ErrBomb = errors.New("decompresses to far more than its compressed size can hold (a compression bomb?)")

func (b *Bounded) Read(p []byte) (int, error) {
	n, err := b.R.Read(p)
	b.n += int64(n)
	if b.Max > 0 && b.n > b.Max {
		return n, fmt.Errorf("decompresses past %d MiB", b.Max>>20)
	}
	if b.n > MaxRatio*b.Compressed.N+(16<<20) {
		return n, ErrBomb
	}
	return n, err
}

// Counter counts bytes read through it.
type Counter struct {
	R io.Reader
	N int64
}

func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
