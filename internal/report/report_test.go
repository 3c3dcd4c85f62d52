package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

func sampleRun() *result.Run {
	t0 := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	return &result.Run{
		Schema: result.Schema, Started: t0, Finished: t0.Add(41 * time.Second),
		Manager: &result.Manager{Host: "dsm.example.com", Port: 4120, Mode: "agent-initiated"},
		Fleet:   []result.Finding{},
		Summary: result.Summary{Hosts: 3, Healthy: 1, Diagnosed: 1, Unreachable: 1},
		Hosts: []result.Host{
			{Name: "web01", Address: "10.0.0.5", OS: "linux", Transport: "ssh", Status: result.Healthy, Causes: []result.Cause{}, Checks: []result.Check{}},
			{Name: "=cmd|' /C calc'!A0", Address: "10.0.0.6", OS: "linux", Transport: "ssh", Status: result.Diagnosed,
				Causes: []result.Cause{{ID: "agent-not-running", Confidence: result.Confirmed, Evidence: "-2+3 \x1b[31mred\x1b[0m\nnext", Remedy: "@SUM(1)"}},
				Checks: []result.Check{{ID: "agent.process", Result: "fail", Output: "x\x1b]0;pwned\x07y"}}},
			{Name: "db01", Address: "10.0.0.7", Transport: "ssh", Status: result.Unreachable,
				Causes: []result.Cause{{ID: "host-unreachable", Confidence: result.Confirmed, Evidence: "timed out"}}},
		},
	}
}

