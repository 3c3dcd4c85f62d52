package transports

import (
	"slices"
	"testing"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// TestConnectionsAreRegistered: the inventory's connection names (which
// ansible_connection and transport: values select which transport) name
// only registered transports, and every registered transport is reachable
// by at least one — a transport added here and forgotten there, or the
// reverse, fails.
func TestConnectionsAreRegistered(t *testing.T) {
	named := map[string]bool{}
	for conn, name := range inventory.Connections() {
		if _, ok := Lookup(name); !ok {
			t.Errorf("connection %q selects %q, which is not registered", conn, name)
		}
		named[name] = true
	}
	for _, tr := range All() {
		if !named[tr.Name] {
			t.Errorf("transport %q is registered, but no connection name selects it", tr.Name)
		}
		if tr.Options == nil || tr.Open == nil || tr.PasswordEnv == "" || tr.PasswordFileEnv == "" {
			t.Errorf("transport %q declares too little: %+v", tr.Name, tr)
		}
	}
}

// TestOptionsAreEveryTransports: the inventory schema is every
// transport's options, each key once.
func TestOptionsAreEveryTransports(t *testing.T) {
	var keys []string
	for _, o := range Options() {
		if slices.Contains(keys, o.Key) {
			t.Errorf("option %q declared twice", o.Key)
		}
		keys = append(keys, o.Key)
	}
	for _, tr := range All() {
		for _, o := range tr.Options() {
			if !slices.Contains(keys, o.Key) {
				t.Errorf("%s's option %q is not in the schema", tr.Name, o.Key)
			}
		}
	}
}

// TestEndpointsOnlyNeedsNoKnownHosts: `whyoffline inventory` opens the
// transports for endpoints only — no known_hosts file, nothing contacted
// — and gets each host's endpoint from its own transport; such a client
// refuses to log in.
func TestEndpointsOnlyNeedsNoKnownHosts(t *testing.T) {
	cs, err := Open(Settings{User: "ops", Getenv: func(string) string { return "" }}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for _, h := range []*inventory.Host{
		{Name: "web01", Address: "10.0.0.5", Port: 2222, Transport: inventory.SSH},
		{Name: "win01", Address: "10.0.0.6", Transport: inventory.WinRM, OS: "windows"},
	} {
		ep, err := cs.Endpoint(h)
		if err != nil || ep.Transport != h.Transport || ep.Address != h.Address || ep.User != "ops" {
			t.Errorf("%s: endpoint %+v, %v", h.Name, ep, err)
		}
	}
	if _, err := cs[inventory.SSH].Run(t.Context(), &inventory.Host{Name: "web01"}, transportRequest()); err == nil {
		t.Error("an endpoints-only SSH client logged in")
	}
	if _, err := cs.Endpoint(&inventory.Host{Name: "x", Transport: "telnet"}); err == nil {
		t.Error("an unknown transport has an endpoint")
	}
}

func transportRequest() transport.Request { return transport.Request{Command: "true"} }
