package wsmantest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Call is one script run as the emulated host sees it.
type Call struct {
	Manager     string
	ManagerAddr string // what the host resolves Manager to
	Port        string
	Now         time.Time
}

// Profile is how an emulated Windows host answers the checks, and what a
// correct scan reports for it.
type Profile struct {
	Name         string
	ExpectStatus string
	Expect       []string
	outputs      map[string]func(*Call) string
}

var profiles = map[string]*Profile{}

// Profiles lists the profile names.
func Profiles() []string {
	var out []string
	for n := range profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns a profile by name (nil if unknown).
func Lookup(name string) *Profile { return profiles[name] }

func lines(l ...string) string { return strings.Join(l, "\r\n") + "\r\n" }

func (p *Profile) output(id string, c *Call) string {
	if f, ok := p.outputs[id]; ok {
		return f(c)
	}
	if f, ok := healthy[id]; ok {
		return f(c)
	}
	return ""
}

const agentDir = `C:\Program Files\Trend Micro\Deep Security Agent`

// healthy is every check's output on a healthy Windows host.
var healthy = map[string]func(*Call) string{
	"setup": func(c *Call) string {
		return lines("root=yes", "hostname=WINHOST", "release=10.0.17763", "version=Microsoft Windows Server 2019 Datacenter",
			"dsm_url=https://"+c.Manager+":"+c.Port+"/", "dsa=answered", "agent_state=green", "manager="+c.Manager, "port="+c.Port)
	},
	"agent.installed": func(*Call) string {
		return lines("path="+agentDir+`\dsa.exe`, "path="+agentDir+`\dsa_query.cmd`, "service=present", "version=20.0.0.8438", "installed=yes")
	},
	"agent.process": func(*Call) string { return lines("pid=2716", "checked=Win32_Service") },
	"agent.service": func(*Call) string {
		return lines("tool=Get-Service", "detail=State=Running StartMode=Auto ExitCode=0", "state=running")
	},
	"agent.status": func(c *Call) string {
		return lines("AgentStatus.agentState: green", "AgentStatus.dsmUrl: https://"+c.Manager+":"+c.Port+"/")
	},
	"dns.resolve": func(c *Call) string {
		return lines("name="+c.Manager, "server=10.77.0.2", "tool=Resolve-DnsName", "address="+c.ManagerAddr, "result=ok")
	},
	"port.heartbeat": func(c *Call) string { return lines("tool=TcpClient", "target="+c.Manager+":"+c.Port, "result=open") },
	"tls.handshake":  func(*Call) string { return lines("tool=SslStream", "protocol=Tls12", "result=ok") },
	"proxy.connect":  func(*Call) string { return lines("result=none") },
	"clock": func(c *Call) string {
		return lines(fmt.Sprintf("epoch=%d", c.Now.Unix()), c.Now.UTC().Format("2006-01-02 15:04:05Z"))
	},
	"resources": func(*Call) string { return lines("cpus=4", "load1=0.8", "mem_available_pct=58.2") },
	"fs.agent":  func(*Call) string { return lines(`fs=47 C:\ (C:)`, "checked=Win32_LogicalDisk") },
	"logs.tls":  func(*Call) string { return lines("logs=read") },
	"logs.rule_update": func(*Call) string {
		return lines("state=finished", "line=Security Update: rule update completed")
	},
	"firewall":      func(*Call) string { return lines("result=read") },
	"net.addresses": func(*Call) string { return lines("addr=10.77.5.10/16", "route=default via 10.77.0.1 (Ethernet0)") },
	"agent.listen":  func(*Call) string { return lines("listen=0.0.0.0:4118", "checked=yes") },
}

func add(p *Profile) { profiles[p.Name] = p }

func init() {
	add(&Profile{Name: "healthy", ExpectStatus: "healthy"})
	add(&Profile{Name: "service-stopped", ExpectStatus: "diagnosed", Expect: []string{"agent-not-running"},
		outputs: map[string]func(*Call) string{
			"agent.process": func(*Call) string { return lines("checked=Win32_Service") },
			"agent.service": func(c *Call) string {
				return lines("tool=Get-Service", "detail=State=Stopped StartMode=Auto ExitCode=1067", "state=stopped",
					"detail=event 7034 at "+c.Now.Add(-time.Hour).UTC().Format("2006-01-02T15:04:05")+"Z: The Trend Micro Deep Security Agent service terminated unexpectedly.  It has done this 1 time(s).")
			},
		}})
	add(&Profile{Name: "service-missing", ExpectStatus: "diagnosed", Expect: []string{"agent-not-installed"},
		outputs: map[string]func(*Call) string{
			"setup": func(c *Call) string {
				return lines("root=yes", "hostname=WINHOST", "manager="+c.Manager, "port="+c.Port)
			},
			"agent.installed": func(*Call) string { return lines("installed=no") },
			"agent.process":   func(*Call) string { return lines("checked=Win32_Service") },
			"agent.service":   func(*Call) string { return lines("tool=Get-Service", "state=absent") },
			"agent.status":    func(*Call) string { return lines("dsa_query: not available") },
			"logs.tls":        func(*Call) string { return lines("logs=none") },
			"logs.rule_update": func(*Call) string {
				return lines("state=unknown")
			},
		}})
	// Windows Server 2008 R2: Resolve-DnsName does not exist, the check
	// throws before it resolves anything, and the host really cannot
	// resolve the manager — whose port and TLS checks then fail too. No
	// finished check proves a cause; the host is not healthy either.
	add(&Profile{Name: "dns-throws", ExpectStatus: "error", Expect: []string{"incomplete"},
		outputs: map[string]func(*Call) string{
			"dns.resolve": func(*Call) string {
				return lines("exception=The term 'Resolve-DnsName' is not recognized as the name of a cmdlet, function, script file, or operable program.")
			},
			"port.heartbeat": func(c *Call) string {
				return lines("tool=TcpClient", "target="+c.Manager+":"+c.Port, "error=No such host is known", "result=dns")
			},
			"tls.handshake": func(*Call) string { return lines("result=noconnect") },
		}})
	add(&Profile{Name: "dns-failing", ExpectStatus: "diagnosed", Expect: []string{"dns-unresolvable"},
		outputs: map[string]func(*Call) string{
			"dns.resolve": func(c *Call) string {
				return lines("name="+c.Manager, "server=10.77.0.99", "tool=Resolve-DnsName", "error="+c.Manager+" : This operation returned because the timeout period expired", "result=timeout")
			},
			"port.heartbeat": func(c *Call) string {
				return lines("tool=TcpClient", "target="+c.Manager+":"+c.Port, "via=address", "address_target="+c.ManagerAddr+":"+c.Port, "result=open")
			},
			"tls.handshake": func(*Call) string { return lines("tool=SslStream", "error=No such host is known", "result=noconnect") },
		}})
	add(&Profile{Name: "firewall-blocked", ExpectStatus: "diagnosed", Expect: []string{"heartbeat-port-blocked"},
		outputs: map[string]func(*Call) string{
			"port.heartbeat": func(c *Call) string {
				return lines("tool=TcpClient", "target="+c.Manager+":"+c.Port, "result=timeout", "hop=1 "+c.ManagerAddr)
			},
			"tls.handshake": func(*Call) string { return lines("tool=SslStream", "result=noconnect") },
			"firewall": func(c *Call) string {
				return lines("rule=Windows Firewall outbound block rule 'Block DSM heartbeat' (TCP remote port "+c.Port+")", "result=read")
			},
		}})
	add(&Profile{Name: "clock-skew", ExpectStatus: "diagnosed", Expect: []string{"clock-skew"},
		outputs: map[string]func(*Call) string{
			"clock": func(c *Call) string { return lines(fmt.Sprintf("epoch=%d", c.Now.Add(-26*time.Minute).Unix())) },
		}})
	// .NET 3.5 without the TLS 1.2 update (2008 R2): the probe cannot
	// offer TLS 1.2 at all, which says nothing of the agent's own TLS
	add(&Profile{Name: "tls-unavailable", ExpectStatus: "error", Expect: []string{"incomplete"},
		outputs: map[string]func(*Call) string{
			"tls.handshake": func(*Call) string {
				return lines("tool=SslStream", "offered=3072", "error=The value of argument 'enabledSslProtocols' (3072) is invalid for Enum type 'SslProtocols'.",
					"error_type=System.ArgumentException", "result=unavailable")
			},
		}})
	add(&Profile{Name: "high-load", ExpectStatus: "diagnosed", Expect: []string{"resource-pressure"},
		outputs: map[string]func(*Call) string{
			"resources": func(*Call) string { return lines("cpus=2", "load1=11.5", "mem_available_pct=2.4") },
		}})
}
