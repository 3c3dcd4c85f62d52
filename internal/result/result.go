// Package result holds the per-host and per-run records that diagnose
// produces, scan streams and report renders. The JSON tags are the
// whyoffline/v1 schema of the contract (SPEC.md section 5): names here are
// not renamed.
package result

import "time"

// Schema is the value of the "schema" field of a saved run.
const Schema = "whyoffline/v1"

// Status of one host (SPEC.md section 4).
type Status string

const (
	Healthy     Status = "healthy"
	Diagnosed   Status = "diagnosed"
	Unreachable Status = "unreachable"
	Error       Status = "error"
)

// Confidence of a cause.
type Confidence string

const (
	Confirmed Confidence = "confirmed"
	Likely    Confidence = "likely"
	Possible  Confidence = "possible"
)

// Cause IDs of the contract.
const (
	HostUnreachable      = "host-unreachable"
	AgentNotInstalled    = "agent-not-installed"
	AgentNotRunning      = "agent-not-running"
	SolarisAgentUpgrade  = "solaris-agent-upgrade"
	DNSUnresolvable      = "dns-unresolvable"
	DNSMismatch          = "dns-mismatch"
	HeartbeatPortBlocked = "heartbeat-port-blocked"
	OneWayCommunication  = "one-way-communication"
	PMTUBlackhole        = "pmtu-blackhole"
	OffNetwork           = "off-network"
	ClockSkew            = "clock-skew"
	TLSFailure           = "tls-failure"
	ResourcePressure     = "resource-pressure"
	RuleUpdateInProgress = "rule-update-in-progress"
	ProxyUnreachable     = "proxy-unreachable"
	FleetManagerUnreach  = "manager-unreachable"
	FleetManagerOverload = "manager-overloaded"
	FleetSharedNetwork   = "shared-network-block"
	FleetManagerCert     = "manager-certificate-invalid"
	FleetDowntime        = "scheduled-downtime"
	FleetSharedDNS       = "shared-dns-failure"
)

// ErrorKind says why a host that answered could not be scanned.
type ErrorKind string

const (
	AuthFailed         ErrorKind = "auth-failed"
	HostKeyUnknown     ErrorKind = "host-key-unknown"
	HostKeyMismatch    ErrorKind = "host-key-mismatch"
	CertificateInvalid ErrorKind = "certificate-invalid"
	ConnectionRefused  ErrorKind = "connection-refused"
	Timeout            ErrorKind = "timeout"
	PrivilegeDenied    ErrorKind = "privilege-denied"
	ProtocolError      ErrorKind = "protocol-error"
	UnsupportedOS      ErrorKind = "unsupported-os"
	Interrupted        ErrorKind = "interrupted"
	// Incomplete: the host's checks were cut off, killed or could not run,
	// and what did finish proves no cause (see Host.Unverified).
	Incomplete ErrorKind = "incomplete"
	// JumpFailed: the jump host or proxy command in front of the host
	// failed; the target itself is not judged.
	JumpFailed ErrorKind = "jump-failed"
)

// ErrorKinds lists every kind, in the contract's order: the remedies, the
// JSON schema and docs/contract.md are held to it by tests.
func ErrorKinds() []ErrorKind {
	return []ErrorKind{AuthFailed, HostKeyUnknown, HostKeyMismatch, CertificateInvalid, ConnectionRefused, Timeout,
		PrivilegeDenied, ProtocolError, UnsupportedOS, Interrupted, Incomplete, JumpFailed}
}

// Cause is one reason a host's agent is offline.
type Cause struct {
	ID         string     `json:"id" scrub:"-"`
	Confidence Confidence `json:"confidence"`
	Evidence   string     `json:"evidence"`
	Remedy     string     `json:"remedy"`
	// FleetRef is the ref of a fleet finding that explains this cause
	// for many hosts at once (set in reports that hold every host).
	FleetRef string `json:"fleet_ref,omitempty" scrub:"-"`
}

// Check results: pass and fail are judged by the playbook's pass_if; info is
// a check that only gathers facts; skip is a check whose tool or input was
// missing; error is a check whose section never came back.
const (
	CheckPass  = "pass"
	CheckFail  = "fail"
	CheckInfo  = "info"
	CheckSkip  = "skip"
	CheckError = "error"
)

// Check is one playbook check as it ran on the host.
type Check struct {
	ID     string `json:"id" scrub:"-"`
	Result string `json:"result" scrub:"-"`
	Output string `json:"output,omitempty"`
}

// Unverified is a check whose verdict a cause depends on but that gave
// none: cut off, failed, or without the tool it needs.
type Unverified struct {
	Check  string `json:"check" scrub:"-"`
	Reason string `json:"reason"`
}

// HostError is set when status is "error" (and for "unreachable", to say
// how the connection failed).
type HostError struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
}

