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
	mu        sync.Mutex
	requests  []*http.Request
}

func startManagerAPI(t *testing.T, key string) *fakeManager {
	t.Helper()
	m := &fakeManager{key: key}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r)
		status := m.status
		m.mu.Unlock()
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/api/computers":
			http.NotFound(w, r)
		case r.Header.Get("api-secret-key") != m.key:
			http.Error(w, `{"message":"Invalid API Key"}`, http.StatusUnauthorized)
		case r.Header.Get("api-version") != "v1" || r.URL.Query().Get("expand") != "computerStatus":
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		case status != 0:
			// like a debug page or a proxy that echoes the request: the key
			// must not reach the operator's terminal through it
			http.Error(w, fmt.Sprintf(`{"message":"internal error","request":{"api-secret-key":%q}}`, r.Header.Get("api-secret-key")), status)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"computers": m.computers})
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

	r := runCLI(t, "", home, append(base, "--api-key-file", keyFile)...)
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
	for _, w := range []string{"shows 4 of 6 computers offline", "1 offline computer(s) not in the inventory", "127.77.99.1", "skipped 1", "bad;name"} {
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
	withKey := map[string]string{"HOME": t.TempDir(), "WHYOFFLINE_API_KEY": key}
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
		{"rate limited", withKey, args("--api-ca-file", ca), http.StatusTooManyRequests, exitFailed, "HTTP 429"},
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
