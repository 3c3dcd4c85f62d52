package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/dsmapi/dsmtest"
	"github.com/whyoffline/whyoffline/internal/result"
)

// managerCA writes the fake manager's certificate as a CA file.
func managerCA(t *testing.T, s *dsmtest.Server) string {
	p, err := s.CAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFromManagerEveryKeyAndLanguage: against a manager that answers as
// the published API does (internal/dsmapi/dsmtest), for each key kind and
// each language exactly the offline computers are scanned — one of them
// on the last page of 12,000+ — and none that is online with a module
// message holding the word "Offline"; the manager's record of each
// reaches all five formats.
func TestFromManagerEveryKeyAndLanguage(t *testing.T) {
	f, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "healthy", "agent-missing"})
	h := f.Hosts()
	now := time.Now()
	var cs []dsmtest.Computer
	for i := 0; i < 12000; i++ {
		cs = append(cs, dsmtest.Computer{ID: 10 + i*3, HostName: fmt.Sprintf("srv%05d.corp.example", i), Agent: "online", LastContact: now})
	}
	since := now.Add(-7 * time.Hour).Truncate(time.Millisecond)
	cs = append(cs,
		dsmtest.Computer{ID: 50001, HostName: h[0].Name, Platform: "Red Hat Enterprise 9 (64 bit)", Agent: "online-warning", LastContact: now},
		dsmtest.Computer{ID: 50002, HostName: "ip-10-1-2-3.internal", DisplayName: h[1].Name, Platform: "Red Hat Enterprise 9 (64 bit)", Agent: "offline",
			Version: "20.0.1-8765", LastIP: "10.1.2.3", LastContact: since},
		dsmtest.Computer{ID: 50003, HostName: strings.ToUpper(h[2].Name) + ".corp.example.com", Platform: "Ubuntu Linux 22 (64 bit)", Agent: "offline-short", LastContact: since},
		dsmtest.Computer{ID: 50004, HostName: h[3].Name, Agent: ""},                                // unmanaged
		dsmtest.Computer{ID: 99999, HostName: "127.77.99.1", Agent: "offline", LastContact: since}, // the last page; not in the inventory
	)
	keys := map[string]dsmtest.Key{"2:SECRET-en": {Kind: "secret", Language: "en"}, "2:SECRET-ja": {Kind: "secret", Language: "ja"},
		"tmc-CLOUDONE-en": {Kind: "apikey", Language: "en"}, "tmc-CLOUDONE-ja": {Kind: "apikey", Language: "ja"}}
	m := dsmtest.New(keys, cs)
	t.Cleanup(m.Close)
	ca := managerCA(t, m)
	home := t.TempDir()
	for key, k := range keys {
		t.Run(key, func(t *testing.T) {
			vars := map[string]string{"HOME": home, "WHYOFFLINE_API_KEY": key}
			base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--from-manager", m.URL, "--api-ca-file", ca}
			r := runCLI(t, "", vars, append(base, "-o", "json")...)
			if r.code != exitFindings {
				t.Fatalf("exit %d; stderr: %s", r.code, r.stderr)
			}
			checkSchema(t, "scan --from-manager -o json", r.stdout)
			var run result.Run
			if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range run.Hosts {
				got = append(got, x.Name)
			}
			sort.Strings(got)
			want := []string{h[1].Name, h[2].Name}
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("scanned %v, want exactly the offline computers the inventory has %v", got, want)
			}
			if !strings.Contains(r.stderr, "shows 3 of 12005 computers offline") || !strings.Contains(r.stderr, "skipped 1 computer(s) the inventory does not have") {
				t.Errorf("stderr: %s", r.stderr)
			}
			if run.Manager == nil || run.Manager.API == nil || run.Manager.API.Auth != k.Kind || run.Manager.API.Offline != 3 || run.Manager.API.Computers != 12005 {
				t.Fatalf("the run's API record: %+v", run.Manager)
			}
			var rec *result.ManagerComputer
			for _, x := range run.Hosts {
				if x.Name == h[1].Name {
					rec = x.Computer
				}
			}
			if rec == nil || rec.ID != 50002 || rec.MatchedBy != "display name" || rec.LastIP != "10.1.2.3" || rec.AgentVersion != "20.0.1-8765" ||
				rec.OfflineSince == nil || !rec.OfflineSince.Equal(since) || rec.Status == "" {
				t.Fatalf("%s's record: %+v", h[1].Name, rec)
			}
			if strings.Contains(r.stdout+r.stderr, key) {
				t.Error("the API key was printed")
			}
			if k.Language != "en" {
				return // the formats once are enough
			}
			sinceText := since.UTC().Format(time.RFC3339)
			// JSONL: the record on the host's line
			r = runCLI(t, "", vars, append(base, "-o", "jsonl")...)
			checkSchema(t, "scan --from-manager -o jsonl", r.stdout)
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			found := false
			for sc.Scan() {
				var x result.Host
				if json.Unmarshal(sc.Bytes(), &x) == nil && x.Name == h[1].Name {
					found = x.Computer != nil && x.Computer.ID == 50002 && x.Computer.OfflineSince.Equal(since)
				}
			}
			if !found {
				t.Errorf("jsonl lacks the record: %s", r.stdout)
			}
			// CSV: the manager's columns
			r = runCLI(t, "", vars, append(base, "-o", "csv")...)
			rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil {
				t.Fatalf("csv: %v", err)
			}
			col := map[string]int{}
			for i, c := range rows[0] {
				col[c] = i
			}
			ok := false
			for _, row := range rows[1:] {
				if row[0] == h[1].Name {
					ok = row[col["manager_id"]] == "50002" && row[col["offline_since"]] == sinceText && row[col["last_ip"]] == "10.1.2.3" &&
						row[col["manager_status"]] == "Managed (Offline)" && row[col["agent_version"]] == "20.0.1-8765"
				}
			}
			if !ok {
				t.Errorf("csv columns %v, rows %v", rows[0], rows)
			}
			// table and HTML: offline since
			r = runCLI(t, "", vars, append(base, "-o", "table")...)
			if !strings.Contains(r.stdout, "MANAGER") || !strings.Contains(r.stdout, "since "+since.UTC().Format("2006-01-02 15:04")) {
				t.Errorf("table: %s", r.stdout)
			}
			r = runCLI(t, "", vars, append(base, "-o", "html")...)
			if !strings.Contains(r.stdout, `"sn":true`) || !strings.Contains(r.stdout, since.UTC().Format("2006-01-02 15:04 UTC")) {
				t.Errorf("html lacks offline since")
			}
		})
	}
}

