package transports

import (
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
	winrmtransport "github.com/whyoffline/whyoffline/internal/transport/winrm"
)

// winrmTransport: WS-Management over HTTP(S), NTLM, Kerberos or Basic.
var winrmTransport = Transport{
	Name:            inventory.WinRM,
	Options:         winrmtransport.Options,
	PasswordEnv:     winrmtransport.EnvPassword,
	PasswordFileEnv: winrmtransport.EnvPasswordFile,
	Open:            openWinRM,
	SkipBadEndpoint: true,
}

type winrmClient struct {
	*winrmtransport.Client
	user string
}

func openWinRM(s Settings, _ bool) (Client, error) {
	c := winrmtransport.New(winrmtransport.Config{ConnectTimeout: s.ConnectTimeout, Getenv: s.Getenv, DefaultUser: s.User, Dial: s.Dial})
	return &winrmClient{Client: c, user: s.User}, nil
}

func (c *winrmClient) Endpoint(h *inventory.Host) (transport.Endpoint, error) {
	return winrmtransport.Endpoint(h, c.user)
}

func (c *winrmClient) Warnings(hosts []*inventory.Host) []string {
	names := winrmtransport.InsecureHosts(hosts)
	if len(names) == 0 {
		return nil
	}
	// the names cut so the whole line fits the 300 characters a warning
	// is printed in
	return []string{"WinRM certificates NOT verified (insecure_skip_verify) for " + strconv.Itoa(len(names)) + " host(s): " +
		textsafe.Line(strings.Join(names, ", "), 220)}
}

func (c *winrmClient) Close() {}