func render(t *testing.T, format string) string {
	t.Helper()
	var b bytes.Buffer
	w, err := New(format, &b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := sampleRun()
	for i := range run.Hosts {
		if err := w.Host(i, &run.Hosts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCSVIsFormulaSafe(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(render(t, "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") || len(rows) != 4 {
		t.Fatalf("rows: %v", rows)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(strings.TrimSpace(cell)[0])) {
				t.Errorf("cell %q can start a formula", cell)
			}
			if strings.ContainsAny(cell, "\x1b\n") {
				t.Errorf("cell %q has control characters", cell)
			}
		}
	}
	if rows[2][5] != "agent-not-running" || rows[3][4] != "host-unreachable" {
		t.Errorf("rows: %v", rows[1:])
	}
}

func TestTableStripsEscapes(t *testing.T) {
	out := render(t, "table")
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("table carries escape sequences: %q", out)
	}
	for _, want := range []string{"web01", "agent-not-running", "host-unreachable", "What to do", "3 hosts: 1 healthy, 1 diagnosed, 1 unreachable, 0 error"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONSchemaAndRoundTrip(t *testing.T) {
	out := render(t, "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "started", "finished", "manager", "fleet", "summary", "hosts"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	host := doc["hosts"].([]any)[1].(map[string]any)
	for _, k := range []string{"name", "address", "os", "transport", "status", "duration_ms", "causes", "checks", "error"} {
		if _, ok := host[k]; !ok {
			t.Errorf("host lacks %q", k)
		}
	}
	run, err := Read(strings.NewReader(out))
	if err != nil || len(run.Hosts) != 3 || run.Hosts[1].Causes[0].ID != "agent-not-running" {
		t.Fatalf("round trip: %v %+v", err, run)
	}
	if _, err := Read(strings.NewReader(`{"schema":"other/v9"}`)); err == nil {
		t.Error("foreign schema accepted")
	}
}

func TestJSONLStreams(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(render(t, "jsonl")), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], `{"summary":`) {
		t.Fatalf("jsonl lines: %v", lines)
	}
	var h result.Host
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil || h.Name != "web01" {
		t.Errorf("first line: %v %+v", err, h)
	}
}

// TestHTMLEscapes: the page runs only its own script (allowed by hash in
// the Content-Security-Policy), a hostile host name cannot end the data
// element or add markup, and no control character survives.
func TestHTMLEscapes(t *testing.T) {
	run := sampleRun()
	run.Hosts[0].Name = `web01</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	var b bytes.Buffer
	w, _ := New("html", &b, Options{})
	for i := range run.Hosts {
		_ = w.Host(i, &run.Hosts[i])
	}
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "<script"); n != 2 || strings.Contains(out, "<script>alert") || strings.Contains(out, "<img src=x") ||
		strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "agent-not-running") {
		t.Errorf("html (%d script elements): %s", n, out)
	}
	sum := sha256.Sum256([]byte(pageScript))
	if !strings.Contains(html.UnescapeString(out), "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(out, "default-src 'none'") ||
		!strings.Contains(out, "<script>"+pageScript+"</script>") {
		t.Error("the CSP does not pin the page's script, or the script on the page is not the one hashed")
	}
	i := strings.Index(out, `<script type="application/json" id="data">`)
	j := strings.Index(out[i:], "</script>")
	var doc struct {
		Hosts []struct {
			N string `json:"n"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out[i+len(`<script type="application/json" id="data">`):i+j]), &doc); err != nil || len(doc.Hosts) != 3 || doc.Hosts[0].N != run.Hosts[0].Name {
		t.Errorf("the embedded data does not parse back: %v %+v", err, doc)
	}
}

// TestUnverifiedIsShown: a diagnosed host's unverified checks appear in the
// table, the CSV evidence and the HTML page.
func TestUnverifiedIsShown(t *testing.T) {
	run := &result.Run{Schema: result.Schema, Fleet: []result.Finding{}, Hosts: []result.Host{{
		Name: "web01", Status: result.Diagnosed, Checks: []result.Check{},
		Causes:     []result.Cause{{ID: "agent-not-running", Confidence: result.Confirmed, Evidence: "no ds_agent process"}},
		Unverified: []result.Unverified{{Check: "dns.resolve", Reason: "did not finish"}},
	}}}
	for _, format := range []string{"table", "csv", "html"} {
		var b strings.Builder
		w, err := New(format, &b, Options{Width: 200})
		if err != nil {
			t.Fatal(err)
		}
		for i := range run.Hosts {
			if err := w.Host(i, &run.Hosts[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.End(run); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "dns.resolve") || !strings.Contains(b.String(), "did not finish") {
			t.Errorf("-o %s does not show the unverified check:\n%s", format, b.String())
		}
	}
}

// TestJSONSpillKeepsInventoryOrder: hosts finish in any order and the
// json writer keeps none of them in memory, yet the document is exactly
// the run encoded whole, hosts in inventory order.
func TestJSONSpillKeepsInventoryOrder(t *testing.T) {
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
		run := sampleRun()
		var b bytes.Buffer
		w, err := New("json", &b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range order {
			if err := w.Host(i, &run.Hosts[i]); err != nil {
				t.Fatal(err)
			}
		}
		whole := *run
		run.Hosts = nil // a streaming sweep hands End no hosts
		if err := w.End(run); err != nil {
			t.Fatal(err)
		}
		want, _ := json.MarshalIndent(&whole, "", "  ")
		if got := b.String(); got != string(want)+"\n" {
			t.Errorf("order %v: document differs from the run encoded whole:\n%s\nwant:\n%s", order, got, want)
		}
	}
	// no hosts at all: an empty list, not null
	var b bytes.Buffer
	w, _ := New("json", &b, Options{})
	run := sampleRun()
	run.Hosts = nil
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	var back result.Run
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Hosts == nil || len(back.Hosts) != 0 {
		t.Errorf("empty run: %v %q", err, b.String())
	}
}

// TestJSONSpillLinksFleetFindings: the findings are known only after
// every host was spilled; the hosts they explain still come out with
// fleet_ref on the cause, byte for byte as a run linked and encoded whole.
func TestJSONSpillLinksFleetFindings(t *testing.T) {
	run := sampleRun()
	const ref = "scheduled-downtime"
	run.Fleet = append(run.Fleet, result.Finding{ID: "scheduled-downtime", Evidence: "e", Remedy: "r",
		Ref: ref, Hosts: []string{"db01"}, Explains: "host-unreachable"})
	var b bytes.Buffer
	w, _ := New("json", &b, Options{})
	for i := range run.Hosts {
		if err := w.Host(i, &run.Hosts[i]); err != nil {
			t.Fatal(err)
		}
	}
	whole := *run
	whole.Hosts = append([]result.Host(nil), run.Hosts...)
	run.Hosts = nil
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	refs := result.FleetRefs(whole.Fleet)
	linked := 0
	for i := range whole.Hosts {
		h := &whole.Hosts[i]
		if len(h.Causes) > 0 {
			h.Causes = append([]result.Cause(nil), h.Causes...)
		}
		if result.LinkFleet(h, refs) {
			linked++
		}
	}
	want, _ := json.MarshalIndent(&whole, "", "  ")
	if linked != 1 || b.String() != string(want)+"\n" || !strings.Contains(b.String(), `"fleet_ref": "`+ref+`"`) {
		t.Errorf("linked %d; document:\n%s\nwant:\n%s", linked, b.String(), want)
	}
}

// TestManagerStatusInEveryFormat: the manager's own words for a host's
// state reach the table, CSV (with the option), JSON and HTML.
func TestManagerStatusInEveryFormat(t *testing.T) {
	run := sampleRun()
	run.Hosts[1].ManagerStatus = "Managed (Offline)"
	for _, format := range []string{"table", "csv", "json", "html"} {
		var b bytes.Buffer
		w, _ := New(format, &b, Options{Width: 200, ManagerStatus: true})
		for i := range run.Hosts {
			_ = w.Host(i, &run.Hosts[i])
		}
		if err := w.End(run); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "Managed (Offline)") {
			t.Errorf("-o %s does not show the manager's status", format)
		}
	}
}

// TestWhatToDoGroupsByCauseAndCoversErrors: one group per cause even when
// hosts' remedy texts differ (each text shown with its hosts, never one
// host's under another's name), and hosts in error get a group and a
// remedy too; the table, cut for nobody when not on a terminal, keeps
// every word of the evidence.
func TestWhatToDoGroupsByCauseAndCoversErrors(t *testing.T) {
	long := strings.Repeat("word ", 60) + "THE-HINT-AT-THE-END"
	run := &result.Run{Schema: result.Schema, Fleet: []result.Finding{}, Hosts: []result.Host{
		{Name: "a", Status: result.Diagnosed, Causes: []result.Cause{{ID: "clock-skew", Confidence: result.Confirmed, Evidence: long, Remedy: "set the clock: 312 s off"}}},
		{Name: "b", Status: result.Diagnosed, Causes: []result.Cause{{ID: "clock-skew", Confidence: result.Confirmed, Evidence: "x", Remedy: "set the clock: 95 s off"}}},
		{Name: "c", Status: result.Error, Error: &result.HostError{Kind: result.HostKeyUnknown, Message: "host key for c:2222 is not in known_hosts"}},
		{Name: "d", Status: result.Error, Error: &result.HostError{Kind: result.PrivilegeDenied, Message: "sudo -n refused"}},
	}}
	groups := groupCauses(run)
	if len(groups) != 3 || groups[0].ID != "clock-skew" || len(groups[0].Variants) != 2 || groups[0].Remedy != "" ||
		!groups[1].Error || !groups[2].Error {
		t.Fatalf("groups %+v", groups)
	}
	for _, g := range groups[1:] {
		if g.Remedy == "" || g.Remedy == ErrorRemedy("no-such-kind") {
			t.Errorf("%s has no remedy of its own", g.ID)
		}
	}
	var b strings.Builder
	w, _ := New("table", &b, Options{Width: -1})
	for i := range run.Hosts {
		_ = w.Host(i, &run.Hosts[i])
	}
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"THE-HINT-AT-THE-END", "[a] set the clock: 312 s off", "[b] set the clock: 95 s off", "host-key-unknown (could not judge)", "privilege-denied (could not judge)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	w, _ = New("html", &b, Options{})
	for i := range run.Hosts {
		_ = w.Host(i, &run.Hosts[i])
	}
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "host-key-unknown</b> (could not judge)") || !strings.Contains(b.String(), "set the clock: 95 s off") {
		t.Errorf("html What to do lacks the error group or a variant")
	}
}

// TestCSVCellsBehindInvisibleCharacters: a zero-width space, a BOM or a
// bidi mark before a formula does not hide it from the guard.
func TestCSVCellsBehindInvisibleCharacters(t *testing.T) {
	for _, in := range []string{"\u200b=HYPERLINK(\"x\")", "\ufeff+1", "\u200e-2+3", " \u2060@SUM(A1)"} {
		if got := CSVCell(in); !strings.HasPrefix(got, "'") {
			t.Errorf("CSVCell(%q) = %q: a formula", in, got)
		}
	}
}

// TestForgedFactsAreContained: a saved run's facts (what --rediagnose
// judges again and quotes) lose their control characters on the way in.
func TestForgedFactsAreContained(t *testing.T) {
	doc := `{"schema":"whyoffline/v1","fleet":[],"hosts":[{"name":"a","status":"diagnosed","causes":[],"checks":[],"error":null,` +
		`"observed":{"facts":{"agent.service\u001b[31m":["stopped\u001b]0;owned\u0007"]},"started":"2026-12-01T00:00:00Z","finished":"2026-12-01T00:00:01Z","connected_addr":"10.0.0.1\u001b[2J"}}]}`
	run, err := Read(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	o := run.Hosts[0].Observed
	for k, vs := range o.Facts {
		for _, s := range append([]string{k, o.ConnectedAddr}, vs...) {
			if strings.ContainsAny(s, "\x1b\x07") {
				t.Errorf("a control character survived: %q", s)
			}
		}
	}
}
