package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/whyoffline/whyoffline/internal/result"
)

// FuzzRead: a saved run is untrusted (edited, forged, corrupted): any
// bytes read as a run or an error, and a run read carries no control
// character in what reports show, and only the contract's statuses.
func FuzzRead(f *testing.F) {
	b, _ := json.Marshal(sampleRun())
	f.Add(b)
	// the state directory keeps runs gzip'd: the inflating path too
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(b)
	_ = zw.Close()
	f.Add(gz.Bytes())
	f.Add([]byte(`{"schema":"whyoffline/v1","hosts":[{"name":"a\u001b[2J","status":"healthy","causes":[],"checks":[],"error":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, h := range run.Hosts {
			switch h.Status {
			case result.Healthy, result.Diagnosed, result.Unreachable, result.Error:
			default:
				t.Fatalf("status %q", h.Status)
			}
			for _, s := range append([]string{h.Name, h.Address, h.ManagerStatus}, h.Groups...) {
				if strings.IndexFunc(s, unicode.IsControl) >= 0 {
					t.Fatalf("%q", s)
				}
			}
			for _, c := range h.Causes {
				if strings.IndexFunc(c.Evidence+c.ID+c.Remedy, unicode.IsControl) >= 0 {
					t.Fatalf("cause %+v", c)
				}
			}
		}
		// and it renders as CSV with no formula cell
		var out bytes.Buffer
		w, _ := New("csv", &out, Options{})
		for i := range run.Hosts {
			_ = w.Host(i, &run.Hosts[i])
		}
		_ = w.End(run)
		for _, line := range strings.Split(out.String(), "\n") {
			for _, cell := range strings.Split(line, ",") {
				if c := strings.TrimLeft(cell, "\""); c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
					t.Fatalf("formula cell %q", cell)
				}
			}
		}
	})
}
