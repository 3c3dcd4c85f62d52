package frame

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// FuzzSplit: any bytes a host sends split without panicking, within the
// caps (sections, bytes per section), and what is kept of the host's OS
// name carries no control character.
func FuzzSplit(f *testing.F) {
	outs, _ := filepath.Glob("../golden/testdata/*/*.out")
	for _, p := range outs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("<<WO:931dcd899a4f310f:begin:x>>\n\n\n<<WO:931dcd899a4f310f:end:x:0>>\n"))
	// lanes: tagged lines interleaved, one cut in two
	f.Add([]byte("<<WO:931dcd899a4f310f:begin:x>>\n<<WO:931dcd899a4f310f:begin:y>>\n<<WO:931dcd899a4f310f:line:y>>a=1\n<<WO:931dcd899a4f310f:line:x>>b=\n2\n<<WO:931dcd899a4f310f:end:x:0>>\n<<WO:931dcd899a4f310f:line:y>>c\n<<WO:931dcd899a4f310f:end:y:1>>\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		raw := Split(out, "931dcd899a4f310f")
		if len(raw.Sections) > maxSections {
			t.Fatalf("%d sections", len(raw.Sections))
		}
		for id, s := range raw.Sections {
			if len(s.Output) > MaxSectionBytes {
				t.Fatalf("section %q keeps %d bytes", id, len(s.Output))
			}
		}
		if strings.IndexFunc(raw.OS, unicode.IsControl) >= 0 {
			t.Fatalf("OS %q", raw.OS)
		}
		_ = SplitJSON(out, "931dcd899a4f310f")
	})
}

// FuzzHeader: the simulators read a script's header back (fleetsim on
// loopback, wsmantest), so the header reader takes any script: a header
// or an error, never a panic; and a header it returns renders and reads
// back the same.
func FuzzHeader(f *testing.F) {
	h := Header{Nonce: "931dcd899a4f310f", Manager: "dsm.example.com", Port: 4120,
		Checks: map[string][]string{"linux": {"setup", "dns.resolve"}}, Params: map[string]map[string]string{"linux": {"dns_timeout": "12"}}}
	f.Add("#!/bin/sh\n" + h.Comment() + "echo hi\n")
	f.Add("# whyoffline-frame: {\"nonce\":1}\n")
	f.Add("# whyoffline-frame: ")
	f.Fuzz(func(t *testing.T, script string) {
		got, err := ParseHeader(script)
		if err != nil {
			return
		}
		again, err := ParseHeader(got.Comment())
		if err != nil {
			t.Fatalf("a header read back fails: %v", err)
		}
		if again.Comment() != got.Comment() {
			t.Fatalf("header changed on the way back: %q != %q", again.Comment(), got.Comment())
		}
	})
}
