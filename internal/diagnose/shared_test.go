package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
)

func digests(spec ...string) []Digest {
	// "name subnet port [hop]" or "name - - dns SERVER RESULT"
	var out []Digest
	for _, s := range spec {
		f := strings.Fields(s)
		d := Digest{Name: f[0], Target: "dsm.example.com:4120"}
		if f[1] != "-" {
			d.Subnet = netip.MustParsePrefix(f[1])
			d.Port = f[2]
			if len(f) > 3 {
				d.LastHop = f[3]
			}
		} else {
			d.Server, d.DNS = f[4], f[5]
		}
		out = append(out, d)
	}
	return out
}

// TestSharedFindings: one finding for exactly the hosts of a subnet that
// cannot reach the manager while other subnets can, or of a resolver
// that fails while other resolvers answer — and none for the twins: the
// same failures spread over subnets, a subnet where some hosts get
// through, nobody reaching the manager at all, a slow resolver that
// answers.
func TestSharedFindings(t *testing.T) {
	o := &Options{Manager: "dsm.example.com", Port: 4120, Thresholds: playbook.Thresholds{SharedMinHosts: 3}}
	blocked := []string{"a1 10.2.3.0/24 timeout 10.2.3.1", "a2 10.2.3.0/24 timeout 10.2.3.1", "a3 10.2.3.0/24 timeout 10.2.3.1", "a4 10.2.3.0/24 timeout"}
	others := []string{"b1 10.9.0.0/16 open", "b2 10.9.0.0/16 open", "c1 192.168.5.0/24 open"}
	cases := []struct {
		name  string
		in    []Digest
		rule  func(*FleetInput, *Options) []result.Finding
		want  string // evidence, "" for no finding
		hosts string
	}{
		{"a subnet drops 4120", digests(append(blocked, others...)...), sharedNetworkBlock,
			"4 hosts in 10.2.3.0/24 cannot reach dsm.example.com:4120 (dropped at hop 10.2.3.1); 3 hosts in other subnets can", "a1,a2,a3,a4"},
		{"twin: the same failures spread over subnets", digests("a1 10.2.3.0/24 timeout", "a2 10.2.4.0/24 timeout", "a3 10.2.5.0/24 timeout", "a4 10.2.6.0/24 timeout",
			"b1 10.9.0.0/16 open"), sharedNetworkBlock, "", ""},
		{"twin: some hosts of the subnet get through", digests(append(append(blocked, "a5 10.2.3.0/24 open"), others...)...), sharedNetworkBlock, "", ""},
		{"twin: nobody reaches the manager", digests(blocked...), sharedNetworkBlock, "", ""},
		{"refused is its own finding", digests("r1 10.5.0.0/24 refused", "r2 10.5.0.0/24 refused", "r3 10.5.0.0/24 refused", "b1 10.9.0.0/16 open"), sharedNetworkBlock,
			"3 hosts in 10.5.0.0/24 cannot reach dsm.example.com:4120 (refused); 1 hosts in other subnets can", "r1,r2,r3"},
		{"a resolver fails", digests("d1 - - dns 10.0.0.53 timeout", "d2 - - dns 10.0.0.53 timeout", "d3 - - dns 10.0.0.53 fail", "e1 - - dns 10.1.0.53 ok"), sharedDNSFailure,
			"3 hosts using resolver 10.0.0.53 cannot resolve the manager (timeout); 1 hosts using other resolvers can", "d1,d2,d3"},
		{"twin: a slow resolver that answers", digests("d1 - - dns 10.0.0.53 ok", "d2 - - dns 10.0.0.53 ok", "d3 - - dns 10.0.0.53 ok", "e1 - - dns 10.1.0.53 ok"), sharedDNSFailure, "", ""},
		{"twin: every resolver fails", digests("d1 - - dns 10.0.0.53 timeout", "d2 - - dns 10.0.0.53 timeout", "d3 - - dns 10.0.0.53 timeout", "e1 - - dns 10.1.0.53 timeout"), sharedDNSFailure, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.rule(&FleetInput{Digests: c.in}, o)
			switch {
			case c.want == "" && len(got) != 0:
				t.Errorf("want no finding, got %+v", got)
			case c.want != "" && (len(got) != 1 || got[0].Evidence != c.want || strings.Join(got[0].Hosts, ",") != c.hosts || got[0].Ref == ""):
				t.Errorf("got %+v\nwant %q for %s", got, c.want, c.hosts)
			}
		})
	}
}

