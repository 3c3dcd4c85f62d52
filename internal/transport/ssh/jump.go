package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	xssh "golang.org/x/crypto/ssh"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
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

// dialViaJump opens a TCP forward to t through its ProxyJump chain. A
// shared jump connection that died since it was made is made again, once;
// a jump host that cannot be reached, refuses the login or forbids
// forwarding fails the host as jump-failed, naming the jump host: the
// host behind it was never tried, so nothing is said of it.
func (c *Client) dialViaJump(ctx context.Context, h *inventory.Host, t target) (net.Conn, error) {
	conn, err := c.dialViaJumpOnce(ctx, h, t, false)
	var dead *deadJumpError
	if errors.As(err, &dead) {
		conn, err = c.dialViaJumpOnce(ctx, h, t, true)
		if errors.As(err, &dead) {
			err = transport.Errorf(result.JumpFailed, dead.err, "jump host %s: the connection dropped and dropped again when made anew: %v (the host behind it was not reached, so it is not judged)", dead.jump, dead.err)
		}
	}
	return conn, err
}

// deadJumpError: a shared jump connection failed as a connection (not a
// refused channel): it is gone.
type deadJumpError struct {
	jump string
	err  error
}

func (e *deadJumpError) Error() string {
	return "jump host " + e.jump + ": connection lost: " + e.err.Error()
}

func (c *Client) dialViaJumpOnce(ctx context.Context, h *inventory.Host, t target, fresh bool) (net.Conn, error) {
	hops := strings.Split(t.jump, ",")
	var prev *xssh.Client
	key, spec := "", ""
	for _, hop := range hops {
		spec = strings.TrimSpace(hop)
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
		if fresh {
			c.forgetJump(key, nil)
		}
		prev, err = c.jumpClient(ctx, key, jh, prev)
		if err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	conn, err := prev.DialContext(dctx, "tcp", t.addr())
	if err == nil {
		return conn, nil
	}
	var oc *xssh.OpenChannelError
	switch {
	case errors.As(err, &oc) && oc.Reason == xssh.Prohibited:
		return nil, transport.Errorf(result.JumpFailed, err, "jump host %s does not allow forwarding to %s (sshd AllowTcpForwarding no, DisableForwarding, or PermitOpen): %s (the host behind it was not reached, so it is not judged)",
			spec, t.addr(), textsafe.Line(oc.Message, 120))
	case errors.As(err, &oc):
		// the jump host tried and could not connect: that is about the target
		if strings.Contains(strings.ToLower(oc.Message), "refused") {
			return nil, transport.Errorf(result.ConnectionRefused, err, "connection to %s (via %s) refused", t.addr(), t.jump)
		}
		return nil, transport.Errorf(transport.Unreachable, err, "jump host %s cannot reach %s: %s", spec, t.addr(), textsafe.Line(oc.Message, 120))
	case ctx.Err() == nil && dctx.Err() != nil:
		return nil, transport.Errorf(transport.Unreachable, err, "jump host %s could not reach %s in time", t.jump, t.addr())
	case ctx.Err() != nil:
		return nil, ctxError(ctx, t.addr(), "connecting through jump host "+spec)
	}
	c.forgetJump(key, prev)
	return nil, &deadJumpError{jump: spec, err: err}
}

// forgetJump drops the shared connection for key (only if it is still
// client, when client is not nil), so the next host makes a new one.
func (c *Client) forgetJump(key string, client *xssh.Client) {
	c.jumpMu.Lock()
	defer c.jumpMu.Unlock()
	e, ok := c.jumps[key]
	if !ok {
		return
	}
	select {
	case <-e.ready:
	default:
		return // being made right now: that one is fresh
	}
	if client == nil || e.client == client {
		delete(c.jumps, key)
		if e.client != nil {
			e.client.Close()
		}
	}
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
			c.forgetJump(key, nil)
		} else {
			// a connection that ends is not handed to later hosts
			go func(cl *xssh.Client) {
				_ = cl.Wait()
				c.forgetJump(key, cl)
			}(e.client)
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

// wrapJumpErr: a jump host that could not be used fails the host behind
// it as jump-failed, with the jump host's own reason.
func wrapJumpErr(jh *inventory.Host, err error) error {
	kind := transport.KindOf(err)
	if kind == result.Interrupted {
		return err
	}
	return transport.Errorf(result.JumpFailed, err, "jump host %s (%s): %v (the host behind it was not reached, so it is not judged)", jh.Address, kind, err)
}

func (c *Client) connectJump(ctx context.Context, jh *inventory.Host, via *xssh.Client) (*xssh.Client, error) {
	t := c.resolve(jh)
	t.jump = "" // the chain is walked by the caller
	var st handshakeState
	cfg, err := c.clientConfig(jh, t, &st)
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
	return handshake(hctx, conn, t.addr(), cfg, &st)
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
