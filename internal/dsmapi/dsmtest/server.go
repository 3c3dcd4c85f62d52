// Package dsmtest is a manager API for tests, built from the vendor's
// published material — not from whyoffline's client:
//
//   - Models: the Workload Security / Deep Security SDK for Python
//     (deepsecurity/models, OpenAPI spec 50.0.810): Computer (hostName,
//     displayName, lastIPUsed, platform, agentFingerPrint,
//     lastAgentCommunication in ms, agentVersion, ID, computerStatus,
//     ec2VirtualMachineSummary.instanceID), ComputerStatus (agentStatus one
//     of inactive, active, warning, error, not-supported;
//     agentStatusMessages), SearchFilter (maxItems, default 5000;
//     searchCriteria; sortByObjectID), SearchCriteria (idValue, idTest one
//     of equal, less-than, less-than-or-equal, greater-than,
//     greater-than-or-equal).
//   - ComputersApi: POST /computers/search, the api-version header, expand
//     as repeated query values whose documented default is "all" (every
//     block of the computer: large bodies), "none" for the basic fields.
//   - Authentication (the SDK's auth_settings): "Legacy API Key" in the
//     api-secret-key header; "Trend Micro Cloud One API Key" in
//     Authorization, "ApiKey KEY" (Cloud One's "Manage API keys" page).
//     A key is one kind: the other header is a 401.
//   - Each API key has a language, English or Japanese (both API key
//     pages); status messages come back in it: Offline / Managed
//     (Offline) / Managed (Online), オフライン / 管理対象 (オフライン) / 管理対象
//     (オンライン) (the "Offline agent" help page in both languages).
//     The Japanese Unmanaged and module messages here are written for the
//     tests (the pages give those in English only); what matters is that
//     they are neither offline nor online statuses.
//   - Rate limits: HTTP 429 with the message "Too many API requests"
//     (the "API Rate Limits" guide), and no Retry-After header.
//   - Errors are a JSON object with a message.
//
// It answers only over TLS, and refuses a search shaped otherwise than
// the models allow (unknown SearchFilter fields, maxItems out of range,
// an idTest not in the enum) with 400.
package dsmtest

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
	"time"
)

// Key is one API key the manager knows.
type Key struct {
	Kind     string // "secret" (api-secret-key) or "apikey" (Authorization: ApiKey)
	Language string // "en" or "ja"
	Forbid   bool   // its role may not view computers (403)
}

// Computer is one computer of the fake's database.
type Computer struct {
	ID          int
	HostName    string
	DisplayName string
	Platform    string
	LastIP      string
	InstanceID  string // EC2
	// Agent: "" none (unmanaged), else the agent's state: "online",
	// "offline", "online-warning" (online, a module reports a problem
	// whose message holds the word Offline), "inactive".
	Agent        string
	Version      string
	LastContact  time.Time
	ExtraMessage string // a status text in neither language (a newer console)
}

// Server is the fake manager.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	keys      map[string]Key
	computers []Computer
	busy      int // answer this many requests 429 first
	requests  []Request
}

// Request is what the fake saw of one request.
type Request struct {
	Auth   string // "secret", "apikey" or ""
	Expand []string
	Status int
}

// New starts a fake manager over TLS.
func New(keys map[string]Key, computers []Computer) *Server {
	s := &Server{keys: keys, computers: append([]Computer(nil), computers...)}
	sort.Slice(s.computers, func(i, j int) bool { return s.computers[i].ID < s.computers[j].ID })
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// CAFile writes the server's certificate, PEM, as a CA file in dir.
func (s *Server) CAFile(dir string) (string, error) {
	p := filepath.Join(dir, "dsm-ca.pem")
	return p, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600)
}

// Busy makes the next n requests answer 429.
func (s *Server) Busy(n int) {
	s.mu.Lock()
	s.busy = n
	s.mu.Unlock()
}