// Host is the result for one inventory host.
type Host struct {
	Name       string  `json:"name" scrub:"-"`
	Address    string  `json:"address" scrub:"-"`
	OS         string  `json:"os" scrub:"-"`
	Transport  string  `json:"transport" scrub:"-"`
	Status     Status  `json:"status"`
	DurationMS int64   `json:"duration_ms"`
	Causes     []Cause `json:"causes"`
	Checks     []Check `json:"checks"`
	// Unverified lists the checks some cause depends on that produced no
	// verdict, and why: a host is healthy only when it is empty.
	Unverified []Unverified `json:"unverified,omitempty"`
	Error      *HostError   `json:"error"`
	Role       string       `json:"role,omitempty" scrub:"-"`
	// Groups are the host's inventory groups (for filtering reports).
	Groups []string `json:"groups,omitempty" scrub:"-"`
	// ManagerStatus is the manager's own status text for the computer
	// (scan --from-manager), e.g. "Managed (Offline)".
	ManagerStatus string `json:"manager_status,omitempty"`
	// Computer is the manager's record of the host's computer (scan
	// --from-manager): its ID, when the agent last communicated, ...
	Computer *ManagerComputer `json:"computer,omitempty"`
	// Observed is what the checks and the bastion saw, kept so that a
	// saved run can be judged again with newer rules (report
	// --rediagnose). Absent for hosts whose checks never ran.
	Observed *Observed `json:"observed,omitempty"`
	// Change is how the host differs from the previous run kept in the
	// state directory (--state-dir); absent without history.
	Change *Change `json:"change,omitempty"`
}

// ManagerComputer is what the manager's API says of a host's computer.
type ManagerComputer struct {
	ID          int    `json:"id"`
	Status      string `json:"status,omitempty"`       // its own words, in the API key's language
	AgentStatus string `json:"agent_status,omitempty"` // inactive, active, warning, error, not-supported
	// OfflineSince is the agent's last communication with the manager.
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	AgentVersion string     `json:"agent_version,omitempty"`
	Platform     string     `json:"platform,omitempty"`
	LastIP       string     `json:"last_ip,omitempty"`
	InstanceID   string     `json:"instance_id,omitempty"`
	// MatchedBy is how the computer was matched to the inventory host
	// (host name, display name, last IP, short name, instance ID), or
	// "manager" for a host only the manager named.
	MatchedBy string `json:"matched_by,omitempty"`
}

// Change kinds.
const (
	ChangeNew       = "new"        // a problem now, healthy (or absent) before
	ChangeFixed     = "fixed"      // healthy now, a problem before
	ChangeStill     = "still"      // the same problem as before (Since says since when)
	ChangeDifferent = "changed"    // a problem before and now, a different one
	ChangeSame      = "unchanged"  // healthy before and now
	ChangeFirst     = "first-seen" // not in the previous run
)

// Change is one host against the previous run.
type Change struct {
	Kind string `json:"kind"`
	// Since is when the host's current problem was first seen, carried
	// over run to run (its first run with it).
	Since *time.Time `json:"since,omitempty"`
	// Previous is the previous run's status and problems ("diagnosed:
	// agent-not-running").
	Previous string `json:"previous,omitempty"`
}

// Observed is the evidence one host's verdict was drawn from.
type Observed struct {
	Facts map[string][]string `json:"facts"`
	// Started and Finished bracket the script on the bastion's clock.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// ConnectedAddr is the address the bastion reached the host at (not
	// the host's own claim): what fleet findings place the host by.
	ConnectedAddr string `json:"connected_addr,omitempty"`
	// The bastion's resolution of the manager name the host used.
	BastionAddrs      []string `json:"bastion_addrs,omitempty"`
	BastionResolveErr string   `json:"bastion_resolve_error,omitempty"`
	// ManagerReachable: the bastion reached the manager's port itself.
	ManagerReachable *bool `json:"manager_reachable,omitempty"`
	// The agent port as seen from the manager's side, and from where.
	AgentPortFromManager string `json:"agent_port_from_manager,omitempty"`
	AgentPortProbedFrom  string `json:"agent_port_probed_from,omitempty"`
}

// PrimaryCause returns the first cause's ID, or "".
func (h *Host) PrimaryCause() string {
	if len(h.Causes) == 0 {
		return ""
	}
	return h.Causes[0].ID
}

// Finding is a fleet-level finding (not tied to one host).
type Finding struct {
	ID       string `json:"id" scrub:"-"`
	Evidence string `json:"evidence"`
	Remedy   string `json:"remedy"`
	// Ref names this finding among the run's (id:scope, e.g.
	// "shared-network-block:10.2.3.0/24"); a host it explains carries it
	// in its cause's fleet_ref.
	Ref string `json:"ref,omitempty" scrub:"-"`
	// Hosts are the hosts the finding explains.
	Hosts []string `json:"hosts,omitempty" scrub:"-"`
	// Explains is the per-host cause ID the finding accounts for on each
	// of its hosts (set by the rule that found it; not saved).
	Explains string `json:"-" scrub:"-"`
}

// FleetRefs maps host name → cause ID → the ref of the finding that
// explains that cause (nil when no finding names hosts).
func FleetRefs(findings []Finding) map[string]map[string]string {
	var refs map[string]map[string]string
	for _, f := range findings {
		if f.Explains == "" || f.Ref == "" {
			continue
		}
		for _, h := range f.Hosts {
			if refs == nil {
				refs = map[string]map[string]string{}
			}
			if refs[h] == nil {
				refs[h] = map[string]string{}
			}
			refs[h][f.Explains] = f.Ref
		}
	}
	return refs
}

