// Package probe runs the checks that happen on the bastion itself: can the
// bastion resolve and reach the manager, what addresses does it resolve the
// manager's name to (to compare with each host's answer), and can the
// manager side reach an agent's port.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/whyoffline/whyoffline/internal/transport"
)

// Resolver resolves names once per run, however many hosts ask.
type Resolver struct {
	Timeout time.Duration
	// Lookup overrides the system resolver (tests).
	Lookup func(ctx context.Context, host string) ([]string, error)

	mu    sync.Mutex
	cache map[string]*lookup
}

type lookup struct {
	done  chan struct{}
	addrs []string
	err   error
}

// Resolve returns the sorted, de-duplicated addresses of host.
// Cached returns a finished lookup of host without waiting or starting one.
func (r *Resolver) Cached(host string) ([]string, error, bool) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{ip.String()}, nil, true
	}
	r.mu.Lock()
	l, ok := r.cache[host]
	r.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	select {
	case <-l.done:
		return l.addrs, l.err, true
	default:
		return nil, nil, false
	}
}

func (r *Resolver) Resolve(ctx context.Context, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{ip.String()}, nil
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*lookup{}
	}
	l, ok := r.cache[host]
	if !ok {
		l = &lookup{done: make(chan struct{})}
		r.cache[host] = l
		r.mu.Unlock()
		timeout := r.Timeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		l.addrs, l.err = r.lookup(lctx, host)
		cancel()
		close(l.done)
	} else {
		r.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return l.addrs, l.err
}

func (r *Resolver) lookup(ctx context.Context, host string) ([]string, error) {
	var addrs []string
	var err error
	if r.Lookup != nil {
		addrs, err = r.Lookup(ctx, host)
	} else {
		addrs, err = net.DefaultResolver.LookupHost(ctx, host)
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil {
			a = ip.String()
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// PortState is the outcome of a TCP connect.
type PortState string

const (
	Open       PortState = "open"
	Refused    PortState = "refused"
	TimedOut   PortState = "timeout"
	NoRoute    PortState = "unreachable"
	Unresolved PortState = "dns"
)

// Connect tries one TCP connection and says how it went.
func Connect(ctx context.Context, host string, port int, timeout time.Duration) (PortState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil {
		conn.Close()
		return Open, nil
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return Unresolved, err
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, err
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return NoRoute, err
	case transport.IsTimeout(err) || ctx.Err() != nil:
		return TimedOut, err
	}
	return NoRoute, err
}

// Manager is what the bastion found out about the manager.
type Manager struct {
	Host       string
	Port       int
	Addresses  []string
	ResolveErr error
	Heartbeat  PortState // the heartbeat port as seen from the bastion
	ConnectErr error
	// Cert is the certificate the manager presents on the heartbeat port
	// (nil when no TLS handshake completed).
	Cert *x509.Certificate
}

// Reachable reports whether the bastion resolved and connected.
func (m *Manager) Reachable() bool { return m.ResolveErr == nil && m.Heartbeat == Open }

// CheckManager resolves and connects to the manager from the bastion.
func CheckManager(ctx context.Context, r *Resolver, host string, port int, timeout time.Duration) *Manager {
	m := &Manager{Host: host, Port: port}
	m.Addresses, m.ResolveErr = r.Resolve(ctx, host)
	if m.ResolveErr != nil {
		return m
	}
	m.Heartbeat, m.ConnectErr = Connect(ctx, host, port, timeout)
	if m.Heartbeat == Open {
		m.Cert = ManagerCert(ctx, host, port, timeout)
	}
	return m
}

// ManagerCert completes a TLS handshake with the manager's heartbeat port
// and returns the certificate it presents, without verifying it: whether
// it is expired or has changed is the question, and agents trust the
// manager's certificate by their own pinning, not the bastion's roots.
// nil when no handshake completed.
func ManagerCert(ctx context.Context, host string, port int, timeout time.Duration) *x509.Certificate {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, ServerName: host, MinVersion: tls.VersionTLS12}} // #nosec: read, not trusted
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil
	}
	return certs[0]
}

// Via is a place other than the bastion to open TCP from: Dial starts the
// connection there (the manager host, over SSH).
type Via struct {
	Name string // for evidence: "manager host dsm01"
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// ErrViaUnusable: the probe could not be run from there at all (login
// failed, forwarding refused by the SSH server); try elsewhere.
var ErrViaUnusable = errors.New("probe host unusable")

// ConnectVia is Connect, started from v. A refusal, silence or no route on
// the far side is a port state; failing to use v is ErrViaUnusable.
func ConnectVia(ctx context.Context, v *Via, host string, port int, timeout time.Duration) (PortState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := v.Dial(ctx, net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil {
		conn.Close()
		return Open, nil
	}
	// OpenSSH answers a failed forward with "connect failed (<strerror>)"
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connect failed") && strings.Contains(msg, "refused"):
		return Refused, err
	case strings.Contains(msg, "connect failed") && (strings.Contains(msg, "No route") || strings.Contains(msg, "unreachable")):
		return NoRoute, err
	case strings.Contains(msg, "connect failed") && strings.Contains(msg, "timed out"):
		return TimedOut, err
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return TimedOut, err
	}
	return "", fmt.Errorf("%w: %s: %v", ErrViaUnusable, v.Name, err)
}
