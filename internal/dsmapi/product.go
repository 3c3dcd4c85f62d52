package dsmapi

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Product is which manager a console URL belongs to, and where its agents
// send their heartbeat.
type Product struct {
	Name string // "Server & Workload Protection / Workload Security", "Deep Security as a Service", "Deep Security Manager"
	// Agents is the HOST:PORT agents heartbeat to ("" when it cannot be
	// known from the URL: see Why).
	Agents string
	Why    string
}

// workloadHost is a Server & Workload Protection or Workload Security
// console: workload.REGION.cloudone.trendmicro.com. Its agents activate
// and heartbeat to agents.workload.REGION.cloudone.trendmicro.com:443
// (the "dsm://agents.workload.REGION.cloudone.trendmicro.com:443/"
// activation URL of the vendor's deployment scripts, and its "Port
// numbers, URLs, and IP addresses" page: agents reach the manager on 443).
var workloadHost = regexp.MustCompile(`^workload\.([a-z]{2}-[0-9])\.cloudone\.trendmicro\.com$`)

// ProductOf reads the product from the console URL.
func ProductOf(consoleURL string) Product {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return Product{Name: "unknown", Why: "the --from-manager URL does not parse"}
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case workloadHost.MatchString(host):
		region := workloadHost.FindStringSubmatch(host)[1]
		return Product{Name: "Server & Workload Protection / Workload Security", Agents: "agents.workload." + region + ".cloudone.trendmicro.com:443"}
	case host == "app.deepsecurity.trendmicro.com":
		// Deep Security as a Service, the guide's own example:
		// telnet agents.deepsecurity.trendmicro.com 443
		return Product{Name: "Deep Security as a Service", Agents: "agents.deepsecurity.trendmicro.com:443"}
	case host == "trendmicro.com" || strings.HasSuffix(host, ".trendmicro.com"):
		return Product{Name: "a Trend Micro cloud console", Why: fmt.Sprintf("the agents' heartbeat address of %s is not one whyoffline knows (SaaS agents do not use the console's address or port 4120)", host)}
	default:
		// on premises: agents heartbeat to the manager on 4120
		return Product{Name: "Deep Security Manager", Agents: joinHostPort(host, "4120")}
	}
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// checkConsoleURL refuses the URLs operators paste that are not the
// manager's API: the Trend Vision One or Cloud One portals.
func checkConsoleURL(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	switch {
	case strings.HasSuffix(host, ".xdr.trendmicro.com") || strings.HasPrefix(host, "portal.") && strings.HasSuffix(host, ".trendmicro.com"):
		return badInput("--from-manager %s is the Trend Vision One portal; Server & Workload Protection's API is at its own console, https://workload.REGION.cloudone.trendmicro.com (API keys from its Administration > User Management > API Keys)", host)
	case host == "cloudone.trendmicro.com":
		return badInput("--from-manager %s is the Cloud One portal; give the Workload Security console, https://workload.REGION.cloudone.trendmicro.com", host)
	}
	return nil
}
