// Package transport runs one script on one host under a context and says,
// in the contract's words, how it went. Implementations: ssh and winrm. It
// knows nothing of playbooks or causes.
package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/result"
)

// Output caps: a hostile or broken host cannot make the bastion buffer more.
const (
	MaxStdout = 1 << 20
	MaxStderr = 64 << 10
)

// Request is one script run: the command to execute and its stdin.
type Request struct {
	Command string
	Stdin   []byte
}

// Response is what came back.
type Response struct {
	Stdout    []byte
	Stderr    []byte
	ExitCode  int
	Truncated bool
	// Started and Finished bracket the command on the bastion's clock;
	// anything the host printed about its own clock happened in between.
	Started  time.Time
	Finished time.Time
	// RemoteAddr is the address the bastion connected to (its own
	// resolution, or a jump host's): what fleet rules may trust of where
	// a host is, unlike the addresses the host claims. "" when unknown.
	RemoteAddr string
}

// Runner runs a script on a host.
type Runner interface {
	Run(ctx context.Context, h *inventory.Host, req Request) (*Response, error)
}

// Unreachable is the kind for a host that could not be reached at all
// (status "unreachable", cause host-unreachable) rather than an error kind.
const Unreachable result.ErrorKind = "unreachable"

// Error is a failure with its contract kind.
type Error struct {
	Kind result.ErrorKind
	Msg  string // what happened and what to do, safe to print
	Err  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error.
func Errorf(kind result.ErrorKind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the kind of err (protocol-error when it has none).
func KindOf(err error) result.ErrorKind {
	var te *Error
	if errors.As(err, &te) {
		return te.Kind
	}
	return result.ProtocolError
}

// ClassifyDial turns a TCP dial error into a kind: refused means the host is
// up but nothing listens; a timeout, no route or an unknown name means the
// host itself cannot be reached.
func ClassifyDial(ctx context.Context, addr string, timeout time.Duration, err error) *Error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Errorf(result.ConnectionRefused, err, "connection to %s refused: the host is up but nothing listens there (service stopped or wrong port?)", addr)
	case errors.As(err, &dnsErr):
		return Errorf(Unreachable, err, "cannot resolve %s from the bastion: %s", addr, dnsErr.Err)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return Errorf(Unreachable, err, "no route to %s: the host is down or not routable from the bastion", addr)
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		return Errorf(result.Interrupted, err, "scan interrupted before %s answered", addr)
	case IsTimeout(err) || ctx.Err() != nil:
		return Errorf(Unreachable, err, "TCP connect to %s timed out after %s: the host is off, stopped or a firewall drops the connection", addr, timeout.Round(time.Millisecond))
	}
	return Errorf(Unreachable, err, "cannot connect to %s: %v", addr, err)
}

// IsTimeout reports a network timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Endpoint is exactly what a transport will dial for a host, derived by the
// transport itself from the inventory's settings and its own defaults
// (ssh_config for SSH; scheme and auth for WinRM). `whyoffline inventory`
// prints it, so what it shows is what the scan connects to.
type Endpoint struct {
	Transport string `json:"transport"`
	Address   string `json:"address"`
	Port      int    `json:"port"`
	Scheme    string `json:"scheme,omitempty"` // WinRM: http or https
	Auth      string `json:"auth,omitempty"`   // WinRM: ntlm, basic, kerberos
	User      string `json:"user,omitempty"`
	Via       string `json:"via,omitempty"` // SSH: the ProxyJump chain
}
