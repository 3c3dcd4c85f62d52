package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/dsmapi/dsmtest"
)

// TestNightlyPathKeepsEverything: two nightly runs from the manager's API
// into a state directory; then report of the kept (gzip'd) run, diff
// --state-dir, and merge of a sharded sweep. Each CSV keeps the change
// since the previous run, the manager's columns and the confidence.
func TestNightlyPathKeepsEverything(t *testing.T) {
	f, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "agent-missing"})
	var cs []dsmtest.Computer
	for i, h := range f.Hosts() {
		cs = append(cs, dsmtest.Computer{ID: 100 + i, HostName: h.Name, Agent: "offline", LastIP: h.Addr, LastContact: time.Now().Add(-time.Hour)})
	}
	const key = "2:NIGHTLY"
	m := dsmtest.New(map[string]dsmtest.Key{key: {Kind: "secret", Language: "en"}}, cs)
	t.Cleanup(m.Close)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	vars := map[string]string{"HOME": dir, "WHYOFFLINE_API_KEY": key}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s",
		"--from-manager", m.URL, "--api-ca-file", managerCA(t, m)}
	for i := 0; i < 2; i++ {
		if r := runCLI(t, "", vars, append(base, "--state-dir", state, "-o", "json", "--out", filepath.Join(dir, fmt.Sprintf("night%d.json", i)))...); r.code != exitFindings {
			t.Fatalf("night %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	// the run says which build wrote it
	if r := runCLI(t, "", vars, "report", filepath.Join(dir, "night0.json"), "-o", "json"); !strings.Contains(r.stdout, `"tool": {`) || !strings.Contains(r.stdout, `"name": "whyoffline"`) {
		t.Errorf("the run does not record the build that wrote it: %.300s", r.stdout)
	}
	kept, err := filepath.Glob(filepath.Join(state, "runs", "run-*.json.gz"))
	if err != nil || len(kept) != 2 {
		t.Fatalf("kept runs %v (%v)", kept, err)
	}
	checkCSV := func(what, out string, history bool) {
		t.Helper()
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: csv %v: %q", what, err, out)
		}
		head := strings.Join(rows[0], ",")
		want := "host,address,os,status,primary_cause,causes,evidence,remedy,confidence"
		if history {
			want += ",change"
		}
		want += ",manager_status,manager_id,offline_since,agent_version,platform,last_ip"
		if head != want {
			t.Fatalf("%s: header %s, want %s", what, head, want)
		}
		col := map[string]int{}
		for i, c := range rows[0] {
			col[c] = i
		}
		for _, row := range rows[1:] {
			if row[col["status"]] == "diagnosed" && (row[col["confidence"]] == "" || row[col["manager_id"]] == "" || row[col["offline_since"]] == "") {
				t.Errorf("%s: row %v lacks confidence or the manager's record", what, row)
			}
			if history && row[col["change"]] == "" {
				t.Errorf("%s: row %v lacks the change", what, row)
			}
		}
	}
	for i, what := range []string{"night0.json", "night1.json"} {
		b, err := os.ReadFile(filepath.Join(dir, what))
		if err != nil {
			t.Fatal(err)
		}
		checkSchema(t, fmt.Sprintf("scan --state-dir night %d", i), string(b))
	}
	checkSchema(t, "report --rediagnose of the kept run", runCLI(t, "", vars, "report", "--rediagnose", kept[1], "-o", "json").stdout)
	r := runCLI(t, "", vars, "report", kept[1], "-o", "csv")
	if r.code != 0 {
		t.Fatalf("report of the kept run: exit %d: %s", r.code, r.stderr)
	}
	checkCSV("report "+filepath.Base(kept[1]), r.stdout, true)

	r = runCLI(t, "", vars, "diff", "--state-dir", state)
	if r.code != 0 || !strings.Contains(r.stdout, "no change") { // nothing appeared between the two nights
		t.Errorf("diff --state-dir: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}

	var shards []string
	for k := 1; k <= 2; k++ {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		if r := runCLI(t, "", vars, append(base, "--shard", fmt.Sprintf("%d/2", k), "-o", "json", "--out", p)...); r.code > exitFindings {
			t.Fatalf("shard %d: exit %d: %s", k, r.code, r.stderr)
		}
		shards = append(shards, p)
	}
	for _, p := range shards {
		b, _ := os.ReadFile(p)
		checkSchema(t, "scan --shard", string(b))
	}
	checkSchema(t, "merge -o json", runCLI(t, "", vars, append([]string{"merge", "-o", "json"}, shards...)...).stdout)
	r = runCLI(t, "", vars, append([]string{"merge", "-o", "csv"}, shards...)...)
	if r.code != exitFindings {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	checkCSV("merge", r.stdout, false)
}
