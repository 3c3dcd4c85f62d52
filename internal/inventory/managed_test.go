package inventory_test

import (
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transports"
)

func TestForComputers(t *testing.T) {
	p := write(t, "inv.yaml", `
hosts:
  web01: {address: 10.0.0.1}
  db01.corp.example.com: {}
  app01.east.example.com: {}
  app01.west.example.com: {}
  win01: {address: win01.corp.example.com, transport: winrm}
  i-0abc: {address: 10.7.7.7}
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		computers []inventory.Computer
		scan      string // names, in order
		unknown   string
		invalid   string
		ambiguous int
	}{
		{"exact name", []inventory.Computer{{Name: "web01"}}, "web01", "", "", 0},
		{"address", []inventory.Computer{{Name: "10.0.0.1"}}, "web01", "", "", 0},
		{"fqdn to short inventory name, other case", []inventory.Computer{{Name: "WEB01.corp.example.com."}}, "web01", "", "", 0},
		{"short name to fqdn entry", []inventory.Computer{{Name: "db01"}}, "db01.corp.example.com", "", "", 0},
		{"address is a name", []inventory.Computer{{Name: "win01.corp.example.com"}}, "win01", "", "", 0},
		{"ambiguous short name: reported, not guessed", []inventory.Computer{{Name: "app01"}}, "", "", "", 1},
		{"unknown Windows computer", []inventory.Computer{{Name: "win02.corp.example.com", Windows: true, Status: "Managed (Offline)"}}, "win02.corp.example.com", "win02.corp.example.com", "", 0},
		{"listed twice: scanned once, said", []inventory.Computer{{Name: "web01"}, {Name: "web01.corp.example.com"}}, "web01", "", "", 1},
		{"not a host name", []inventory.Computer{{Name: "x;reboot"}, {Name: ""}, {Name: "web01"}}, "web01", "", "x;reboot,", 0},
		{"display name", []inventory.Computer{{Name: "ip-10-9-9-9", DisplayName: "DB01.corp.example.com"}}, "db01.corp.example.com", "", "", 0},
		{"last IP", []inventory.Computer{{Name: "localhost.localdomain", LastIP: "10.0.0.1"}}, "web01", "", "", 0},
		{"instance ID", []inventory.Computer{{Name: "ip-10-1-2-3", InstanceID: "i-0abc"}}, "i-0abc", "", "", 0},
		{"an address has no short name", []inventory.Computer{{Name: "10.0.0.99"}}, "10.0.0.99", "10.0.0.99", "", 0},
		{"name and IP fit two hosts: not guessed", []inventory.Computer{{Name: "db01.corp.example.com", LastIP: "10.0.0.1"}}, "", "", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := inventory.ForComputers(inv.Hosts, tc.computers)
			hosts, unknown, invalid := m.Scan, m.Unknown, m.Invalid
			if len(m.Ambiguous) != tc.ambiguous {
				t.Errorf("ambiguous %q, want %d", m.Ambiguous, tc.ambiguous)
			}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			if strings.Join(names, ",") != tc.scan || strings.Join(unknown, ",") != tc.unknown || strings.Join(invalid, ",") != tc.invalid {
				t.Errorf("scan %v unknown %v invalid %q; want %q %q %q", names, unknown, invalid, tc.scan, tc.unknown, tc.invalid)
			}
			for _, h := range hosts {
				// a name only the manager gave is reached over HTTPS only:
				// NTLM never goes to it in clear HTTP
				if h.Name == "win02.corp.example.com" && (h.Transport != inventory.WinRM || h.OS != "windows" || h.Address != h.Name ||
					strings.Join(h.Groups, ",") != "from_manager" || h.Opt("winrm_scheme") != "https" || h.ManagerStatus != "Managed (Offline)") {
					t.Errorf("new Windows entry = %+v", h)
				}
			}
		})
	}
}
