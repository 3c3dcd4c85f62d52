package dsmapi_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/dsmapi"
	"github.com/whyoffline/whyoffline/internal/dsmapi/dsmtest"
)

// fleet is 12,345 computers with sparse IDs: mostly online, some online
// with a module message holding the word Offline, unmanaged and inactive
// ones, and offline ones — the last of them on the last page.
func fleet(now time.Time) ([]dsmtest.Computer, []string) {
	var cs []dsmtest.Computer
	var offline []string
	id := 7
	for i := 0; i < 12345; i++ {
		id += 1 + (i*7919)%23 // sparse, increasing
		c := dsmtest.Computer{ID: id, HostName: fmt.Sprintf("srv%05d.corp.example", i), Platform: "Red Hat Enterprise 9 (64 bit)",
			LastIP: fmt.Sprintf("10.80.%d.%d", i/250, i%250+1), Agent: "online", Version: "20.0.1-12345", LastContact: now.Add(-3 * time.Minute)}
		switch {
		case i%1000 == 17:
			c.Agent = "offline"
			c.LastContact = now.Add(-time.Duration(i) * time.Minute)
		case i%1000 == 18:
			c.Agent = "offline-short"
			c.LastContact = now.Add(-26 * time.Hour)
		case i%500 == 3:
			c.Agent = "online-warning" // "Anti-Malware Engine Offline"
		case i%700 == 5:
			c.Agent = "" // unmanaged
		case i%900 == 6:
			c.Agent = "inactive"
		}
		if i == 12344 {
			c.Agent = "offline" // the last computer of the last page
		}
		if c.Agent == "offline" || c.Agent == "offline-short" {
			offline = append(offline, c.HostName)
		}
		cs = append(cs, c)
	}
	sort.Strings(offline)
	return cs, offline
}

