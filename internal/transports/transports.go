// Package transports is the list of the ways whyoffline reaches hosts,
// the one place that names them all. A transport declares itself here in
// one entry (its own file: ssh.go, winrm.go): its name, its inventory
// options, the variables its run-wide password comes from, and how it
// opens its client for a run. The scan, the inventory command, the
// secret scrubber and the inventory's option check read this list; none
// of them names a transport.
//
// What stays outside: the inventory's Ansible reader knows which
// ansible_connection names and which ansible_* variables are each
// transport's (internal/inventory, connections) — Ansible's own rules,
// tested against ansible-inventory; TestConnectionsAreRegistered holds
// that table to this list.
package transports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Transport is one way of reaching hosts.
type Transport struct {
	Name    string // the inventory's name for it (inventory.SSH, inventory.WinRM)
	Options func() []inventory.OptionSpec
	// PasswordEnv and PasswordFileEnv are the variables of the password a
	// host without its own logs in with (the scrubber hides it).
	PasswordEnv, PasswordFileEnv string
	// Open builds the transport's client for a run. endpointsOnly: for
	// `whyoffline inventory`, which derives endpoints and contacts
	// nothing, so needs no known_hosts.
	Open func(s Settings, endpointsOnly bool) (Client, error)
	// SkipBadEndpoint: a host whose endpoint cannot be derived (a
	// setting that cannot work) is skipped at load with the reason,
	// instead of failing when its turn comes.
	SkipBadEndpoint bool
}

// Settings are what a run gives its transports.
type Settings struct {
	Getenv         func(string) string
	Dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	ConnectTimeout time.Duration
	// User is --user: the login user of hosts that name none ("": each
	// transport's default, for SSH $USER, then root).
	User          string
	Home          string
	SSHConfigFile string // "" for none
	KnownHosts    []string
	HostKeyPolicy string
	MaxPerAddress int
}

// Client is a transport's client for one run.
type Client interface {
	transport.Runner
	// Preflight checks the transport's hosts (keys, passwords,
	// settings) before any host is contacted; hosts of other transports
	// are left alone.
	Preflight(hosts []*inventory.Host) error
	// Endpoint is where h is dialled and as whom, without contacting it:
	// what `whyoffline inventory` prints is what the scan dials.
	Endpoint(h *inventory.Host) (transport.Endpoint, error)
	// Warnings about the run's settings for these hosts (an ssh_config
	// line ignored, certificates not verified).
	Warnings(hosts []*inventory.Host) []string
	Close()
}

// all is the registry, in the order --help and errors list them.
var all = []Transport{sshTransport, winrmTransport}

// All is every transport.
func All() []Transport { return append([]Transport(nil), all...) }

// Lookup finds a transport by its inventory name.
func Lookup(name string) (Transport, bool) {
	for _, t := range all {
		if t.Name == name {
			return t, true
		}
	}
	return Transport{}, false
}

// Options is the inventory schema: every option of every transport.
func Options() inventory.Schema {
	var s inventory.Schema
	for _, t := range all {
		s = append(s, t.Options()...)
	}
	return s
}

// Clients are the run's open clients, by transport name.
type Clients map[string]Client

// Open opens every transport's client; with hosts it preflights them
// (endpointsOnly: for the inventory command, no preflight, nothing read
// that only a login needs).
func Open(s Settings, endpointsOnly bool, hosts []*inventory.Host) (Clients, error) {
	cs := Clients{}
	for _, t := range all {
		c, err := t.Open(s, endpointsOnly)
		if err != nil {
			cs.Close()
			return nil, err
		}
		cs[t.Name] = c
		if endpointsOnly {
			continue
		}
		if err := c.Preflight(hosts); err != nil {
			cs.Close()
			return nil, err
		}
	}
	return cs, nil
}

// Runners are the clients as the scan runs them.
func (cs Clients) Runners() map[string]transport.Runner {
	out := make(map[string]transport.Runner, len(cs))
	for name, c := range cs {
		out[name] = c
	}
	return out
}

// Endpoint asks h's transport where it would connect.
func (cs Clients) Endpoint(h *inventory.Host) (transport.Endpoint, error) {
	c, ok := cs[h.Transport]
	if !ok {
		return transport.Endpoint{}, fmt.Errorf("%s: transport %q is not one whyoffline has", h.Name, h.Transport)
	}
	return c.Endpoint(h)
}

// Warnings are every client's warnings for hosts, in registry order.
func (cs Clients) Warnings(hosts []*inventory.Host) []string {
	var out []string
	for _, t := range all {
		if c, ok := cs[t.Name]; ok {
			out = append(out, c.Warnings(hosts)...)
		}
	}
	return out
}

// Close closes every client.
func (cs Clients) Close() {
	for _, c := range cs {
		c.Close()
	}
}

// errEndpointsOnly: a client opened for endpoints only was asked to log in.
var errEndpointsOnly = errors.New("this client derives endpoints only (whyoffline inventory)")
