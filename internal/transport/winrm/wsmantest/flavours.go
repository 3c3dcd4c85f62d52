package wsmantest

import "strings"

// Flavours are the Windows versions the emulator answers as, each with the
// code paths the script takes there — what each fallback prints:
//
//	ps2   Windows Server 2008 R2, Windows PowerShell 2.0: no NetTCPIP,
//	      DnsClient or NetSecurity modules, no CIM cmdlets, .NET 3.5
//	      with the TLS 1.2 update (TLS 1.2 offered by number)
//	ps51  Windows Server 2016, Windows PowerShell 5.1
//	ps7   Windows Server 2022 under PowerShell 7 (CIM, no Get-WmiObject;
//	      TLS 1.3 offered)
//
// A profile is asked for as NAME@FLAVOUR ("healthy@ps2"); NAME alone is
// the 2019 host the emulator always was.
var flavours = map[string]map[string]func(*Call) string{
	"ps2": {
		"setup": func(c *Call) string {
			return lines("ps_version=2.0", "root=yes", "hostname=WIN2008R2", "release=6.1.7601", "version=Microsoft Windows Server 2008 R2 Enterprise",
				"dsm_url=https://"+c.Manager+":"+c.Port+"/", "dsa=answered", "agent_state=green", "manager="+c.Manager, "port="+c.Port)
		},
		"dns.resolve": func(c *Call) string {
			return lines("name="+c.Manager, "server=10.77.0.2", "tool=Dns", "address="+c.ManagerAddr, "result=ok")
		},
		"tls.handshake": func(*Call) string { return lines("tool=SslStream", "offered=3072", "protocol=3072", "result=ok") },
		"firewall": func(*Call) string {
			return lines("tool=FwPolicy2", "profile=1 enabled=True outbound=1 inbound=0", "result=read")
		},
		"net.addresses": func(*Call) string {
			return lines("addr=10.77.5.10/16", "route=default via 10.77.0.1 (Intel(R) PRO/1000 MT Network Connection)")
		},
		"agent.listen": func(*Call) string { return lines("listen=0.0.0.0:4118", "checked=yes") },
	},
	"ps51": {
		"setup": func(c *Call) string {
			return lines("ps_version=5.1.14393.6343", "root=yes", "hostname=WIN2016", "release=10.0.14393", "version=Microsoft Windows Server 2016 Datacenter",
				"dsm_url=https://"+c.Manager+":"+c.Port+"/", "dsa=answered", "agent_state=green", "manager="+c.Manager, "port="+c.Port)
		},
		"tls.handshake": func(*Call) string { return lines("tool=SslStream", "offered=3072", "protocol=Tls12", "result=ok") },
		"firewall": func(*Call) string {
			return lines("tool=NetSecurity", "profile=Domain enabled=True outbound=NotConfigured inbound=NotConfigured",
				"profile=Private enabled=True outbound=NotConfigured inbound=NotConfigured", "profile=Public enabled=True outbound=NotConfigured inbound=NotConfigured", "result=read")
		},
	},
	"ps7": {
		"setup": func(c *Call) string {
			return lines("ps_version=7.4.6", "root=yes", "hostname=WIN2022", "release=10.0.20348", "version=Microsoft Windows Server 2022 Datacenter",
				"dsm_url=https://"+c.Manager+":"+c.Port+"/", "dsa=answered", "agent_state=green", "manager="+c.Manager, "port="+c.Port)
		},
		"tls.handshake": func(*Call) string { return lines("tool=SslStream", "offered=15360", "protocol=Tls13", "result=ok") },
		"firewall": func(*Call) string {
			return lines("tool=NetSecurity", "profile=Domain enabled=True outbound=NotConfigured inbound=NotConfigured", "result=read")
		},
	},
}

// flavourFaults are a profile's outputs on one flavour, where the
// fallback prints something of its own.
var flavourFaults = map[string]map[string]func(*Call) string{
	"dns-failing@ps2": {
		"dns.resolve": func(c *Call) string {
			return lines("name="+c.Manager, "server=10.77.0.99", "tool=Dns", "error=No such host is known", "error_code=11002", "result=timeout")
		},
	},
	"firewall-blocked@ps2": {
		"firewall": func(c *Call) string {
			return lines("tool=FwPolicy2", "profile=1 enabled=True outbound=1 inbound=0",
				"rule=Windows Firewall outbound block rule 'Block DSM heartbeat' (TCP remote port "+c.Port+")", "result=read")
		},
	},
	"firewall-blocked@ps7": {
		"firewall": func(c *Call) string {
			return lines("tool=NetSecurity", "profile=Domain enabled=True outbound=NotConfigured inbound=NotConfigured",
				"rule=Windows Firewall outbound block rule 'GPO: block DSM' (TCP remote port 4000-4200)", "result=read")
		},
	},
	"dns-failing@ps7": {
		"dns.resolve": func(c *Call) string {
			return lines("name="+c.Manager, "server=10.77.0.99", "tool=Resolve-DnsName", "error_code=9003", "error="+c.Manager+" : DNS-Name existiert nicht", "result=notfound")
		},
	},
}

// lookupFlavoured splits NAME@FLAVOUR and returns the profile and an
// output function that layers flavour and flavour faults over it.
func lookupFlavoured(name string) (*Profile, func(id string, c *Call) string) {
	base, flavour, _ := strings.Cut(name, "@")
	p := profiles[base]
	if p == nil {
		p = profiles["healthy"]
	}
	return p, func(id string, c *Call) string {
		if f, ok := flavourFaults[name][id]; ok {
			return f(c)
		}
		if _, ok := p.outputs[id]; ok {
			return p.output(id, c)
		}
		if f, ok := flavours[flavour][id]; ok {
			return f(c)
		}
		return p.output(id, c)
	}
}

// Flavours lists the flavour names.
func Flavours() []string { return []string{"ps2", "ps51", "ps7"} }
