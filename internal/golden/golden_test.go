// Package golden holds regression vectors: the raw output of the real check
// scripts, captured on real shells and on the lab's hosts (scan
// --save-raw), each with the facts, check results and causes it must
// yield. Adding a regression case is adding a file pair under
// testdata/<os>/; `go test ./internal/golden -update` writes what today's
// code yields into the .want.json files (review the diff), and
// `-import DIR` copies a --save-raw directory in first.
package golden

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/scan"
	"github.com/whyoffline/whyoffline/internal/transport"
	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
	"github.com/whyoffline/whyoffline/playbooks"
)

var (
	update    = flag.Bool("update", false, "write what today's code yields into testdata/*/*.want.json")
	importDir = flag.String("import", "", "copy the hosts of a scan --save-raw directory into testdata first (with -update)")
)

// Want is what one vector must yield.
type Want struct {
	Status     string              `json:"status"`               // healthy, diagnosed, or error
	Error      string              `json:"error,omitempty"`      // its kind (incomplete)
	Unverified []string            `json:"unverified,omitempty"` // checks without a verdict
	Playbook   string              `json:"playbook"`
	Checks     map[string]string   `json:"checks"` // check ID -> pass/fail/info/skip/error
	Facts      map[string][]string `json:"facts"`
	Causes     []string            `json:"causes"` // "id/confidence", primary first
}

type vector struct {
	name string // os/case
	out  []byte
	rec  scan.RawRecord
	want *Want
	path string // the .json record, without extension
}

func TestGoldenVectors(t *testing.T) {
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	rem, err := diagnose.NewRemedies(set.Causes)
	if err != nil {
		t.Fatal(err)
	}
	if *importDir != "" {
		if !*update {
			t.Fatal("-import needs -update")
		}
		if err := importRaw(set, *importDir); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := load("testdata")
	if err != nil {
		t.Fatal(err)
	}
	perOS := map[string]int{}
	for _, v := range vs {
		v := v
		t.Run(v.name, func(t *testing.T) {
			got, err := judge(set, rem, v)
			if err != nil {
				t.Fatal(err)
			}
			perOS[got.Playbook]++
			if *update {
				b, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(v.path+".want.json", append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if v.want == nil {
				t.Fatalf("no %s.want.json: run go test ./internal/golden -update and review it", v.path)
			}
			compare(t, v.want, got)
		})
	}
	t.Logf("%d vectors: %v", len(vs), perOS)
	if len(vs) < 30 {
		t.Errorf("only %d golden vectors; the suite keeps at least 30", len(vs))
	}
}

// judge reads one vector's output exactly as a scan would and diagnoses it.
func judge(set *playbook.Set, rem *diagnose.Remedies, v vector) (*Want, error) {
	d, ok := set.DialectNamed(v.rec.Dialect)
	if !ok {
		return nil, fmt.Errorf("unknown dialect %q", v.rec.Dialect)
	}
	raw := d.Split(v.out, v.rec.Nonce)
	pb := set.ForOS(raw.Playbook)
	if pb == nil {
		return nil, fmt.Errorf("the output names no loaded playbook (%q)", raw.Playbook)
	}
	f, checks := pb.Evaluate(raw)
	w := &Want{Playbook: pb.OS, Checks: map[string]string{}, Facts: f, Causes: []string{}}
	for _, c := range checks {
		w.Checks[c.ID] = c.Result
	}
	obs := result.Observed{}
	if v.rec.Observed != nil {
		obs = *v.rec.Observed
	}
	obs.Facts = f
	o, err := diagnose.OptionsForRun(&result.Run{Manager: v.rec.Manager, Settings: v.rec.Settings}, set.Causes.Thresholds, rem)
	if err != nil {
		return nil, err
	}
	// the verdict exactly as the scan reaches it
	cut := scan.CutShort(raw, &transport.Response{Stdout: v.out, ExitCode: v.rec.Exit})
	if v.rec.Error != nil && v.rec.Error.Kind == result.Timeout {
		cut = "the host's deadline passed"
	}
	h := &result.Host{Checks: checks}
	scan.Verdict(h, v.rec.Host, pb, f, &obs, cut, o)
	w.Status = string(h.Status)
	if h.Error != nil {
		w.Error = string(h.Error.Kind)
	}
	for _, u := range h.Unverified {
		w.Unverified = append(w.Unverified, u.Check)
	}
	for _, c := range h.Causes {
		w.Causes = append(w.Causes, c.ID+"/"+string(c.Confidence))
	}
	return w, nil
}

func compare(t *testing.T, want, got *Want) {
	t.Helper()
	if got.Playbook != want.Playbook {
		t.Errorf("playbook %q, want %q", got.Playbook, want.Playbook)
	}
	if got.Status != want.Status || got.Error != want.Error || strings.Join(got.Unverified, " ") != strings.Join(want.Unverified, " ") {
		t.Errorf("verdict %s %s unverified %v, want %s %s %v", got.Status, got.Error, got.Unverified, want.Status, want.Error, want.Unverified)
	}
	if strings.Join(got.Causes, " ") != strings.Join(want.Causes, " ") {
		t.Errorf("causes %v, want %v", got.Causes, want.Causes)
	}
	for _, id := range keys(want.Checks, got.Checks) {
		if got.Checks[id] != want.Checks[id] {
			t.Errorf("check %s: %q, want %q", id, got.Checks[id], want.Checks[id])
		}
	}
	for _, name := range keys(want.Facts, got.Facts) {
		if strings.Join(got.Facts[name], "\x00") != strings.Join(want.Facts[name], "\x00") {
			t.Errorf("fact %s = %q, want %q", name, got.Facts[name], want.Facts[name])
		}
	}
}

func keys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// load reads every testdata/<os>/<case>.json record with its .out.
func load(dir string) ([]vector, error) {
	var vs []vector
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".want.json") {
			return err
		}
		base := strings.TrimSuffix(path, ".json")
		v := vector{path: base, name: strings.TrimPrefix(filepath.ToSlash(base), dir+"/")}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &v.rec); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if v.out, err = os.ReadFile(base + ".out"); err != nil {
			return err
		}
		if b, err := os.ReadFile(base + ".want.json"); err == nil {
			v.want = &Want{}
			if err := json.Unmarshal(b, v.want); err != nil {
				return fmt.Errorf("%s.want.json: %v", base, err)
			}
		}
		vs = append(vs, v)
		return nil
	})
	return vs, err
}

