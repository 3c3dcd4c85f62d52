package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// fakeManager is the part of the Deep Security Manager API that
// --from-manager uses: GET /api/computers?expand=computerStatus over
// HTTPS, the API key in api-secret-key, api-version v1.
type fakeManager struct {
	srv       *httptest.Server
	key       string
	computers []map[string]any
	status    int // answer this instead of the list when set
	busy      int // answer this many requests 429 (Retry-After: 0) first
	mu        sync.Mutex
	requests  []*http.Request
}

// searchPage answers POST /api/computers/search as the manager does: the
// computers whose ID is greater than the criterion's, by ID, at most
// maxItems of them. A request shaped otherwise is a 400.
func (m *fakeManager) searchPage(w http.ResponseWriter, r *http.Request) {
	var q struct {
		MaxItems       int  `json:"maxItems"`
		SortByObjectID bool `json:"sortByObjectID"`
		SearchCriteria []struct {
			IDValue *int   `json:"idValue"`
			IDTest  string `json:"idTest"`
		} `json:"searchCriteria"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.MaxItems < 1 || q.MaxItems > 5000 || !q.SortByObjectID ||
		len(q.SearchCriteria) != 1 || q.SearchCriteria[0].IDValue == nil || q.SearchCriteria[0].IDTest != "greater-than" {
		http.Error(w, `{"message":"invalid search"}`, http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	all := append([]map[string]any(nil), m.computers...)
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i]["ID"].(int) < all[j]["ID"].(int) })
	page := []map[string]any{}
	for _, c := range all {
		if c["ID"].(int) > *q.SearchCriteria[0].IDValue && len(page) < q.MaxItems {
			page = append(page, c)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"computers": page})
}

func startManagerAPI(t *testing.T, key string) *fakeManager {
	t.Helper()
	m := &fakeManager{key: key}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r)
		status := m.status
		busy := m.busy > 0
		if busy {
			m.busy--
		}
		m.mu.Unlock()
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/api/computers/search":
			http.NotFound(w, r)
		case r.Header.Get("api-secret-key") != m.key:
			http.Error(w, `{"message":"Invalid API Key"}`, http.StatusUnauthorized)
		case r.Header.Get("api-version") != "v1" || r.URL.Query().Get("expand") != "computerStatus":
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		case status != 0:
			// like a debug page or a proxy that echoes the request: the key
			// must not reach the operator's terminal through it
			http.Error(w, fmt.Sprintf(`{"message":"internal error","request":{"api-secret-key":%q}}`, r.Header.Get("api-secret-key")), status)
		case busy:
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"message":"too many requests"}`, http.StatusTooManyRequests)
		default:
			m.searchPage(w, r)
		}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func computer(id int, host, platform string, messages ...string) map[string]any {
	return map[string]any{"ID": id, "hostName": host, "displayName": "", "platform": platform,
		"computerStatus": map[string]any{"agentStatus": "inactive", "agentStatusMessages": messages}}
}

// caFile writes the fake manager's certificate as a CA file.
func (m *fakeManager) caFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "dsm-ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw}
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromManagerScansOnlyOfflineComputers(t *testing.T) {
	const key = "2:dsm-api-SECRET-key"
	f, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "healthy", "agent-missing"})
	names := make([]string, f.Len())
	for i, h := range f.Hosts() {
		names[i] = h.Name
	}
	m := startManagerAPI(t, key)
	m.computers = []map[string]any{
		computer(1, names[0], "Red Hat Enterprise 9 (64 bit)", "Managed (Online)"),
		computer(2, names[1], "Red Hat Enterprise 9 (64 bit)", "Managed (Offline)"),
		computer(3, strings.ToUpper(names[2])+".corp.example.com", "Ubuntu Linux 22 (64 bit)", "Offline"), // FQDN, other case
		computer(4, names[3], "Oracle Linux 8", "Managed (Online)"),
		computer(5, "127.77.99.1", "Red Hat Enterprise 8", "Managed (Offline)"), // not in the inventory: nothing listens
		computer(6, "bad;name", "Red Hat Enterprise 8", "Managed (Offline)"),
	}
	ca := m.caFile(t)
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := map[string]string{"HOME": t.TempDir()}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json",
		"--from-manager", m.srv.URL, "--api-ca-file", ca}

	// without --from-manager-unlisted the run's credentials go only to
	// hosts the inventory names
	r := runCLI(t, "", home, append(base, "--api-key-file", keyFile)...)
	if r.code != exitFindings || strings.Contains(r.stdout, `"name": "127.77.99.1"`) || !strings.Contains(r.stderr, "skipped 1 computer(s) the inventory does not have") {
		t.Fatalf("without --from-manager-unlisted: exit %d; stderr: %s", r.code, r.stderr)
	}
	r = runCLI(t, "", home, append(base, "--api-key-file", keyFile, "--from-manager-unlisted")...)
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var got []string
	status := map[string]result.Status{}
	for _, h := range run.Hosts {
		got = append(got, h.Name)
		status[h.Name] = h.Status
	}
	sort.Strings(got)
	want := []string{"127.77.99.1", names[1], names[2]}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("scanned %v, want only the offline computers %v", got, want)
	}
	if status[names[1]] != result.Diagnosed || status[names[2]] != result.Healthy || status["127.77.99.1"] != result.Error {
		t.Errorf("statuses %v", status)
	}
	for _, h := range run.Hosts {
		if h.Name == names[1] && h.ManagerStatus != "Managed (Offline)" {
			t.Errorf("%s: manager status %q", h.Name, h.ManagerStatus)
		}
	}
	for _, w := range []string{"shows 4 of 6 computers offline", "1 computer(s) not in the inventory", "127.77.99.1", "skipped 1", "bad;name"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Error("the API key was printed")
	}

	// the key from the environment; nothing offline: an empty report, exit 0
	for _, c := range m.computers {
		c["computerStatus"].(map[string]any)["agentStatusMessages"] = []string{"Managed (Online)"}
	}
	r = runCLI(t, "", map[string]string{"HOME": home["HOME"], "WHYOFFLINE_API_KEY": key}, base...)
	if r.code != exitHealthy || !strings.Contains(r.stdout, `"hosts": 0`) {
		t.Errorf("nothing offline: exit %d, %s / %s", r.code, r.stdout, r.stderr)
	}
	// offline, but none in --limit: the same
	m.computers[1]["computerStatus"].(map[string]any)["agentStatusMessages"] = []string{"Managed (Offline)"}
	r = runCLI(t, "", map[string]string{"HOME": home["HOME"], "WHYOFFLINE_API_KEY": key}, append(base, "-l", "no-such-host*")...)
	if r.code != exitHealthy || !strings.Contains(r.stdout, `"hosts": 0`) || !strings.Contains(r.stderr, "no offline computer to scan (1 offline") {
		t.Errorf("offline outside --limit: exit %d, %s / %s", r.code, r.stdout, r.stderr)
	}
}

