package playbook

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/transport"
)

const hostileNonce = "931dcd899a4f310f"

// shapes are host outputs of at most the transport's cap (1 MiB): a
// normal host's (a golden vector), and what a hostile one can send.
func shapes(tb testing.TB) map[string][]byte {
	normal, err := os.ReadFile("../golden/testdata/linux/healthy-1.out")
	if err != nil {
		tb.Fatal(err)
	}
	m := func(tag string) string { return "<<WO:" + hostileNonce + ":" + tag + ">>\n" }
	head := m("os:Linux") + m("playbook:linux")
	fill := func(b *strings.Builder, body func(b *strings.Builder)) []byte {
		b.WriteString(head)
		for b.Len() < transport.MaxStdout-4096 {
			body(b)
		}
		return []byte(b.String()[:min(b.Len(), transport.MaxStdout)])
	}
	out := map[string][]byte{"normal": normal}
	var b strings.Builder
	out["empty lines in sections"] = fill(&b, func(b *strings.Builder) {
		for _, id := range []string{"setup", "agent.process", "logs.tls", "dns.resolve"} {
			b.WriteString(m("begin:" + id))
			b.WriteString(strings.Repeat("\n", 64<<10))
			b.WriteString(m("end:" + id + ":0"))
		}
	})
	b = strings.Builder{}
	out["one huge line"] = fill(&b, func(b *strings.Builder) {
		b.WriteString(m("begin:logs.tls"))
		b.WriteString(strings.Repeat("tls=handshake failed ", 24000))
		b.WriteString("\n" + m("end:logs.tls:0"))
	})
	b = strings.Builder{}
	n := 0
	out["many tiny sections"] = fill(&b, func(b *strings.Builder) {
		n++
		b.WriteString(m(fmt.Sprintf("begin:s%d", n)) + "k=v\n" + m(fmt.Sprintf("end:s%d:0", n)))
	})
	b = strings.Builder{}
	out["nested and forged markers"] = fill(&b, func(b *strings.Builder) {
		b.WriteString(m("begin:setup") + m("begin:setup") + "<<WO:" + hostileNonce + ":begin:" + strings.Repeat("x", 200) + ">>\n" + "<<WO:0000:begin:x>>\n")
	})
	b = strings.Builder{}
	out["key=value flood"] = fill(&b, func(b *strings.Builder) {
		b.WriteString(m("begin:net.addresses"))
		for i := 0; i < 4000; i++ {
			fmt.Fprintf(b, "addr=10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
		}
		b.WriteString(m("end:net.addresses:0"))
	})
	return out
}

func parseOnce(tb testing.TB, p *Playbook, out []byte) {
	raw := frame.Split(out, hostileNonce)
	p.Evaluate(raw)
}

// BenchmarkParseWorstShapes: the parse of a host's output (frame split,
// then the playbook's evaluation) for the worst shapes a hostile host can
// send within the 1 MiB cap, against a normal host's. make bench prints
// them; the goal is at most 2× a normal host's... per byte received.
func BenchmarkParseWorstShapes(b *testing.B) {
	set := loadEmbedded(b)
	p := set.ForOS("linux")
	for name, out := range shapes(b) {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			for i := 0; i < b.N; i++ {
				parseOnce(b, p, out)
			}
		})
	}
}

// TestParseIsLinear: every worst shape parses allocating a bounded
// multiple of what it received — a quadratic append copies the section
// for every line it adds (gigabytes for a megabyte of empty lines).
// Counted in bytes, not timed, so the test means the same on a busy
// machine.
func TestParseIsLinear(t *testing.T) {
	set := loadEmbedded(t)
	p := set.ForOS("linux")
	for name, out := range shapes(t) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		parseOnce(t, p, out)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-26s %8d bytes in, %10d bytes allocated (%.1f×)", name, len(out), alloc, float64(alloc)/float64(len(out)))
		if alloc > 16*uint64(len(out))+4<<20 {
			t.Errorf("%s: %d bytes allocated to parse %d: not linear", name, alloc, len(out))
		}
	}
}
