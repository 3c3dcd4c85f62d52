package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeyFileMustBeRegular: a FIFO or a device named as a private key is
// refused at once — it would otherwise hold the host's connection past
// its deadline (a FIFO with no writer) or fill memory (/dev/zero).
func TestKeyFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "id_fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, os.DevNull, "/dev/zero"} {
		k := newKeyring(func(string) string { return "" }, t.TempDir())
		done := make(chan error, 1)
		go func() { _, err := k.parse(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading the key hung", path)
		}
	}
}