func TestFromManagerFailures(t *testing.T) {
	const key = "3:another-SECRET"
	m := startManagerAPI(t, key)
	m.computers = []map[string]any{computer(1, "web01", "Red Hat Enterprise 9", "Managed (Offline)")}
	ca := m.caFile(t)
	withKey := map[string]string{"HOME": t.TempDir(), "WHYOFFLINE_API_KEY": key, "WHYOFFLINE_API_RETRY_BASE": "1ms"}
	wrongKey := map[string]string{"HOME": withKey["HOME"], "WHYOFFLINE_API_KEY": "3:stale"}
	noKey := map[string]string{"HOME": withKey["HOME"]}
	args := func(extra ...string) []string {
		return append([]string{"scan", "--ssh-config", "none", "-o", "json", "--from-manager", m.srv.URL}, extra...)
	}
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		args   []string
		status int
		code   int
		want   string
	}{
		{"no key", noKey, args("--api-ca-file", ca), 0, exitUsage, "WHYOFFLINE_API_KEY"},
		{"key refused", wrongKey, args("--api-ca-file", ca), 0, exitUsage, "refused the API key (HTTP 401)"},
		{"certificate not trusted", withKey, args(), 0, exitUsage, "--api-ca-file"},
		{"plain http", withKey, []string{"scan", "--from-manager", "http://dsm.example.com:4119"}, 0, exitUsage, "clear text"},
		{"missing key file", noKey, args("--api-key-file", "/nonexistent/key"), 0, exitUsage, "/nonexistent/key"},
		{"manager error", withKey, args("--api-ca-file", ca), http.StatusInternalServerError, exitFailed, "HTTP 500"},
		{"rate limited", withKey, args("--api-ca-file", ca), http.StatusTooManyRequests, exitFailed, "HTTP 429) after 5 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.mu.Lock()
			m.status = tc.status
			m.mu.Unlock()
			r := runCLI(t, "", tc.vars, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", r.code, tc.code, r.stdout, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, key) {
				t.Error("the API key was printed")
			}
		})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.requests) == 0 {
		t.Fatal("no request reached the manager")
	}
}

// TestFromManagerPagesAndRetries: a manager with 25,000 computers is read
// page by page to the end, a 429 is waited out and retried, and --all
// scans every computer, not only the offline ones.
func TestFromManagerPagesAndRetries(t *testing.T) {
	const key = "4:paged-SECRET"
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped"})
	m := startManagerAPI(t, key)
	for i := 1; i <= 25000; i++ {
		msg := "Managed (Online)"
		if i%5000 == 0 {
			msg = "Managed (Offline)"
		}
		m.computers = append(m.computers, computer(i*3, fmt.Sprintf("srv%05d.corp.example", i), "Red Hat Enterprise 9", msg))
	}
	m.computers = append(m.computers, computer(99999, "agent-stopped-001", "Red Hat Enterprise 9", "Managed (Offline)"))
	m.busy = 2 // the first two requests: 429 with Retry-After 0
	vars := map[string]string{"HOME": t.TempDir(), "WHYOFFLINE_API_KEY": key, "WHYOFFLINE_API_RETRY_BASE": "1ms"}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "-o", "json",
		"--from-manager", m.srv.URL, "--api-ca-file", m.caFile(t)}
	r := runCLI(t, "", vars, base...)
	if r.code != exitFindings || !strings.Contains(r.stderr, "shows 6 of 25001 computers offline") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m.mu.Lock()
	n := len(m.requests)
	m.mu.Unlock()
	if n != 2+6 { // two refused, then 5 full pages and the empty one
		t.Errorf("%d requests, want 8", n)
	}
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || len(run.Hosts) != 1 || run.Hosts[0].Name != "agent-stopped-001" {
		t.Errorf("scanned %+v (%v)", run.Hosts, err)
	}
	r = runCLI(t, "", vars, append(base, "--all")...)
	if !strings.Contains(r.stderr, "lists 25001 computers (--all") {
		t.Errorf("--all: %s", r.stderr)
	}
}