func TestFromManagerFailures(t *testing.T) {
	const key = "3:another-SECRET"
	m := dsmtest.New(map[string]dsmtest.Key{key: {Kind: "secret", Language: "en"}, "3:auditor-less": {Kind: "secret", Forbid: true}},
		[]dsmtest.Computer{{ID: 1, HostName: "web01", Agent: "offline", LastContact: time.Now()}})
	t.Cleanup(m.Close)
	ca := managerCA(t, m)
	home := t.TempDir()
	withKey := map[string]string{"HOME": home, "WHYOFFLINE_API_KEY": key, "WHYOFFLINE_API_RETRY_BASE": "1ms"}
	vars := func(k string) map[string]string { return map[string]string{"HOME": home, "WHYOFFLINE_API_KEY": k} }
	args := func(extra ...string) []string {
		return append([]string{"scan", "--ssh-config", "none", "-o", "json", "--from-manager", m.URL}, extra...)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		busy int
		code int
		want string
	}{
		{"no key", map[string]string{"HOME": home}, args("--api-ca-file", ca), 0, exitUsage, "WHYOFFLINE_API_KEY"},
		{"key refused both ways", vars("3:stale"), args("--api-ca-file", ca), 0, exitUsage, "refused the API key (HTTP 401) as a console key (api-secret-key) and as a Cloud One key"},
		{"kind forced", withKey, args("--api-ca-file", ca, "--api-auth", "apikey"), 0, exitUsage, "(HTTP 401) as a Cloud One key (Authorization: ApiKey):"},
		{"bad kind", withKey, args("--api-ca-file", ca, "--api-auth", "bearer"), 0, exitUsage, "--api-auth \"bearer\""},
		{"role may not view computers", vars("3:auditor-less"), args("--api-ca-file", ca), 0, exitUsage, "HTTP 403"},
		{"certificate not trusted", withKey, args(), 0, exitUsage, "--api-ca-file"},
		{"plain http", withKey, []string{"scan", "--from-manager", "http://dsm.example.com:4119"}, 0, exitUsage, "clear text"},
		{"Vision One portal", withKey, []string{"scan", "--from-manager", "https://portal.xdr.trendmicro.com"}, 0, exitUsage, "Trend Vision One portal"},
		{"missing key file", map[string]string{"HOME": home}, args("--api-key-file", "/nonexistent/key"), 0, exitUsage, "/nonexistent/key"},
		{"rate limited, no Retry-After", withKey, args("--api-ca-file", ca), 100, exitFailed, "HTTP 429) after 5 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.Busy(tc.busy)
			defer m.Busy(0)
			r := runCLI(t, "", tc.vars, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", r.code, tc.code, r.stdout, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, key) {
				t.Error("the API key was printed")
			}
		})
	}
	if len(m.Requests()) == 0 {
		t.Fatal("no request reached the manager")
	}
}

// TestFromManagerPagesAndRetries: 12,500 computers with sparse IDs are read
// page by page to the end, two 429s without Retry-After are waited out,
// and --all scans every computer, not only the offline ones.
func TestFromManagerPagesAndRetries(t *testing.T) {
	const key = "4:paged-SECRET"
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped"})
	now := time.Now()
	var cs []dsmtest.Computer
	for i := 1; i <= 12500; i++ {
		c := dsmtest.Computer{ID: i * 3, HostName: fmt.Sprintf("srv%05d.corp.example", i), Agent: "online", LastContact: now}
		if i%2500 == 0 {
			c.Agent = "offline"
		}
		cs = append(cs, c)
	}
	cs = append(cs, dsmtest.Computer{ID: 99999, HostName: "agent-stopped-001", Agent: "offline", LastContact: now.Add(-time.Hour)})
	m := dsmtest.New(map[string]dsmtest.Key{key: {Kind: "secret", Language: "en"}}, cs)
	t.Cleanup(m.Close)
	m.Busy(2)
	vars := map[string]string{"HOME": t.TempDir(), "WHYOFFLINE_API_KEY": key, "WHYOFFLINE_API_RETRY_BASE": "1ms"}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json",
		"--from-manager", m.URL, "--api-ca-file", managerCA(t, m)}
	r := runCLI(t, "", vars, base...)
	if r.code != exitFindings || !strings.Contains(r.stderr, "shows 6 of 12501 computers offline") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := len(m.Requests()); n != 2+3 { // two refused, then 2 full pages and the short one
		t.Errorf("%d requests, want 5", n)
	}
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || len(run.Hosts) != 1 || run.Hosts[0].Name != "agent-stopped-001" {
		t.Errorf("scanned %+v (%v)", run.Hosts, err)
	}
	r = runCLI(t, "", vars, append(base, "--all")...)
	if !strings.Contains(r.stderr, "lists 12501 computers (--all") {
		t.Errorf("--all: %s", r.stderr)
	}
}
