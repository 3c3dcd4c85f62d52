package diagnose

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
)

// healthyFacts is what the Linux playbook reports on a healthy host.
func healthyFacts(now time.Time) facts.Facts {
	f := facts.Facts{}
	for k, v := range map[string]string{
		"agent.installed": "true", "agent.process": "true", "agent.service": "running",
		"manager.host": "dsm.example.com", "manager.port": "4120",
		"dns.result": "ok", "port.result": "open", "tls.result": "ok",
		"cpu.count": "4", "load.5": "0.5", "mem.available_pct": "60",
		"log.rule_update": "finished",
	} {
		f.Set(k, v)
	}
	f["dns.addresses"] = []string{"10.0.0.2"}
	f["fs.used"] = []string{"40 /opt/ds_agent (/)"}
	f["net.addresses"] = []string{"127.0.0.1/8", "10.1.2.3/24"}
	f.Set("clock.epoch", itoa(now.Unix()))
	return f
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRules(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	opts := &Options{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated",
		MaxClockSkew: 2 * time.Minute, Thresholds: playbook.Thresholds{LoadPerCPU: 4, MemAvailablePct: 5, FSUsedPct: 98}}
	yes, no := true, false
	cases := []struct {
		name   string
		mutate func(f facts.Facts, in *Input, o *Options)
		want   string // cause IDs, primary first
		conf   result.Confidence
	}{
		{"healthy", func(facts.Facts, *Input, *Options) {}, "", ""},
		{"agent stopped", func(f facts.Facts, _ *Input, _ *Options) {
			f.Set("agent.process", "false")
			f.Set("agent.service", "failed")
		}, "agent-not-running", result.Confirmed},
		{"agent missing", func(f facts.Facts, _ *Input, _ *Options) {
			f.Set("agent.installed", "false")
			f.Set("agent.process", "false")
		}, "agent-not-installed", result.Confirmed},
		{"dns fails", func(f facts.Facts, _ *Input, _ *Options) { f.Set("dns.result", "fail"); f.Set("port.result", "dns") }, "dns-unresolvable", result.Confirmed},
		{"dns times out, port check meaningless", func(f facts.Facts, _ *Input, _ *Options) {
			f.Set("dns.result", "timeout")
			f.Set("port.result", "timeout")
		}, "dns-unresolvable", result.Confirmed},
		{"dns fails on the bastion too", func(f facts.Facts, in *Input, _ *Options) {
			f.Set("dns.result", "fail")
			in.BastionAddrs, in.BastionResolveErr = nil, "no such host"
		}, "dns-unresolvable", result.Likely},
		{"dns mismatch, port dead", func(f facts.Facts, _ *Input, _ *Options) {
			f["dns.addresses"] = []string{"10.9.9.9"}
			f.Set("port.result", "timeout")
		}, "dns-mismatch,heartbeat-port-blocked", result.Confirmed},
		{"round robin overlap is no mismatch", func(f facts.Facts, in *Input, _ *Options) {
			f["dns.addresses"] = []string{"10.0.0.2", "10.0.0.3"}
			in.BastionAddrs = []string{"10.0.0.3", "10.0.0.4"}
		}, "", ""},
		{"port dropped", func(f facts.Facts, _ *Input, _ *Options) { f.Set("port.result", "timeout") }, "heartbeat-port-blocked", result.Confirmed},
		{"port refused, no rule seen", func(f facts.Facts, _ *Input, _ *Options) { f.Set("port.result", "refused") }, "heartbeat-port-blocked", result.Likely},
		{"port blocked but manager down for the bastion too", func(f facts.Facts, in *Input, _ *Options) {
			f.Set("port.result", "timeout")
			in.ManagerReachable = &no
		}, "heartbeat-port-blocked", result.Possible},
		{"agent proxy refuses TCP, direct port also dropped", func(f facts.Facts, _ *Input, _ *Options) {
			f["agent.proxy"] = []string{"manager dsm_proxy://10.1.0.9:3128/"}
			f.Set("proxy.result", "refused")
			f.Set("proxy.target", "10.1.0.9:3128")
			f.Set("port.result", "timeout")
		}, "proxy-unreachable", result.Confirmed},
		{"agent proxy denies the tunnel", func(f facts.Facts, _ *Input, _ *Options) {
			f["agent.proxy"] = []string{"manager dsm_proxy://proxy.example.com:8080/"}
			f.Set("proxy.result", "denied")
			f.Set("proxy.status", "HTTP/1.1 407 Proxy Authentication Required")
		}, "proxy-unreachable", result.Confirmed},
		{"agent proxy works, direct port dropped: the agent's path is fine", func(f facts.Facts, _ *Input, _ *Options) {
			f["agent.proxy"] = []string{"manager dsm_proxy://10.1.0.9:3128/"}
			f.Set("proxy.result", "ok")
			f.Set("port.result", "timeout")
		}, "", ""},
		{"agent proxy cannot reach the manager", func(f facts.Facts, _ *Input, _ *Options) {
			f["agent.proxy"] = []string{"manager dsm_proxy://10.1.0.9:3128/"}
			f.Set("proxy.result", "upstream")
			f.Set("proxy.status", "HTTP/1.1 502 Bad Gateway")
			f.Set("port.result", "timeout")
		}, "heartbeat-port-blocked", result.Likely},
		{"relay proxy down, manager path fine", func(f facts.Facts, _ *Input, _ *Options) {
			f["agent.proxy"] = []string{"relay relay_proxy://10.1.0.8:3128/"}
			f.Set("proxy.result", "none")
			f.Set("proxy.relay_result", "timeout")
			f.Set("proxy.relay_target", "10.1.0.8:3128")
		}, "proxy-unreachable", result.Confirmed},
		{"pmtu", func(f facts.Facts, _ *Input, _ *Options) { f.Set("tls.result", "timeout") }, "pmtu-blackhole", result.Likely},
		{"tls handshake fails without client cert is no finding", func(f facts.Facts, _ *Input, _ *Options) { f.Set("tls.result", "fail") }, "", ""},
		{"clock ahead", func(f facts.Facts, _ *Input, _ *Options) { f.Set("clock.epoch", itoa(now.Add(time.Hour).Unix())) }, "clock-skew", result.Confirmed},
		{"clock behind", func(f facts.Facts, _ *Input, _ *Options) { f.Set("clock.epoch", itoa(now.Add(-10*time.Minute).Unix())) }, "clock-skew", result.Confirmed},
		{"clock within window", func(f facts.Facts, _ *Input, _ *Options) { f.Set("clock.epoch", itoa(now.Add(100*time.Second).Unix())) }, "", ""},
		{"tls log", func(f facts.Facts, _ *Input, _ *Options) { f["log.tls"] = []string{"SSL_connect failed"} }, "tls-failure", result.Likely},
		{"disk full", func(f facts.Facts, _ *Input, _ *Options) { f["fs.used"] = []string{"98 /var/opt/ds_agent (/var)"} }, "resource-pressure", result.Confirmed},
		{"load", func(f facts.Facts, _ *Input, _ *Options) { f.Set("load.5", "16.5") }, "resource-pressure", result.Confirmed},
		{"load just under", func(f facts.Facts, _ *Input, _ *Options) { f.Set("load.5", "15.9") }, "", ""},
		{"memory", func(f facts.Facts, _ *Input, _ *Options) { f.Set("mem.available_pct", "4.9") }, "resource-pressure", result.Confirmed},
		{"rule update", func(f facts.Facts, _ *Input, _ *Options) { f.Set("log.rule_update", "in-progress") }, "rule-update-in-progress", result.Likely},
		{"off network", func(f facts.Facts, _ *Input, o *Options) {
			o.CorporateNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}
		}, "off-network", result.Likely},
		{"on network", func(f facts.Facts, _ *Input, o *Options) {
			o.CorporateNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, "", ""},
		{"one way: inbound blocked", func(f facts.Facts, in *Input, o *Options) {
			o.Mode = "bidirectional"
			in.AgentPortFromManager = "timeout"
		}, "one-way-communication", result.Likely},
		{"agent-initiated ignores inbound", func(f facts.Facts, in *Input, o *Options) { in.AgentPortFromManager = "timeout" }, "", ""},
		{"stopped and full, primary first", func(f facts.Facts, _ *Input, _ *Options) {
			f["fs.used"] = []string{"99 /var/opt/ds_agent (/var)"}
			f.Set("agent.process", "false")
		}, "agent-not-running,resource-pressure", result.Confirmed},
		{"solaris upgrade trap", func(f facts.Facts, in *Input, _ *Options) {
			in.OS = "solaris"
			f.Set("os.release", "5.11")
			f.Set("agent.version", "11.0.0-123")
			f.Set("agent.process", "false")
			f["agent.history"] = []string{"9.0.0-3124", "11.0.0-123"}
		}, "solaris-agent-upgrade", result.Confirmed},
		{"solaris 11 stopped after a good 9.0 path", func(f facts.Facts, in *Input, _ *Options) {
			in.OS = "solaris"
			f.Set("os.release", "5.11")
			f.Set("agent.version", "11.0.0-123")
			f.Set("agent.process", "false")
			f["agent.history"] = []string{"9.0.0-5616", "11.0.0-123"}
		}, "agent-not-running", result.Confirmed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := healthyFacts(now)
			o := *opts
			in := &Input{Name: "h", OS: "linux", Facts: f, ManagerReachable: &yes, BastionAddrs: []string{"10.0.0.2"}}
			in.Window.Start, in.Window.End = now, now.Add(3*time.Second)
			c.mutate(f, in, &o)
			causes := Host(in, &o)
			var ids []string
			for _, cs := range causes {
				ids = append(ids, cs.ID)
				if cs.Evidence == "" {
					t.Errorf("%s: empty evidence", cs.ID)
				}
			}
			if strings.Join(ids, ",") != c.want {
				t.Fatalf("causes %v, want %s (%+v)", ids, c.want, causes)
			}
			if c.conf != "" && causes[0].Confidence != c.conf {
				t.Errorf("confidence %s, want %s", causes[0].Confidence, c.conf)
			}
		})
	}
}