// TestLinkFleetKeepsHostCauses: a host a finding explains keeps its own
// cause and evidence, and the cause names the finding.
func TestLinkFleetKeepsHostCauses(t *testing.T) {
	hosts := []result.Host{
		{Name: "a1", Causes: []result.Cause{{ID: result.HeartbeatPortBlocked, Evidence: "timed out"}, {ID: result.ClockSkew}}},
		{Name: "b1", Causes: []result.Cause{{ID: result.HeartbeatPortBlocked, Evidence: "timed out"}}},
	}
	LinkFleet(hosts, []result.Finding{{ID: result.FleetSharedNetwork, Ref: "shared-network-block:10.2.3.0/24:dropped", Hosts: []string{"a1"}, Explains: explains[result.FleetSharedNetwork]}})
	if hosts[0].Causes[0].FleetRef != "shared-network-block:10.2.3.0/24:dropped" || hosts[0].Causes[0].Evidence != "timed out" ||
		hosts[0].Causes[1].FleetRef != "" || hosts[1].Causes[0].FleetRef != "" {
		t.Errorf("linked: %+v", hosts)
	}
}

// TestDigestPlacesHostsByWhatTheBastionKnows: a host's subnet is the
// address the bastion reached it at, with the prefix the host reports
// only when it reports that very address; a claim elsewhere is ignored.
func TestDigestPlacesHostsByWhatTheBastionKnows(t *testing.T) {
	facts := map[string][]string{
		"net.addresses": {"127.0.0.1/8", "10.2.3.17/23"}, "port.result": {"timeout"}, "port.target": {"dsm:4120"},
		"path.hops": {"1 10.2.2.1", "2 10.0.0.1"}, "dns.result": {"ok"}, "dns.servers": {"10.0.0.53", "10.1.0.53"},
	}
	for _, c := range []struct{ connected, address, want string }{
		{"10.2.3.17", "web01", "10.2.2.0/23"}, // reached where it says it is: its prefix
		{"10.9.0.5", "web01", "10.9.0.0/24"},  // it claims another subnet: not believed
		{"", "10.2.3.17", "10.2.2.0/23"},      // no connection address: the inventory's
		{"", "web01", "invalid Prefix"},       // nothing the bastion knows: in no subnet
	} {
		h := &result.Host{Name: "w", Address: c.address, Observed: &result.Observed{Facts: facts, ConnectedAddr: c.connected}}
		d := DigestOf(h)
		if d.Subnet.String() != c.want || d.Port != "timeout" || d.LastHop != "10.0.0.1" || d.Server != "10.0.0.53" || d.DNS != "ok" {
			t.Errorf("%+v: digest %+v, want subnet %s", c, d, c.want)
		}
	}
}

// TestOneHostCannotHideASubnetsBlock: a compromised host that claims an
// address in a blocked subnet, its own port open, does not make that
// subnet's finding disappear.
func TestOneHostCannotHideASubnetsBlock(t *testing.T) {
	var hosts []*result.Host
	mk := func(name, connected, claim, port string) {
		hosts = append(hosts, &result.Host{Name: name, Address: name, Observed: &result.Observed{ConnectedAddr: connected, Facts: map[string][]string{
			"net.addresses": {claim}, "port.result": {port}, "port.target": {"dsm:4120"}}}})
	}
	for i := 1; i <= 3; i++ {
		mk(fmt.Sprintf("blocked%d", i), fmt.Sprintf("10.2.3.%d", i), fmt.Sprintf("10.2.3.%d/24", i), "timeout")
	}
	mk("liar", "10.9.0.5", "10.2.3.50/24", "open")
	mk("elsewhere", "10.9.0.6", "10.9.0.6/24", "open")
	var ds []Digest
	for _, h := range hosts {
		ds = append(ds, DigestOf(h))
	}
	got := sharedNetworkBlock(&FleetInput{Digests: ds}, &Options{Manager: "dsm", Port: 4120})
	if len(got) != 1 || !strings.Contains(got[0].Ref, "10.2.3.0/24") || strings.Join(got[0].Hosts, ",") != "blocked1,blocked2,blocked3" {
		t.Fatalf("findings %+v: the liar hid or joined the blocked subnet", got)
	}
}

