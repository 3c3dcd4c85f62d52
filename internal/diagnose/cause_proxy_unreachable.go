package diagnose

import (
	"fmt"
	"strings"

	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/result"
)

// proxy-unreachable: the agent talks to its manager (or relays) through a
// proxy (dsa_control -x / -y), and from the host that proxy cannot be
// reached, or it refuses the tunnel. The agent's path is the proxy, so
// its test decides; a direct TCP failure to the manager says nothing
// about such an agent (heartbeat-port-blocked leaves it alone).
func init() {
	register(Cause{
		ID:    result.ProxyUnreachable,
		Title: "The agent's proxy cannot be reached or refuses",
		Rank:  75,
		// Which proxy the agent uses is known only from its own status:
		// agent.proxy is empty when it has none (or did not answer, which
		// agent-not-activated and the rest already say).
		Needs:     []string{"agent.proxy"},
		Uses:      []string{"proxy.result", "proxy.target", "proxy.status", "proxy.relay_result", "proxy.relay_target"},
		NeedsWhen: proxyNeeds,
		Rule:      proxyUnreachable,
		Remedy: `The agent reaches {{.Manager}} through the proxy {{.Detail}}. Make the proxy reachable from this
host and let it open CONNECT tunnels to {{.Manager}}:{{.Port}} (its ACLs, allowed CONNECT ports,
credentials), or point the agent at a working proxy (dsa_control -x dsm_proxy://HOST:PORT/), or
remove the proxy setting (dsa_control -x "") if the host can reach the manager directly.`,
		RemedyOS: map[string]string{
			"windows": `The agent reaches {{.Manager}} through the proxy {{.Detail}}. Make the proxy reachable from this
host and let it open CONNECT tunnels to {{.Manager}}:{{.Port}} (its ACLs, allowed CONNECT ports,
credentials), or point the agent at a working proxy
("C:\Program Files\Trend Micro\Deep Security Agent\dsa_control.cmd" -x dsm_proxy://HOST:PORT/).`,
		},
	})
}

// proxyNeeds: with a proxy configured, its test is what a verdict on the
// agent's path rests on.
func proxyNeeds(f facts.Reader) []string {
	var out []string
	if agentProxy(f, "manager") {
		out = append(out, "proxy.result")
	}
	if agentProxy(f, "relay") {
		out = append(out, "proxy.relay_result")
	}
	return out
}

// proxyFailed says how a proxy test failed ("" when it did not, or could
// not tell), and how sure that makes the cause.
var proxyFailed = map[string]struct {
	how  string
	conf result.Confidence
}{
	"refused":     {"refused the TCP connection", result.Confirmed},
	"timeout":     {"did not answer the TCP connection (dropped)", result.Confirmed},
	"unreachable": {"is unreachable (no route)", result.Confirmed},
	"dns":         {"has a name the host cannot resolve", result.Confirmed},
	"denied":      {"refused the tunnel", result.Confirmed},
	"noanswer":    {"accepted the connection but never answered the CONNECT", result.Likely},
}

// agentProxy reports whether the agent's status names a proxy of kind.
func agentProxy(f facts.Reader, kind string) bool {
	for _, p := range f.List("agent.proxy") {
		if strings.HasPrefix(p, kind+" ") {
			return true
		}
	}
	return false
}

func proxyUnreachable(in *Input, o *Options) *Finding {
	var ev, names []string
	conf := result.Possible
	stronger := func(c result.Confidence) {
		if c == result.Confirmed || conf == result.Possible {
			conf = c
		}
	}
	if agentProxy(in.Facts, "manager") {
		if f, ok := proxyFailed[in.Facts.Get("proxy.result")]; ok {
			target := in.Facts.Get("proxy.target")
			e := fmt.Sprintf("the agent's manager proxy %s %s", target, f.how)
			if st := in.Facts.Get("proxy.status"); st != "" {
				e += fmt.Sprintf(" (CONNECT %s:%d answered %q)", managerOf(in, o), portOf(in, o), st)
			}
			ev = append(ev, e)
			names = append(names, target)
			stronger(f.conf)
		}
	}
	if agentProxy(in.Facts, "relay") {
		if f, ok := proxyFailed[in.Facts.Get("proxy.relay_result")]; ok {
			target := in.Facts.Get("proxy.relay_target")
			ev = append(ev, fmt.Sprintf("the agent's relay proxy %s %s", target, f.how))
			names = append(names, target)
			stronger(f.conf)
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return &Finding{Confidence: conf, Evidence: ev, Detail: strings.Join(names, " and ")}
}

// viaProxy reports whether the agent reaches the manager through a proxy
// (then a direct TCP result is not the agent's path), and whether the
// tunnel through it works.
func viaProxy(f facts.Reader) (proxied, ok bool) {
	if !agentProxy(f, "manager") {
		return false, false
	}
	return true, f.Is("proxy.result", "ok")
}