func caFile(t *testing.T, s *dsmtest.Server) string {
	p, err := s.CAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOfflineEveryKeyAndLanguage: for each key kind and each language,
// exactly the offline computers are selected, none that is online with a
// module message, none without an agent; the kind that worked is known.
func TestOfflineEveryKeyAndLanguage(t *testing.T) {
	now := time.Now()
	cs, want := fleet(now)
	keys := map[string]dsmtest.Key{
		"2:SECRET-en": {Kind: "secret", Language: "en"}, "2:SECRET-ja": {Kind: "secret", Language: "ja"},
		"tmc1CloudOne-en": {Kind: "apikey", Language: "en"}, "tmc1CloudOne-ja": {Kind: "apikey", Language: "ja"},
	}
	srv := dsmtest.New(keys, cs)
	defer srv.Close()
	ca := caFile(t, srv)
	for key, k := range keys {
		t.Run(key, func(t *testing.T) {
			c, err := dsmapi.New(dsmapi.Config{URL: srv.URL, APIKey: key, CAFile: ca, RetryBase: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			all, err := c.Computers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(cs) {
				t.Fatalf("%d computers, want %d", len(all), len(cs))
			}
			var got []string
			unknown := 0
			for i := range all {
				switch st, _ := all[i].State(now, 0); st {
				case dsmapi.Offline:
					got = append(got, all[i].HostName)
				case dsmapi.Unknown:
					unknown++
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("selected %d offline, want %d: %v", len(got), len(want), got)
			}
			if unknown != 0 {
				t.Errorf("%d computers of unknown status", unknown)
			}
			if c.Auth() != k.Kind {
				t.Errorf("auth %q, want %q", c.Auth(), k.Kind)
			}
		})
	}
	for _, r := range srv.Requests() {
		if strings.Join(r.Expand, ",") != "computerStatus,ec2VirtualMachineSummary" {
			t.Fatalf("expand %v: the default is all, far larger", r.Expand)
		}
	}
}

// TestUnknownStatusIsNotGuessed: a status text in no language whyoffline
// knows is Unknown while the agent communicates, and Offline (by time)
// once it has been silent longer than the heartbeat allows.
func TestUnknownStatusIsNotGuessed(t *testing.T) {
	now := time.Now()
	srv := dsmtest.New(map[string]dsmtest.Key{"k": {Kind: "secret", Language: "en"}}, []dsmtest.Computer{
		{ID: 1, HostName: "fresh", Agent: "online", ExtraMessage: "Gestionado (en línea)", LastContact: now.Add(-2 * time.Minute)},
		{ID: 2, HostName: "silent", Agent: "online", ExtraMessage: "Gestionado (en línea)", LastContact: now.Add(-3 * time.Hour)},
		{ID: 3, HostName: "module", Agent: "online-warning", LastContact: now.Add(-1 * time.Minute)},
	})
	defer srv.Close()
	c, err := dsmapi.New(dsmapi.Config{URL: srv.URL, APIKey: "k", CAFile: caFile(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.Computers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]dsmapi.State{"fresh": dsmapi.Unknown, "silent": dsmapi.Offline, "module": dsmapi.Online}
	for i := range all {
		if st, why := all[i].State(now, 0); st != want[all[i].HostName] {
			t.Errorf("%s: state %v (%s), want %v", all[i].HostName, st, why, want[all[i].HostName])
		}
	}
}

// TestAuthAndErrors: the other key kind is tried once after a 401 and the
// message says both were tried; --api-auth forces one; 403 names the
// role; 429 without Retry-After is retried; the key never shows.
func TestAuthAndErrors(t *testing.T) {
	keys := map[string]dsmtest.Key{"tmcCLOUDONE": {Kind: "apikey", Language: "en"}, "2:FORBIDDEN": {Kind: "secret", Forbid: true}}
	srv := dsmtest.New(keys, []dsmtest.Computer{{ID: 5, HostName: "a", Agent: "offline", LastContact: time.Now()}})
	defer srv.Close()
	ca := caFile(t, srv)
	get := func(key, auth string) (*dsmapi.Client, error) {
		c, err := dsmapi.New(dsmapi.Config{URL: srv.URL + "/api", APIKey: key, CAFile: ca, Auth: auth, RetryBase: time.Millisecond})
		if err != nil {
			return nil, err
		}
		_, err = c.Computers(context.Background())
		return c, err
	}
	c, err := get("tmcCLOUDONE", "")
	if err != nil || c.Auth() != dsmapi.AuthAPIKey {
		t.Fatalf("a Cloud One key: %v, auth %q", err, c.Auth())
	}
	if _, err := get("tmcCLOUDONE", dsmapi.AuthSecret); err == nil || !strings.Contains(err.Error(), "HTTP 401) as a console key (api-secret-key):") {
		t.Errorf("forced secret: %v", err)
	}
	if _, err := get("wrong", ""); err == nil || !strings.Contains(err.Error(), "as a console key (api-secret-key) and as a Cloud One key (Authorization: ApiKey)") {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := get("2:FORBIDDEN", ""); err == nil || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "Auditor") {
		t.Errorf("forbidden: %v", err)
	}
	srv.Busy(2)
	if _, err := get("tmcCLOUDONE", dsmapi.AuthAPIKey); err != nil {
		t.Errorf("after two 429s: %v", err)
	}
	srv.Busy(100)
	if _, err := get("tmcCLOUDONE", dsmapi.AuthAPIKey); err == nil || !strings.Contains(err.Error(), "HTTP 429") {
		t.Errorf("rate-limited: %v", err)
	}
	for _, bad := range []struct{ url, want string }{
		{"https://portal.xdr.trendmicro.com", "Trend Vision One portal"},
		{"https://cloudone.trendmicro.com", "Cloud One portal"},
	} {
		if _, err := dsmapi.New(dsmapi.Config{URL: bad.url, APIKey: "k"}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v", bad.url, err)
		}
	}
}

// TestProductAgents: the heartbeat target of each console kind, never the
// SaaS console's own address on 4120.
func TestProductAgents(t *testing.T) {
	for _, c := range []struct{ url, agents string }{
		{"https://workload.de-1.cloudone.trendmicro.com", "agents.workload.de-1.cloudone.trendmicro.com:443"},
		{"https://workload.us-1.cloudone.trendmicro.com/api", "agents.workload.us-1.cloudone.trendmicro.com:443"},
		{"https://app.deepsecurity.trendmicro.com", "agents.deepsecurity.trendmicro.com:443"},
		{"https://dsm.corp.example:4119", "dsm.corp.example:4120"},
		{"https://workload.xx.trendmicro.com", ""},
	} {
		if p := dsmapi.ProductOf(c.url); p.Agents != c.agents || (p.Agents == "" && p.Why == "") {
			t.Errorf("%s: %+v, want %q", c.url, p, c.agents)
		}
	}
}
