package transports

import (
	"context"
	"net"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport"
	sshtransport "github.com/whyoffline/whyoffline/internal/transport/ssh"
)

// sshTransport: OpenSSH's protocol (x/crypto/ssh), ssh_config, jump hosts.
var sshTransport = Transport{
	Name:            inventory.SSH,
	Options:         sshtransport.Options,
	PasswordEnv:     sshtransport.EnvPassword,
	PasswordFileEnv: sshtransport.EnvPasswordFile,
	Open:            openSSH,
}

// sshClient is the SSH client, or for endpoints only its resolver.
type sshClient struct {
	*sshtransport.Resolver
	client *sshtransport.Client // nil: endpoints only
}

func openSSH(s Settings, endpointsOnly bool) (Client, error) {
	if endpointsOnly {
		r, err := sshtransport.NewResolver(s.SSHConfigFile, sshUser(s))
		if err != nil {
			return nil, err
		}
		return &sshClient{Resolver: r}, nil
	}
	c, err := sshtransport.New(sshtransport.Config{
		KnownHosts: s.KnownHosts, HostKeyPolicy: s.HostKeyPolicy, ConnectTimeout: s.ConnectTimeout,
		SSHConfigFile: s.SSHConfigFile, DefaultUser: sshUser(s), Home: s.Home, Getenv: s.Getenv,
		Dial: s.Dial, MaxPerAddress: s.MaxPerAddress,
	})
	if err != nil {
		return nil, err
	}
	return &sshClient{Resolver: c.Resolver, client: c}, nil
}

// sshUser is the login user of hosts that name none: --user, else $USER,
// else root.
func sshUser(s Settings) string {
	if s.User != "" {
		return s.User
	}
	if s.Getenv != nil {
		if u := s.Getenv("USER"); u != "" {
			return u
		}
	}
	return "root"
}

func (c *sshClient) Run(ctx context.Context, h *inventory.Host, req transport.Request) (*transport.Response, error) {
	if c.client == nil {
		return nil, errEndpointsOnly
	}
	return c.client.Run(ctx, h, req)
}

func (c *sshClient) Preflight(hosts []*inventory.Host) error {
	if c.client == nil {
		return nil
	}
	return c.client.Preflight(hosts)
}

func (c *sshClient) Warnings([]*inventory.Host) []string { return c.Resolver.Warnings() }

func (c *sshClient) Close() {
	if c.client != nil {
		c.client.Close()
	}
}

// DialFrom opens a TCP connection from host via (the manager-side probe
// of the agent port).
func (c *sshClient) DialFrom(ctx context.Context, via *inventory.Host, addr string) (net.Conn, error) {
	if c.client == nil {
		return nil, errEndpointsOnly
	}
	return c.client.DialFrom(ctx, via, addr)
}