// SetComputers replaces the database.
func (s *Server) SetComputers(cs []Computer) {
	s.mu.Lock()
	s.computers = append([]Computer(nil), cs...)
	sort.Slice(s.computers, func(i, j int) bool { return s.computers[i].ID < s.computers[j].ID })
	s.mu.Unlock()
}

// Requests returns what the fake has seen.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Expand: r.URL.Query()["expand"]}
	status := s.handle(w, r, &rec)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func fail(w http.ResponseWriter, status int, msg string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	return status
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	var key Key
	var ok bool
	if v := r.Header.Get("api-secret-key"); v != "" {
		key, ok = s.keys[v]
		ok = ok && key.Kind == "secret"
		rec.Auth = "secret"
	} else if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "ApiKey "); found {
		key, ok = s.keys[v]
		ok = ok && key.Kind == "apikey"
		rec.Auth = "apikey"
	}
	if !ok {
		return fail(w, http.StatusUnauthorized, "Invalid API key")
	}
	s.mu.Lock()
	busy := s.busy > 0
	if busy {
		s.busy--
	}
	s.mu.Unlock()
	switch {
	case busy:
		return fail(w, http.StatusTooManyRequests, "Too many API requests")
	case r.Header.Get("api-version") != "v1":
		return fail(w, http.StatusBadRequest, "api-version header is required")
	case key.Forbid:
		return fail(w, http.StatusForbidden, "You do not have permission to perform this action")
	case r.Method == http.MethodPost && r.URL.Path == "/api/computers/search":
		return s.search(w, r, key)
	}
	return fail(w, http.StatusNotFound, "Not found")
}

// searchFilter is the SDK's SearchFilter; unknown fields are refused.
type searchFilter struct {
	MaxItems       *int             `json:"maxItems"`
	SearchCriteria []searchCriteria `json:"searchCriteria"`
	SortByObjectID bool             `json:"sortByObjectID"`
}