// LinkFleet marks, on a host a finding lists, the cause the finding
// explains with the finding's ref (refs from FleetRefs); the host keeps
// its own cause and evidence. It reports whether it marked any.
func LinkFleet(h *Host, refs map[string]map[string]string) bool {
	byCause, ok := refs[h.Name]
	if !ok {
		return false
	}
	marked := false
	for j := range h.Causes {
		if ref, ok := byCause[h.Causes[j].ID]; ok {
			h.Causes[j].FleetRef = ref
			marked = true
		}
	}
	return marked
}

// Manager describes the manager the run checked against.
type Manager struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Mode string `json:"mode"`
	// API is how the run asked the manager's API which computers are
	// offline (scan --from-manager).
	API *ManagerAPI `json:"api,omitempty"`
}

// ManagerAPI records a run's use of the manager's API.
type ManagerAPI struct {
	URL       string `json:"url"`
	Product   string `json:"product"`
	Auth      string `json:"auth"` // secret (api-secret-key) or apikey (Authorization: ApiKey)
	Computers int    `json:"computers"`
	Offline   int    `json:"offline"`
	// UnknownStatus counts computers whose status text whyoffline does
	// not know, with some of the texts; they are not scanned unless
	// silent past the heartbeat window.
	UnknownStatus      int      `json:"unknown_status,omitempty"`
	UnknownStatusTexts []string `json:"unknown_status_texts,omitempty"`
	// Ambiguous lists matches not made: a computer that fits several
	// inventory hosts, or a host several computers fit.
	Ambiguous []string `json:"ambiguous,omitempty"`
}

// Summary counts hosts by status.
type Summary struct {
	Hosts       int `json:"hosts"`
	Healthy     int `json:"healthy"`
	Diagnosed   int `json:"diagnosed"`
	Unreachable int `json:"unreachable"`
	Error       int `json:"error"`
	// Skipped counts the inventory hosts not scanned (run.Skipped); they
	// are not among Hosts.
	Skipped int `json:"skipped,omitempty"`
}

// Add counts one host.
func (s *Summary) Add(h *Host) {
	s.Hosts++
	switch h.Status {
	case Healthy:
		s.Healthy++
	case Diagnosed:
		s.Diagnosed++
	case Unreachable:
		s.Unreachable++
	default:
		s.Error++
	}
}

// AllHealthy reports whether every host counted was healthy.
func (s Summary) AllHealthy() bool { return s.Hosts == s.Healthy }

// Run is a whole scan: the document written by -o json.
type Run struct {
	Schema string `json:"schema"`
	// Tool is the whyoffline that wrote the run.
	Tool     *Tool     `json:"tool,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Manager  *Manager  `json:"manager"`
	Settings *Settings `json:"settings,omitempty"`
	Fleet    []Finding `json:"fleet"`
	Summary  Summary   `json:"summary"`
	// ManagerCert is the certificate the manager presented on the
	// heartbeat port to the bastion (absent when no handshake completed):
	// kept so the next run can tell whether it changed.
	ManagerCert *CertInfo `json:"manager_certificate,omitempty"`
	// Shard says which part of the fleet this run scanned (--shard K/N);
	// absent for a whole-fleet run.
	Shard *Shard `json:"shard,omitempty"`
	// Skipped are the inventory's hosts the run did not scan, each with
	// why: Ansible reaches them in a way whyoffline cannot (a local or
	// network_cli connection, become_method su, a template it cannot
	// render). They are not judged, healthy or otherwise.
	Skipped []Skipped `json:"skipped,omitempty"`
	Hosts   []Host    `json:"hosts"`
}

// Tool is a whyoffline build.
type Tool struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"` // the commit's time
	Modified bool   `json:"modified,omitempty"`
}

// Skipped is one inventory host left out of a run.
type Skipped struct {
	Name   string `json:"name" scrub:"-"`
	Source string `json:"source"` // file:line
	Reason string `json:"reason"`
}

// CertInfo is a certificate as reports need it.
type CertInfo struct {
	Subject     string    `json:"subject"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Fingerprint string    `json:"sha256"` // of the DER certificate, hex
}

// Shard is a run's part of a sharded fleet.
type Shard struct {
	Index int `json:"index"` // 1-based
	Count int `json:"count"`
	// Fleet is how many hosts the whole fleet had before sharding, and
	// Digest names it (shard.Digest): shards of different fleets, or of
	// one fleet selected differently, do not merge.
	Fleet  int    `json:"fleet"`
	Digest string `json:"digest"`
}

// Settings are the run-wide options the verdicts depended on, kept so a
// saved run is judged again the same way.
type Settings struct {
	AgentPort         int      `json:"agent_port,omitempty"`
	MaxClockSkew      string   `json:"max_clock_skew,omitempty"`
	CorporateNetworks []string `json:"corporate_networks,omitempty"`
}