// TestManagerCertificate: expired, not yet valid and changed since the
// last run are findings, listing the hosts that log TLS errors; a valid,
// unchanged certificate, or none seen, is not.
func TestManagerCertificate(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	valid := &result.CertInfo{Subject: "CN=dsm", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0), Fingerprint: "aa11"}
	expired := &result.CertInfo{Subject: "CN=dsm", NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(0, 0, -3), Fingerprint: "bb22"}
	future := &result.CertInfo{Subject: "CN=dsm", NotBefore: now.Add(time.Hour), NotAfter: now.AddDate(1, 0, 0), Fingerprint: "cc33"}
	renewed := &result.CertInfo{Subject: "CN=dsm", NotBefore: now.AddDate(0, 0, -1), NotAfter: now.AddDate(1, 0, 0), Fingerprint: "dd44"}
	hosts := []Digest{{Name: "a", TLSErrors: true}, {Name: "b"}, {Name: "c", TLSErrors: true}}
	o := &Options{Manager: "dsm", Port: 4120}
	for _, c := range []struct {
		name      string
		cert, was *result.CertInfo
		want      string
	}{
		{"expired", expired, nil, "expired on 2026-11-23; 2 host(s) log TLS errors"},
		{"not yet valid", future, nil, "not valid before 2026-11-26 03:00 UTC"},
		{"changed since the last run", renewed, valid, "changed since the last run"},
		{"valid and unchanged", valid, valid, ""},
		{"valid, no history", valid, nil, ""},
		{"no handshake", nil, valid, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := managerCertificate(&FleetInput{Probe: &ManagerProbe{Host: "dsm", Port: 4120, Cert: c.cert, PreviousCert: c.was, Now: now}, Digests: hosts}, o)
			switch {
			case c.want == "" && len(got) != 0:
				t.Errorf("want none, got %+v", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].Evidence, c.want) || strings.Join(got[0].Hosts, ",") != "a,c"):
				t.Errorf("got %+v, want %q", got, c.want)
			}
		})
	}
}

// TestScheduledDowntime: a host off in every night run and on in every
// day run is named; twins are not — a host off once by day too, a host
// off every night but never seen by day, and a fleet with one night run.
func TestScheduledDowntime(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.Local) }
	run := func(at time.Time, st map[string]result.Status) PastRun { return PastRun{At: at, Status: st} }
	U, H, D := result.Unreachable, result.Healthy, result.Diagnosed
	past := []PastRun{
		run(day(20, 2), map[string]result.Status{"desk1": U, "desk2": U, "flaky": U, "srv": H}),
		run(day(20, 14), map[string]result.Status{"desk1": H, "desk2": D, "flaky": U, "srv": H}),
		run(day(21, 2), map[string]result.Status{"desk1": U, "desk2": U, "flaky": U, "srv": H}),
		run(day(21, 14), map[string]result.Status{"desk1": H, "desk2": H, "flaky": H, "srv": H}),
	}
	now := []Digest{{Name: "desk1", Status: U}, {Name: "desk2", Status: U}, {Name: "flaky", Status: U}, {Name: "srv", Status: H}, {Name: "new", Status: U}}
	got := scheduledDowntime(&FleetInput{Past: past, Now: day(22, 2), Digests: now}, &Options{})
	if len(got) != 1 || strings.Join(got[0].Hosts, ",") != "desk1,desk2" || !strings.Contains(got[0].Evidence, "last 5 runs") {
		t.Errorf("got %+v, want desk1 and desk2", got)
	}
	if got := scheduledDowntime(&FleetInput{Past: past[:1], Now: day(22, 14), Digests: now}, &Options{}); len(got) != 0 {
		t.Errorf("one night and one day run are not a schedule: %+v", got)
	}
	if got := scheduledDowntime(&FleetInput{Now: day(22, 2), Digests: now}, &Options{}); len(got) != 0 {
		t.Errorf("no history, yet %+v", got)
	}
}

// TestSharedBlockHopAtTheManager: when the zone's traces reach the manager
// itself, the finding does not name the manager as the hop that drops:
// the route is there, the port is filtered.
func TestSharedBlockHopAtTheManager(t *testing.T) {
	var ds []Digest
	for _, n := range []string{"a1", "a2", "a3"} {
		ds = append(ds, Digest{Name: n, Subnet: netip.MustParsePrefix("10.2.3.0/24"), Port: "timeout", Target: "dsm:4120", LastHop: "10.0.0.2", HopIsManager: true})
	}
	ds = append(ds, Digest{Name: "b1", Subnet: netip.MustParsePrefix("10.9.0.0/16"), Port: "open", Target: "dsm:4120"})
	f := sharedNetworkBlock(&FleetInput{Digests: ds}, &Options{Manager: "dsm", Port: 4120})
	if len(f) != 1 || strings.Contains(f[0].Evidence, "at hop 10.0.0.2") || !strings.Contains(f[0].Evidence, "reaches the manager itself") {
		t.Errorf("finding %+v", f)
	}
}
