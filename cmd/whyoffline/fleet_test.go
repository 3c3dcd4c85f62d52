package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/fleetsim"
	"github.com/whyoffline/whyoffline/internal/result"
)

// TestSharedNetworkBlockLeadsTheReport: four hosts of one subnet whose
// egress drops the heartbeat port, three in another that reach the
// manager. The reports lead with one finding naming exactly those four;
// each keeps its own cause and evidence, and (where the report holds
// every host) the cause names the finding.
func TestSharedNetworkBlockLeadsTheReport(t *testing.T) {
	_, inv, kh := startFleet(t, nil,
		fleetsim.Spec{Profile: "port-dropped", Count: 4, Zone: "10.2.3.0/24"},
		fleetsim.Spec{Profile: "healthy", Count: 3, Zone: "10.9.0.0/16"})
	home := map[string]string{"HOME": t.TempDir()}
	base := []string{"scan", "-i", inv, "--known-hosts", kh, "--ssh-config", "none", "--connect-timeout", "2s", "--timeout", "30s"}
	r := runCLI(t, "", home, append(base, "-o", "json")...)
	var run result.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
	}
	var shared []result.Finding
	for _, f := range run.Fleet {
		if f.ID == result.FleetSharedNetwork {
			shared = append(shared, f)
		}
	}
	if len(shared) != 1 || strings.Join(shared[0].Hosts, ",") != "port-dropped-001,port-dropped-002,port-dropped-003,port-dropped-004" ||
		!strings.Contains(shared[0].Evidence, "4 hosts in 10.2.3.0/24 cannot reach") || !strings.Contains(shared[0].Evidence, "3 hosts in other subnets can") {
		t.Fatalf("fleet: %+v", run.Fleet)
	}
	for _, h := range run.Hosts {
		if strings.HasPrefix(h.Name, "port-dropped") && (len(h.Causes) == 0 || h.Causes[0].ID != result.HeartbeatPortBlocked) {
			t.Errorf("%s lost its own cause: %+v", h.Name, h.Causes)
		}
	}
	// the table leads with the finding, and each host's cause points at it
	r = runCLI(t, "", home, append(base, "-o", "table")...)
	if !strings.HasPrefix(r.stdout, "Fleet findings") || !strings.Contains(r.stdout, "fleet: shared-network-block:10.2.3.0/24:dropped") {
		t.Errorf("table:\n%s", r.stdout)
	}
	// CSV: an extra row with the host empty
	r = runCLI(t, "", home, append(base, "-o", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows[1:] {
		if row[0] == "" && row[3] == "fleet" && row[4] == result.FleetSharedNetwork && strings.Count(row[5], ";") == 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("csv has no fleet row: %v", rows)
	}
}