func TestRemediesCoverEveryCause(t *testing.T) {
	set, err := playbook.Load(playbooksFS(), "")
	if err != nil {
		t.Fatal(err)
	}
	rem, err := NewRemedies(set.Causes)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Causes() {
		for _, os := range []string{"linux", "solaris", "aix", "windows"} {
			r := rem.Render(c.ID, os, RemedyVars{Manager: "dsm", Port: 4120, AgentPort: 4118, Host: "h", Detail: "d"})
			if r == "" || strings.Contains(r, "<no value>") {
				t.Errorf("%s/%s: remedy %q", c.ID, os, r)
			}
		}
	}
}

func TestFleet(t *testing.T) {
	o := &Options{Manager: "dsm", Port: 4120}
	f := Fleet(&ManagerProbe{Host: "dsm", Port: 4120, ResolveErr: "no such host"}, nil, o)
	if len(f) != 1 || f[0].ID != "manager-unreachable" || !strings.Contains(f[0].Evidence, "no such host") {
		t.Errorf("unresolvable manager: %+v", f)
	}
	f = Fleet(&ManagerProbe{Host: "dsm", Port: 4120, PortState: "open"}, []result.Host{
		{Name: "dsm01", Role: "manager", Causes: []result.Cause{{ID: "resource-pressure", Evidence: "load"}}},
		{Name: "web", Causes: []result.Cause{{ID: "resource-pressure"}}},
	}, o)
	if len(f) != 1 || f[0].ID != "manager-overloaded" || !strings.Contains(f[0].Evidence, "dsm01") {
		t.Errorf("overloaded manager: %+v", f)
	}
}

