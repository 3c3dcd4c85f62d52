package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileLocalFiles: files whyoffline is pointed at are untrusted
// too. A FIFO or /dev/zero as the config is refused at once (no hang, no
// memory filled); a gzip bomb planted in the state directory is refused
// while it inflates; a saved shard claiming 50,000,000 shards is refused.
// Each is a usage error (exit 2) naming the file.
func TestHostileLocalFiles(t *testing.T) {
	dir := t.TempDir()
	home := map[string]string{"HOME": dir}
	fifo := filepath.Join(dir, "config.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, cfg := range []string{fifo, "/dev/zero"} {
		start := time.Now()
		r := runCLI(t, "", home, "--config", cfg, "version")
		if r.code != exitUsage || !strings.Contains(r.stderr, "is not a regular file") || time.Since(start) > 5*time.Second {
			t.Errorf("--config %s: exit %d after %s: %s", cfg, r.code, time.Since(start), r.stderr)
		}
	}

	// a bomb: 4 GiB of spaces after a run's opening brace, a few MiB gzip'd
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(filepath.Join(state, "runs"), 0o700); err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(state, "runs", "run-20261201T010000.000Z.json.gz")
	f, err := os.Create(bomb)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	_, _ = zw.Write([]byte(`{"schema":"whyoffline/v1","x":"`))
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for i := 0; i < 512; i++ {
		_, _ = zw.Write(chunk)
	}
	zw.Close()
	f.Close()
	st, _ := os.Stat(bomb)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := runCLI(t, "", home, "report", bomb)
	runtime.ReadMemStats(&after)
	if r.code != exitUsage || !strings.Contains(r.stderr, "compression bomb") {
		t.Errorf("a %d KiB gzip bomb: exit %d: %s", st.Size()>>10, r.code, r.stderr)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
		t.Errorf("reading the bomb allocated %d MiB", grew>>20)
	}

	// a forged shard count
	_, inv, kh := startFleet(t, []string{"healthy"})
	shardFile := filepath.Join(dir, "shard.json")
	if r := runCLI(t, "", home, "scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--shard", "1/2", "-o", "json", "--out", shardFile); r.code > exitFindings {
		t.Fatalf("shard: exit %d: %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(shardFile)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	doc["shard"].(map[string]any)["count"] = 50000000
	b, _ = json.Marshal(doc)
	_ = os.WriteFile(shardFile, b, 0o600)
	if r := runCLI(t, "", home, "merge", shardFile); r.code != exitUsage || !strings.Contains(r.stderr, "not a shard whyoffline writes") {
		t.Errorf("a forged shard count: exit %d: %s", r.code, r.stderr)
	}
}
