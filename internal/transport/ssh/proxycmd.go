package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// expandProxyCommand replaces OpenSSH's tokens in a ProxyCommand: %h the
// host, %p the port, %r the user, %n the name as given, %% a percent.
// Values come from the inventory: each is shell-quoted unless it is a
// plain word, so a name cannot add to the command.
func expandProxyCommand(cmd string, t target) string {
	var b strings.Builder
	for i := 0; i < len(cmd); i++ {
		if cmd[i] != '%' || i+1 == len(cmd) {
			b.WriteByte(cmd[i])
			continue
		}
		i++
		switch cmd[i] {
		case 'h':
			b.WriteString(shellWord(t.host))
		case 'p':
			b.WriteString(strconv.Itoa(t.port))
		case 'r':
			b.WriteString(shellWord(t.user))
		case 'n':
			b.WriteString(shellWord(t.alias))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(cmd[i])
		}
	}
	return b.String()
}

// shellWord quotes s for sh unless it is made of characters sh takes
// literally.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@[]/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandConn is a connection made by a ProxyCommand: the command's stdout
// is what we read, its stdin what we write. Closing it ends the command.
type commandConn struct {
	cmd     *exec.Cmd
	line    string   // the expanded command, for messages
	r, w    *os.File // our ends of its stdout and stdin
	stderr  *textsafe.CappedBuffer
	done    chan struct{} // closed when the command has exited
	exitErr error
	once    sync.Once
}

// dialCommand starts t's ProxyCommand the way OpenSSH does (sh -c "exec
// COMMAND") with an allow-listed environment (proxyEnv): no secret of the
// run reaches the command.
func dialCommand(ctx context.Context, t target) (net.Conn, error) {
	line := expandProxyCommand(t.command, t)
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, transport.Errorf(result.JumpFailed, err, "ProxyCommand: %v", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, transport.Errorf(result.JumpFailed, err, "ProxyCommand: %v", err)
	}
	cmd := exec.Command("/bin/sh", "-c", "exec "+line)
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr := &textsafe.CappedBuffer{Limit: 4096}
	cmd.Stderr = stderr
	cmd.Env = proxyEnv(os.Environ())
	// its own process group, so ending it ends what it started too (a
	// relay's background half); and Wait never waits on a straggler that
	// still holds its stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{outR, outW, inR, inW} {
			f.Close()
		}
		return nil, transport.Errorf(result.JumpFailed, err, "ProxyCommand %q could not start: %v", textsafe.Line(line, 200), err)
	}
	inR.Close()
	outW.Close()
	c := &commandConn{cmd: cmd, line: line, r: outR, w: inW, stderr: stderr, done: make(chan struct{})}
	go func() {
		c.exitErr = cmd.Wait()
		close(c.done)
	}()
	if ctx.Err() != nil {
		c.Close()
		return nil, ctxError(ctx, t.addr(), "starting the ProxyCommand")
	}
	return c, nil
}

// proxyEnv is the environment a ProxyCommand gets: an allow-list of what
// an ssh -W, nc or connect-proxy relay needs (the path, the user's
// identity and locale, the agent and Kerberos caches, proxies), and
// nothing else — not whyoffline's variables, nor whatever variable an
// inventory's password_env names: a relay's stderr is quoted in reports.
func proxyEnv(env []string) []string {
	allowed := map[string]bool{"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true, "LANG": true, "LANGUAGE": true,
		"TERM": true, "TZ": true, "TMPDIR": true, "SSH_AUTH_SOCK": true, "SSH_AGENT_PID": true, "KRB5CCNAME": true, "KRB5_CONFIG": true,
		"XDG_RUNTIME_DIR": true, "http_proxy": true, "https_proxy": true, "no_proxy": true, "HTTP_PROXY": true, "HTTPS_PROXY": true,
		"NO_PROXY": true, "ALL_PROXY": true, "all_proxy": true}
	out := make([]string, 0, len(allowed))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if allowed[name] || strings.HasPrefix(name, "LC_") {
			out = append(out, kv)
		}
	}
	return out
}

// failure turns a handshake that failed over the command's connection
// into what happened: the command's own words when it ended or complained
// (kind jump-failed: the target was never reached, so it is not judged),
// unless the target itself answered (its key, its authentication).
func (c *commandConn) failure(err error, limit time.Duration) error {
	kind := transport.KindOf(err)
	switch kind {
	case result.AuthFailed, result.HostKeyMismatch, result.HostKeyUnknown, result.CertificateInvalid, result.Interrupted:
		return err
	}
	if kind == result.Timeout {
		// our deadline, not the command's doing: closing its stdin ends it
		return transport.Errorf(result.JumpFailed, err, "ProxyCommand %q brought no SSH handshake within %s: the command (a bastion login?) or the host behind it is slow or silent (the host behind it was not judged)",
			textsafe.Line(c.line, 200), limit)
	}
	select {
	case <-c.done:
	case <-time.After(time.Second): // a command that is ending says so soon
	}
	said := secret.New().Scrub(textsafe.FirstLines(c.stderr.String(), 2, 300))
	status := "still running"
	select {
	case <-c.done:
		status = "exited"
		var ee *exec.ExitError
		if errors.As(c.exitErr, &ee) {
			status = fmt.Sprintf("exited with status %d", ee.ExitCode())
		}
	default:
	}
	msg := fmt.Sprintf("ProxyCommand %q %s before the SSH handshake finished", textsafe.Line(c.line, 200), status)
	if said != "" {
		msg += ": " + said
	}
	return transport.Errorf(result.JumpFailed, err, "%s (the host behind it was not reached, so it is not judged)", msg)
}

func (c *commandConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *commandConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Close ends the command (as ssh does when the session ends).
func (c *commandConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		select {
		case <-c.done:
		case <-time.After(500 * time.Millisecond):
		}
		// the group, whether or not its leader is gone: a relay's
		// background half outlives it
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	})
	return nil
}

func (c *commandConn) LocalAddr() net.Addr  { return commandAddr("proxy-command") }
func (c *commandConn) RemoteAddr() net.Addr { return commandAddr(c.line) }

func (c *commandConn) SetDeadline(t time.Time) error {
	if err := c.r.SetReadDeadline(t); err != nil {
		return err
	}
	return c.w.SetWriteDeadline(t)
}
func (c *commandConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *commandConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

type commandAddr string

func (a commandAddr) Network() string { return "proxy-command" }
func (a commandAddr) String() string  { return string(a) }