// TestEvidenceHints: the hints that point at the fix where the guide has
// one — the traceroute hop where the path stops, "Force Allow DHCP DNS"
// for DHCP hosts, the SMF reason.
func TestEvidenceHints(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	set, err := playbook.Load(playbooksFS(), "")
	if err != nil {
		t.Fatal(err)
	}
	rem, err := NewRemedies(set.Causes)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		mutate       func(f facts.Facts, in *Input)
		id, evidence string
		remedy       string
	}{
		{"path stops at a router", func(f facts.Facts, _ *Input) {
			f.Set("port.result", "timeout")
			f["path.hops"] = []string{"1 10.1.2.1", "2 10.9.0.1"}
		}, "heartbeat-port-blocked", "last answering hop 2 (10.9.0.1); the path stops after it", "hop 2"},
		{"path reaches the manager", func(f facts.Facts, _ *Input) {
			f.Set("port.result", "timeout")
			f["path.hops"] = []string{"1 10.0.0.2"}
		}, "heartbeat-port-blocked", "the manager itself", "port is filtered"},
		{"dhcp host cannot resolve", func(f facts.Facts, _ *Input) {
			f.Set("dns.result", "timeout")
			f.Set("net.dhcp", "true")
		}, "dns-unresolvable", "configured by DHCP", `"Force Allow DHCP DNS"`},
		{"smf maintenance", func(f facts.Facts, in *Input) {
			in.OS = "solaris"
			f.Set("agent.process", "false")
			f.Set("agent.service", "maintenance")
			f.Set("agent.service.tool", "svcs")
			f["agent.service.detail"] = []string{"Reason: Start method failed repeatedly, last exited with status 1."}
		}, "agent-not-running", "service ds_agent: maintenance (svcs); Reason: Start method failed", "svcadm clear"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := healthyFacts(now)
			in := &Input{Name: "h", OS: "linux", Facts: f, BastionAddrs: []string{"10.0.0.2"}}
			in.Window.Start, in.Window.End = now, now.Add(time.Second)
			c.mutate(f, in)
			got := Host(in, &Options{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Remedies: rem,
				Thresholds: playbook.Thresholds{LoadPerCPU: 4, MemAvailablePct: 5, FSUsedPct: 98}})
			if len(got) == 0 || got[0].ID != c.id {
				t.Fatalf("causes %+v, want %s first", got, c.id)
			}
			if !strings.Contains(got[0].Evidence, c.evidence) {
				t.Errorf("evidence %q lacks %q", got[0].Evidence, c.evidence)
			}
			if !strings.Contains(got[0].Remedy, c.remedy) {
				t.Errorf("remedy %q lacks %q", got[0].Remedy, c.remedy)
			}
		})
	}
}