var caseName = regexp.MustCompile(`[^a-z0-9._-]`)

// importRaw copies the hosts of a --save-raw directory whose output names a
// playbook into testdata/<os>/<host>.{out,json}.
func importRaw(set *playbook.Set, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		base := filepath.Join(dir, strings.TrimSuffix(e.Name(), ".json"))
		b, err := os.ReadFile(base + ".json")
		if err != nil {
			return err
		}
		var rec scan.RawRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("%s.json: %v", base, err)
		}
		out, err := os.ReadFile(base + ".out")
		if err != nil {
			return err
		}
		d, ok := set.DialectNamed(rec.Dialect)
		if !ok {
			continue
		}
		raw := d.Split(out, rec.Nonce)
		if set.ForOS(raw.Playbook) == nil {
			continue // the script never ran: nothing for the parsers
		}
		dst := filepath.Join("testdata", raw.Playbook)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		name := caseName.ReplaceAllString(strings.ToLower(rec.Host), "_")
		if err := os.WriteFile(filepath.Join(dst, name+".out"), out, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name+".json"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var captureShells = flag.Bool("capture-shells", false, "run the Linux script on this machine under each POSIX shell and add the outputs as vectors (with -update)")

// TestCaptureShells adds vectors captured on this machine: the Linux
// script, as rendered for a scan, run under each shell the project
// supports. Only with -capture-shells (the outputs describe this machine).
func TestCaptureShells(t *testing.T) {
	if !*captureShells {
		t.Skip("only with -capture-shells -update")
	}
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range [][]string{{"dash"}, {"bash", "--norc", "--noprofile"}, {"ksh93"}, {"mksh"}, {"busybox", "sh"}} {
		p := playbook.Params{Manager: "localhost", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce(), ManagerAddr: "127.0.0.1"}
		sc, err := set.Render("linux", "", p)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh[0], append(sh[1:], "-s")...)
		cmd.Stdin = strings.NewReader(string(sc.Body))
		start := time.Now().UTC()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", sh, err)
		}
		rec := scan.RawRecord{Host: "local-" + sh[0], Inventory: "linux", Dialect: "posix", Nonce: p.Nonce,
			Observed: &result.Observed{Started: start, Finished: time.Now().UTC(), BastionAddrs: []string{"127.0.0.1"}},
			Manager:  &result.Manager{Host: "localhost", Port: 4120, Mode: "agent-initiated"},
			Settings: &result.Settings{AgentPort: 4118, MaxClockSkew: "2m0s"}}
		b, _ := json.MarshalIndent(rec, "", "  ")
		base := filepath.Join("testdata", "linux", rec.Host)
		if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".out", out, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var captureWindows = flag.Bool("capture-windows", false, "add vectors of the WS-Management emulator's Windows flavours (2008 R2/PowerShell 2.0, 2016/5.1, 2022/7): what each fallback prints (with -update)")

// TestCaptureWindows adds, per flavour, the output the emulated Windows
// host gives for the rendered script in a few profiles — so parsing and
// verdicts are tested for every version's code paths (Resolve-DnsName or
// System.Net.Dns, NetSecurity or the firewall's COM API, ...). Only with
// -capture-windows -update.
func TestCaptureWindows(t *testing.T) {
	if !*captureWindows {
		t.Skip("only with -capture-windows -update")
	}
	set, err := playbook.Load(playbooks.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, flavour := range wsmantest.Flavours() {
		for _, profile := range []string{"healthy", "dns-failing", "firewall-blocked", "service-stopped", "tls-unavailable"} {
			p := playbook.Params{Manager: "dsm.lab.test", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: playbook.NewNonce(), ManagerAddr: "10.77.0.2"}
			sc, err := set.RenderPowerShell(p)
			if err != nil {
				t.Fatal(err)
			}
			out := wsmantest.Answer(string(sc.Body), profile+"@"+flavour, now, "10.77.0.2")
			rec := scan.RawRecord{Host: "win-" + flavour + "-" + profile, Inventory: "windows", Dialect: "powershell", Nonce: p.Nonce,
				Observed: &result.Observed{Started: now, Finished: now.Add(2 * time.Second), BastionAddrs: []string{"10.77.0.2"}, ManagerReachable: ptrTrue()},
				Manager:  &result.Manager{Host: "dsm.lab.test", Port: 4120, Mode: "agent-initiated"},
				Settings: &result.Settings{AgentPort: 4118, MaxClockSkew: "2m0s"}}
			b, _ := json.MarshalIndent(rec, "", "  ")
			base := filepath.Join("testdata", "windows", rec.Host)
			if err := os.WriteFile(base+".out", out, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func ptrTrue() *bool { b := true; return &b }