type searchCriteria struct {
	FieldName string `json:"fieldName,omitempty"`
	IDValue   *int   `json:"idValue"`
	IDTest    string `json:"idTest"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, key Key) int {
	var f searchFilter
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fail(w, http.StatusBadRequest, "Invalid search filter: "+err.Error())
	}
	max := 5000
	if f.MaxItems != nil {
		if *f.MaxItems < 1 || *f.MaxItems > 5000 {
			return fail(w, http.StatusBadRequest, "maxItems must be between 1 and 5000")
		}
		max = *f.MaxItems
	}
	tests := map[string]func(a, b int) bool{
		"equal": func(a, b int) bool { return a == b }, "less-than": func(a, b int) bool { return a < b },
		"less-than-or-equal": func(a, b int) bool { return a <= b }, "greater-than": func(a, b int) bool { return a > b },
		"greater-than-or-equal": func(a, b int) bool { return a >= b },
	}
	for _, c := range f.SearchCriteria {
		if c.IDValue == nil || tests[c.IDTest] == nil {
			return fail(w, http.StatusBadRequest, "Invalid search criteria")
		}
	}
	expand := map[string]bool{}
	for _, e := range r.URL.Query()["expand"] {
		expand[e] = true
	}
	if len(expand) == 0 {
		expand["all"] = true // the documented default
	}
	s.mu.Lock()
	all := append([]Computer(nil), s.computers...)
	s.mu.Unlock()
	if !f.SortByObjectID {
		// the default order is not by ID: paging by ID without it skips
		sort.SliceStable(all, func(i, j int) bool { return all[i].HostName < all[j].HostName })
	}
	out := make([]map[string]any, 0, min(max, len(all)))
	for _, c := range all {
		match := true
		for _, sc := range f.SearchCriteria {
			match = match && tests[sc.IDTest](c.ID, *sc.IDValue)
		}
		if match && len(out) < max {
			out = append(out, c.json(key.Language, expand))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"computers": out})
	return http.StatusOK
}

// messages are the status texts the console shows, per language.
var messages = map[string]map[string]string{
	"en": {"online": "Managed (Online)", "offline": "Managed (Offline)", "offline-short": "Offline", "unmanaged": "Unmanaged (No Agent)",
		"inactive": "Unmanaged (Unknown)", "am-offline": "Anti-Malware Engine Offline"},
	"ja": {"online": "管理対象 (オンライン)", "offline": "管理対象 (オフライン)", "offline-short": "オフライン", "unmanaged": "管理対象外 (エージェントなし)",
		"inactive": "管理対象外 (不明)", "am-offline": "不正プログラム対策エンジン オフライン"},
}

func (c Computer) json(lang string, expand map[string]bool) map[string]any {
	m := messages[lang]
	if m == nil {
		m = messages["en"]
	}
	out := map[string]any{
		"ID": c.ID, "hostName": c.HostName, "displayName": c.DisplayName, "description": "", "platform": c.Platform,
		"lastIPUsed": c.LastIP, "groupID": 0, "policyID": 1, "assetImportanceID": 0, "relayListID": 0,
		"agentVersion": c.Version, "hostGUID": fmt.Sprintf("%08X-0000-0000-0000-%012d", c.ID, c.ID),
	}
	var status map[string]any
	switch c.Agent {
	case "":
		status = map[string]any{"agentStatus": "inactive", "agentStatusMessages": []string{m["unmanaged"]}}
	case "inactive":
		out["agentFingerPrint"] = fingerprint(c.ID)
		status = map[string]any{"agentStatus": "inactive", "agentStatusMessages": []string{m["inactive"]}}
	case "online", "online-warning", "offline", "offline-short":
		out["agentFingerPrint"] = fingerprint(c.ID)
		out["lastAgentCommunication"] = c.LastContact.UnixMilli()
		out["lastSendPolicySuccess"] = c.LastContact.UnixMilli()
		msgs := []string{m[c.Agent]}
		agent := "active"
		switch c.Agent {
		case "online-warning":
			msgs = []string{m["online"], m["am-offline"]}
			agent = "warning"
		case "offline", "offline-short":
			agent = "error"
		}
		if c.ExtraMessage != "" {
			msgs = []string{c.ExtraMessage}
		}
		status = map[string]any{"agentStatus": agent, "agentStatusMessages": msgs}
	}
	all := expand["all"]
	if all || expand["computerStatus"] {
		out["computerStatus"] = status
	}
	if (all || expand["ec2VirtualMachineSummary"]) && c.InstanceID != "" {
		out["ec2VirtualMachineSummary"] = map[string]any{"cloudProvider": "AWS", "instanceID": c.InstanceID, "privateIPAddress": c.LastIP,
			"availabilityZone": "eu-west-1a", "type": "t3.micro", "state": "POWER ON", "accountID": "000000000000"}
	}
	if all {
		// what "all" adds: every module and the computer's settings, the
		// bulk of a real answer
		for _, mod := range []string{"antiMalware", "webReputation", "firewall", "intrusionPrevention", "integrityMonitoring", "logInspection", "applicationControl", "activityMonitoring"} {
			out[mod] = map[string]any{"state": "on", "moduleStatus": map[string]any{"agentStatus": "active", "agentStatusMessage": "On"},
				"ruleIDs": ruleIDs(c.ID, 40)}
		}
		settings := map[string]any{}
		for i := 0; i < 60; i++ {
			settings[fmt.Sprintf("platformSettingSetting%02d", i)] = map[string]any{"value": strings.Repeat("x", 24)}
		}
		out["computerSettings"] = settings
		out["interfaces"] = map[string]any{"interfaces": []map[string]any{{"name": "eth0", "IPs": []string{c.LastIP}, "MAC": "02:00:00:00:00:01"}}}
		out["securityUpdates"] = map[string]any{"antiMalware": []map[string]any{{"name": "Virus Pattern", "version": "19.123.00"}}}
	}
	return out
}

func fingerprint(id int) string {
	return fmt.Sprintf("%02X:%02X:%02X:%02X:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", id&255, id>>8&255, id>>16&255, id>>24&255)
}

func ruleIDs(seed, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1000 + (seed*7+i*13)%5000
	}
	return out
}