// TestProxyPathRemedy: a heartbeat blocked beyond the agent's proxy is
// fixed at the proxy, not on the host; without a proxy the host's own
// firewall is named.
func TestProxyPathRemedy(t *testing.T) {
	set, err := playbook.Load(playbooksFS(), "")
	if err != nil {
		t.Fatal(err)
	}
	rem, err := NewRemedies(set.Causes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	yes := true
	o := &Options{Manager: "dsm", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", MaxClockSkew: time.Minute, Remedies: rem,
		Thresholds: playbook.Thresholds{LoadPerCPU: 4, MemAvailablePct: 5, FSUsedPct: 98}}
	for _, c := range []struct {
		proxied bool
		want    string
	}{{true, "from the agent's proxy 10.1.0.9:3128 to dsm"}, {false, "from this host to dsm"}} {
		f := healthyFacts(now)
		f.Set("port.result", "timeout")
		if c.proxied {
			f["agent.proxy"] = []string{"manager dsm_proxy://10.1.0.9:3128/"}
			f.Set("proxy.result", "upstream")
			f.Set("proxy.target", "10.1.0.9:3128")
			f.Set("proxy.status", "HTTP/1.1 502 Bad Gateway")
		}
		in := &Input{Name: "h", OS: "linux", Facts: f, ManagerReachable: &yes}
		in.Window.Start, in.Window.End = now, now
		causes := Host(in, o)
		if len(causes) != 1 || causes[0].ID != result.HeartbeatPortBlocked || !strings.Contains(causes[0].Remedy, c.want) {
			t.Errorf("proxied %v: %+v, want the remedy to say %q", c.proxied, causes, c.want)
		}
	}
}
