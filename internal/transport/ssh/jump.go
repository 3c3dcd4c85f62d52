package ssh

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	xssh "golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// jumpEntry is one shared connection to a jump host: every host behind it
// multiplexes its TCP forward over the same SSH connection, so a sweep of a
// thousand hosts behind one bastion costs one login there, not a thousand.
type jumpEntry struct {
	ready  chan struct{}
	client *xssh.Client
	err    error
}

// parseJump splits "user@host:port" into a host for the transport.
func parseJump(spec string) (*inventory.Host, error) {
	h := &inventory.Host{Transport: inventory.SSH}
	rest := spec
	if u, r, ok := strings.Cut(rest, "@"); ok {
		h.User, rest = u, r
	}
	if host, port, err := net.SplitHostPort(rest); err == nil {
		p, perr := strconv.Atoi(port)
		if perr != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("ProxyJump %q: bad port", spec)
		}
		h.Port, rest = p, host
	}
	if rest == "" || strings.ContainsAny(rest, " \t'\"`$;&|") {
		return nil, fmt.Errorf("ProxyJump %q is not user@host[:port]", spec)
	}
	h.Name, h.Address = rest, rest
	return h, nil
}

// dialViaJump opens a TCP forward to t through its ProxyJump chain.
func (c *Client) dialViaJump(ctx context.Context, h *inventory.Host, t target) (net.Conn, error) {
	hops := strings.Split(t.jump, ",")
	var prev *xssh.Client
	key := ""
	for _, spec := range hops {
		spec = strings.TrimSpace(spec)
		jh, err := parseJump(spec)
		if err != nil {
			return nil, transport.Errorf(result.ProtocolError, err, "host %s: %v", h.Name, err)
		}
		key += "," + spec
		// A jump host without keys of its own (inventory or ssh_config)
		// uses the target's, as most fleets use one key for both.
		if kf, ok := h.Options.Get("key_file"); ok {
			jh.SetOption("key_file", kf.Value, kf.Source)
		}
		prev, err = c.jumpClient(ctx, key, jh, prev)
		if err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	conn, err := prev.DialContext(dctx, "tcp", t.addr())
	if err != nil {
		if ctx.Err() != nil || transport.IsTimeout(err) {
			return nil, transport.Errorf(transport.Unreachable, err, "jump host %s could not reach %s in time", t.jump, t.addr())
		}
		if strings.Contains(err.Error(), "refused") {
			return nil, transport.Errorf(result.ConnectionRefused, err, "connection to %s (via %s) refused", t.addr(), t.jump)
		}
		return nil, transport.Errorf(transport.Unreachable, err, "jump host %s cannot reach %s: %v", t.jump, t.addr(), err)
	}
	return conn, nil
}

// jumpClient returns the shared client for one hop, connecting once.
func (c *Client) jumpClient(ctx context.Context, key string, jh *inventory.Host, via *xssh.Client) (*xssh.Client, error) {
	c.jumpMu.Lock()
	e, ok := c.jumps[key]
	if !ok {
		e = &jumpEntry{ready: make(chan struct{})}
		c.jumps[key] = e
		c.jumpMu.Unlock()
		e.client, e.err = c.connectJump(ctx, jh, via)
		close(e.ready)
		if e.err != nil {
			// let a later host try again rather than caching one failure
			c.jumpMu.Lock()
			delete(c.jumps, key)
			c.jumpMu.Unlock()
		}
	} else {
		c.jumpMu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctxError(ctx, jh.Address, "waiting for the jump host")
		}
	}
	if e.err != nil {
		return nil, wrapJumpErr(jh, e.err)
	}
	return e.client, nil
}

func wrapJumpErr(jh *inventory.Host, err error) error {
	kind := transport.KindOf(err)
	return transport.Errorf(kind, err, "jump host %s: %v", jh.Address, err)
}

func (c *Client) connectJump(ctx context.Context, jh *inventory.Host, via *xssh.Client) (*xssh.Client, error) {
	t := c.resolve(jh)
	t.jump = "" // the chain is walked by the caller
	var failure result.ErrorKind
	cfg, err := c.clientConfig(jh, t, &failure)
	if err != nil {
		return nil, err
	}
	// A jump connection outlives the host that opened it: bound only its
	// handshake, never its life, by that host's context.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ConnectTimeout*2)
	defer cancel()
	var conn net.Conn
	if via == nil {
		conn, err = c.dialTCP(hctx, t.addr())
	} else {
		conn, err = via.DialContext(hctx, "tcp", t.addr())
		if err != nil {
			err = transport.Errorf(transport.Unreachable, err, "cannot reach %s through the previous jump host: %v", t.addr(), err)
		}
	}
	if err != nil {
		return nil, err
	}
	return handshake(hctx, conn, t.addr(), cfg, &failure)
}

// DialFrom opens a TCP connection to addr from host via (a forward over one
// shared SSH connection to it), the way `ssh -W` would: the connection
// starts on that host, so what it reaches is what that host reaches. The
// scan uses it to test the agent port from the manager's side.
func (c *Client) DialFrom(ctx context.Context, via *inventory.Host, addr string) (net.Conn, error) {
	client, err := c.jumpClient(ctx, "from:"+via.Name+"@"+via.Address, via, nil)
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, "tcp", addr)
}
