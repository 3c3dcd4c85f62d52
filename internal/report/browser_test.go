package report

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

// bigRun is a 10,000-host run with a realistic mix.
func bigRun(n int) *result.Run {
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	run := &result.Run{Schema: result.Schema, Started: t0, Finished: t0.Add(20 * time.Minute), Fleet: []result.Finding{},
		Manager: &result.Manager{Host: "dsm.example.com", Port: 4120, Mode: "agent-initiated"}}
	causes := []string{"agent-not-running", "dns-unresolvable", "heartbeat-port-blocked", "clock-skew", "tls-failure"}
	oses := []string{"linux", "linux", "linux", "windows", "solaris", "aix"}
	for i := 0; i < n; i++ {
		h := result.Host{Name: fmt.Sprintf("web%05d.zone%02d.example", i, i%40), Address: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			OS: oses[i%len(oses)], Transport: "ssh", Causes: []result.Cause{}, Checks: []result.Check{{ID: "agent.process", Result: "pass"}},
			Groups: []string{fmt.Sprintf("zone%02d", i%40)}}
		switch {
		case i%10 < 6:
			h.Status = result.Healthy
		case i%10 < 9:
			h.Status = result.Diagnosed
			c := causes[i%len(causes)]
			h.Causes = append(h.Causes, result.Cause{ID: c, Confidence: result.Confirmed, Evidence: "evidence for " + c, Remedy: "fix " + c})
			h.Checks = append(h.Checks, result.Check{ID: "dns.resolve", Result: "fail", Output: "result=fail"})
		default:
			h.Status = result.Unreachable
			h.Causes = append(h.Causes, result.Cause{ID: "host-unreachable", Confidence: result.Confirmed, Evidence: "TCP connect timed out", Remedy: "power it on"})
		}
		run.Summary.Add(&h)
		run.Hosts = append(run.Hosts, h)
	}
	return run
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed and CI is set: make unit-deps installs Debian's chromium")
	}
	t.Skip("chromium is not installed (make unit-deps)")
	return ""
}

// headless runs Chromium on the page and returns what it printed.
func headless(t *testing.T, bin, profile string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--user-data-dir=" + profile}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// TestHTMLReportInChromium: the 10,000-host page loads and renders its
// table in Chromium in under 2 s, a filter from the URL narrows the table
// to exactly the matching hosts, the summary's counts are the run's, and a
// screenshot of the summary shows a chart with bars in it.
func TestHTMLReportInChromium(t *testing.T) {
	bin := chromium(t)
	run := bigRun(10000)
	dir := t.TempDir()
	page := filepath.Join(dir, "sweep.html")
	var b bytes.Buffer
	w, _ := New("html", &b, Options{})
	for i := range run.Hosts {
		_ = w.Host(i, &run.Hosts[i])
	}
	if err := w.End(run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("page: %d KiB for %d hosts", b.Len()>>10, len(run.Hosts))
	profile := filepath.Join(dir, "profile")
	url := "file://" + page

	dom := headless(t, bin, profile, "--dump-dom", url)
	m := regexp.MustCompile(`data-rendered-ms="(\d+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("the page's script did not run (blocked by the CSP, or an error)")
	}
	ms, _ := strconv.Atoi(m[1])
	t.Logf("rendered %d rows %d ms after navigation started", len(run.Hosts), ms)
	if ms >= 2000 {
		t.Errorf("the 10,000-host page took %d ms to render (limit 2000)", ms)
	}
	if got := shown(dom); got != len(run.Hosts) {
		t.Errorf("unfiltered: %d rows shown, want %d", got, len(run.Hosts))
	}
	for id, want := range map[string]int{"sum-healthy": run.Summary.Healthy, "sum-diagnosed": run.Summary.Diagnosed, "sum-unreachable": run.Summary.Unreachable, "sum-error": run.Summary.Error} {
		if got := spanInt(dom, id); got != want {
			t.Errorf("summary %s: page says %d, the run %d", id, got, want)
		}
	}
	// a filter narrows the table to exactly the hosts it matches
	want := 0
	for i := range run.Hosts {
		h := &run.Hosts[i]
		if h.Status == result.Diagnosed && h.OS == "linux" && len(h.Causes) > 0 && h.Causes[0].ID == "dns-unresolvable" && strings.Contains(h.Name, "zone06") {
			want++
		}
	}
	dom = headless(t, bin, profile, "--dump-dom", url+"#status=diagnosed&os=linux&cause=dns-unresolvable&q=zone06")
	rows := len(regexp.MustCompile(`<tr class="host" data-i="\d+"`).FindAllString(dom, -1))
	if got := shown(dom); got != want || want == 0 || rows != want {
		t.Errorf("filtered: %d shown, %d rows; want %d", got, rows, want)
	}
	// no Change column without history
	if strings.Contains(dom, ">Change</th>") {
		t.Error("a Change column without history")
	}
	// with JavaScript off, as in a mail reader: no script runs, so the page
	// is what the server wrote without its <script> elements — the summary,
	// the charts and What to do must all be in it
	static := regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(b.String(), "")
	if !strings.Contains(static, "<h2>What to do</h2>") || !strings.Contains(static, `class="chart"`) || spanInt(static, "sum-diagnosed") != run.Summary.Diagnosed {
		t.Errorf("without JavaScript the page lacks its summary, charts or What to do")
	}
	// the summary, as a screenshot: the chart's bars are drawn
	shot := filepath.Join(dir, "summary.png")
	if p := os.Getenv("WHYOFFLINE_KEEP_SCREENSHOT"); p != "" {
		shot = p
	}
	headless(t, bin, profile, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars", url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	colored := map[string]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			switch c := fmt.Sprintf("%02x%02x%02x", r>>8, g>>8, b>>8); c {
			case "1a7f37", "bf8700", "cf222e", "0969da":
				colored[c]++
			}
		}
	}
	t.Logf("screenshot %dx%d, bar pixels by colour: %v", bounds.Dx(), bounds.Dy(), colored)
	if colored["1a7f37"] < 500 || colored["bf8700"] < 200 || colored["0969da"] < 500 {
		t.Errorf("the summary chart has no bars in the screenshot: %v", colored)
	}
}

func shown(dom string) int { return spanInt(dom, "shown") }

func spanInt(dom, id string) int {
	m := regexp.MustCompile(`id="` + id + `"[^>]*>(\d+)<`).FindStringSubmatch(dom)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
