// Package scan orchestrates a run: a fixed pool of workers, a deadline per
// host, exactly one result per host, streamed to one consumer as hosts
// finish. It knows nothing of output formats.
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/whyoffline/whyoffline/internal/become"
	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/facts"
	"github.com/whyoffline/whyoffline/internal/frame"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/probe"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// Options for one run.
type Options struct {
	Forks     int
	Timeout   time.Duration // per host, the whole scan of it
	Playbooks *playbook.Set
	Params    playbook.Params // manager, ports, mode, nonce
	Diagnose  *diagnose.Options
	// Runners by transport name (inventory.SSH, inventory.WinRM).
	Runners  map[string]transport.Runner
	Resolver *probe.Resolver
	// ManagerReachable is the bastion's own view of the manager (nil when
	// no manager was given or it was not probed).
	ManagerReachable *bool
	// ProbeTimeout bounds bastion-side TCP probes (agent port).
	ProbeTimeout time.Duration
	// AgentPortVia, when set, tests each host's agent port from the
	// manager's side (a role: manager host) instead of the bastion.
	AgentPortVia *probe.Via
	// Now is the clock (tests may fix it).
	Now func() time.Time
	// RawDir, when set, keeps every host's raw output and RawRecord there
	// (--save-raw); a failure to write is reported through RawErr.
	RawDir string
	RawErr func(host string, err error)
	// Secrets, when set, is what h's result must never show (its
	// password, the run's keys): every string of the result, and the
	// --save-raw files, pass through it. Credential headers' values are
	// hidden either way.
	Secrets func(h *inventory.Host) *secret.Scrubber
}

// Result is one host's result with its position in the inventory, and
// its digest for the fleet rules, taken before the result's secrets were
// hidden.
type Result struct {
	Index  int
	Host   result.Host
	Digest diagnose.Digest
}

// Run scans hosts and calls emit once per host, from one goroutine, in the
// order hosts finish. When ctx is cancelled the hosts not yet done are
// emitted as interrupted; Run returns after every host was emitted.
func Run(ctx context.Context, hosts []*inventory.Host, opt Options, emit func(Result)) {
	if opt.Forks < 1 {
		opt.Forks = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &scanner{opt: opt}
	jobs := make(chan int)
	results := make(chan Result, opt.Forks)
	var wg sync.WaitGroup
	for w := 0; w < min(opt.Forks, len(hosts)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, digest := s.one(ctx, hosts[i])
				results <- Result{Index: i, Host: res, Digest: digest}
			}
		}()
	}
	go func() {
		for i := range hosts {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	for r := range results {
		emit(r)
	}
}

type scanner struct {
	opt Options

	mu      sync.Mutex
	scripts map[string]*rendered // by OS, become method and deadline
	// stamp stands in for the nonce in a cached script: 32 random hex
	// digits, so it occurs nowhere else in a script.
	stamp string
}

// rendered is one script as rendered for a kind of host, with the stamp
// where each host's own nonce goes.
type rendered struct {
	sc  *playbook.Script
	d   playbook.Dialect
	err error
}

// script returns the script for h with a nonce of its own: one host's
// output can never carry another host's markers. Rendering is done once
// per kind of host; each host's copy only has its nonce put in.
func (s *scanner) script(h *inventory.Host) (*playbook.Script, playbook.Dialect, error) {
	method := ""
	if h.Become {
		method = h.BecomeMethod
		if method == "" {
			method = "sudo"
		}
	}
	budget := s.timeout(h)
	key := fmt.Sprintf("%s|%s|%d", h.OS, method, budget)
	s.mu.Lock()
	if s.scripts == nil {
		s.scripts = map[string]*rendered{}
		s.stamp = playbook.NewNonce() + playbook.NewNonce()
	}
	r, ok := s.scripts[key]
	if !ok {
		p := s.opt.Params
		p.Nonce, p.Budget = s.stamp, budget
		r = &rendered{d: s.opt.Playbooks.Dialect(h.OS)}
		r.sc, r.err = r.d.Render(h.OS, method, p)
		s.scripts[key] = r
	}
	s.mu.Unlock()
	if r.err != nil {
		return nil, r.d, r.err
	}
	nonce := playbook.NewNonce()
	sc := *r.sc
	sc.Nonce = nonce
	sc.Body = bytes.ReplaceAll(r.sc.Body, []byte(s.stamp), []byte(nonce))
	sc.Command = strings.ReplaceAll(r.sc.Command, s.stamp, nonce)
	if m, ok := become.Lookup(method); ok && h.Become && h.BecomeUserOrRoot() != "root" {
		// ansible_become_user, as Ansible would use it (quoted: it is
		// an inventory value)
		cmd, err := m.AsUser(sc.Command, h.BecomeUser, playbook.ShellQuote)
		if err != nil {
			return nil, r.d, transport.Errorf(result.PrivilegeDenied, err, "%v", err)
		}
		sc.Command = cmd
	}
	return &sc, r.d, nil
}

func (s *scanner) timeout(h *inventory.Host) time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	if s.opt.Timeout > 0 {
		return s.opt.Timeout
	}
	return 60 * time.Second
}

// one scans one host; it always returns a result, whatever happens.
func (s *scanner) one(ctx context.Context, h *inventory.Host) (res result.Host, digest diagnose.Digest) {
	start := s.opt.Now()
	res = result.Host{
		Name: h.Name, Address: h.Address, OS: h.OS, Transport: h.Transport, Role: h.Role, Groups: h.Groups, ManagerStatus: h.ManagerStatus, Computer: h.Computer,
		Causes: []result.Cause{}, Checks: []result.Check{},
	}
	sc := s.secrets(h)
	defer func() {
		if p := recover(); p != nil {
			// A bug must cost one host, not the sweep.
			res.Status = result.Error
			res.Error = &result.HostError{Kind: result.ProtocolError, Message: textsafe.Line(fmt.Sprintf("internal error scanning this host: %v (please report: %s)", p, firstFrame(debug.Stack())), 500)}
		}
		// the fleet rules judge what the checks saw: a password that
		// happens to equal a fact's value ("open") must not change them
		digest = diagnose.DigestOf(&res)
		// whatever the host or an endpoint echoed: the result is what
		// every report, history file and log line is made from
		sc.ScrubAll(&res)
		res.DurationMS = s.opt.Now().Sub(start).Milliseconds()
	}()
	if ctx.Err() != nil {
		s.fail(&res, transport.Errorf(result.Interrupted, ctx.Err(), "scan interrupted before this host was reached"))
		return res, digest
	}
	hctx, cancel := context.WithTimeout(ctx, s.timeout(h))
	defer cancel()
	s.scanHost(hctx, h, &res, sc)
	return res, digest
}

// secrets is the scrubber for h's result.
func (s *scanner) secrets(h *inventory.Host) *secret.Scrubber {
	if s.opt.Secrets == nil {
		return secret.New()
	}
	return s.opt.Secrets(h)
}

func firstFrame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.Contains(l, "panic(") && i+3 < len(lines) {
			return strings.TrimSpace(lines[i+3])
		}
	}
	return ""
}

func (s *scanner) fail(res *result.Host, err error) {
	kind := transport.KindOf(err)
	msg := textsafe.Line(err.Error(), 500)
	if kind == transport.Unreachable {
		res.Status = result.Unreachable
		res.Causes = []result.Cause{diagnose.Unreachable(res.Name, msg, s.opt.Diagnose)}
		res.Error = nil
		return
	}
	res.Status = result.Error
	res.Error = &result.HostError{Kind: kind, Message: msg}
}

func (s *scanner) scanHost(ctx context.Context, h *inventory.Host, res *result.Host, secrets *secret.Scrubber) {
	runner := s.opt.Runners[h.Transport]
	if runner == nil {
		s.fail(res, transport.Errorf(result.UnsupportedOS, nil, "no %s transport in this build for %s", h.Transport, h.Name))
		return
	}
	sc, dialect, err := s.script(h)
	if err != nil {
		s.fail(res, transport.Errorf(result.UnsupportedOS, err, "%v", err))
		return
	}
	resp, err := runner.Run(ctx, h, transport.Request{Command: sc.Command, Stdin: sc.Body})
	if s.opt.RawDir != "" && resp != nil {
		defer func() {
			if err := saveRaw(s.opt.RawDir, s.opt.Diagnose, h, dialect, sc, resp, res, secrets); err != nil && s.opt.RawErr != nil {
				s.opt.RawErr(h.Name, err)
			}
		}()
	}
	if err != nil && (resp == nil || transport.KindOf(err) != result.Timeout || !dialect.Streams()) {
		s.fail(res, err)
		return
	}
	raw := dialect.Split(resp.Stdout, sc.Nonce)
	cut := ""
	if err != nil {
		// A host that ran out of time keeps the checks that finished: they
		// are judged like any others, and the rest are unverified.
		if cut, err = s.partial(raw, err); err != nil {
			s.fail(res, err)
			return
		}
	}
	pb, err := s.playbookOf(h, dialect, sc, raw, resp)
	if err != nil {
		if transport.KindOf(err) == result.PrivilegeDenied && strings.Contains(err.Error(), "password is required") {
			err = s.becomeListed(ctx, h, runner, sc, err)
		}
		s.fail(res, err)
		return
	}
	f, checks := pb.Evaluate(raw)
	res.OS = pb.OS
	res.Checks = checks
	obs := s.observe(ctx, h, f, resp)
	res.Observed = obs
	if h.Become && f.Is("priv.root", "false") {
		// pfexec without a profile that grants root runs the script
		// silently as the login user: the checks that need root are blind
		if u := h.BecomeUserOrRoot(); u != "root" {
			s.fail(res, transport.Errorf(result.PrivilegeDenied, nil, "become ran the checks as %s (ansible_become_user), not root: the checks need root — set become_user root for whyoffline's scan (or leave it unset), or scan without become", u))
			return
		}
		s.fail(res, transport.Errorf(result.PrivilegeDenied, nil, "become (%s) ran the checks without root: give the scan user a profile or sudoers entry that grants it, or scan without become", becomeMethod(h)))
		return
	}
	if cut == "" {
		cut = CutShort(raw, resp)
	}
	Verdict(res, h.Name, pb, f, obs, cut, s.opt.Diagnose)
}

// Verdict decides a host's status from its checks (res.Checks, already
// evaluated) and what the bastion observed; cut says why the script did
// not run to its end ("" if it did). Healthy is a claim: the
// script ran to its end and every check some cause depends on gave a
// verdict. Otherwise the checks without one are listed as unverified; the
// host is diagnosed when what did finish proves a cause, and an error of
// kind incomplete when it proves nothing.
func Verdict(res *result.Host, name string, pb *playbook.Playbook, f facts.Facts, obs *result.Observed, cut string, o *diagnose.Options) {
	res.Causes = diagnose.Host(diagnose.InputFrom(name, pb.OS, obs), o)
	if res.Causes == nil {
		res.Causes = []result.Cause{}
	}
	res.Unverified = pb.Unverified(res.Checks, f, diagnose.Decisive(pb.OS, o, f))
	switch {
	case len(res.Causes) > 0:
		res.Status = result.Diagnosed
	case cut != "" || len(res.Unverified) > 0:
		why := cut
		if why == "" {
			why = "checks a verdict depends on gave none"
		}
		var names []string
		for _, u := range res.Unverified {
			names = append(names, u.Check+" ("+u.Reason+")")
		}
		if len(names) > 0 {
			why += "; unverified: " + strings.Join(names, ", ")
		}
		res.Status = result.Error
		res.Error = &result.HostError{Kind: result.Incomplete, Message: textsafe.Line(why+"; nothing that finished proves a cause, so the host is not called healthy", 500)}
	default:
		res.Status = result.Healthy
	}
}

// CutShort says why a script that returned did not run to its end, or "".
func CutShort(raw *frame.Raw, resp *transport.Response) string {
	switch {
	case resp.Truncated:
		return "the host's output passed the size cap (a check flooded it), so the script's end was never read"
	case raw.Done && resp.ExitCode == 0:
		return ""
	case resp.ExitCode == -1:
		return "the connection closed without an exit status before the script's end"
	case resp.ExitCode == 137 || resp.ExitCode == 265:
		return fmt.Sprintf("the script was killed (exit %d: SIGKILL, e.g. the OOM killer or a session limit)", resp.ExitCode)
	case !raw.Done:
		return fmt.Sprintf("the script stopped before its end (exit %d)", resp.ExitCode)
	default:
		return fmt.Sprintf("the script ended with exit status %d", resp.ExitCode)
	}
}

// playbookOf returns the playbook whose checks the host ran, or why the
// host's output cannot be judged: become refused, an OS no playbook
// covers, or no check script run at all.
func (s *scanner) playbookOf(h *inventory.Host, d playbook.Dialect, sc *playbook.Script, raw *frame.Raw, resp *transport.Response) (*playbook.Playbook, error) {
	if denied := privilegeDenied(h, d, raw, resp); denied != "" {
		m, _ := become.Lookup(becomeMethod(h))
		fix := m.Fix(m.Classify(denied), scanUser(h), m.Target(sc.Command))
		return nil, transport.Errorf(result.PrivilegeDenied, nil, "become (%s) was refused: %s; %s", becomeMethod(h), denied, fix)
	}
	if raw.Unsupported {
		return nil, transport.Errorf(result.UnsupportedOS, nil, "no playbook for this OS (uname -s: %s)", textsafe.Line(raw.OS, 40))
	}
	if raw.OS == "" && len(bytes.TrimSpace(resp.Stdout)) == 0 && resp.ExitCode == 0 && len(bytes.TrimSpace(resp.Stderr)) == 0 {
		return nil, transport.Errorf(result.Incomplete, nil, "the host answered nothing at all (exit 0): a forced command (ForceCommand, command= in authorized_keys) "+
			"or a shell that ignores commands stands in the way; nothing was checked, so the host is not called healthy")
	}
	if raw.Playbook == "" || len(raw.Sections) == 0 {
		hint := ""
		if m := d.Misfit(string(resp.Stderr)); m != "" {
			hint = "; " + m
		}
		return nil, transport.Errorf(result.ProtocolError, nil, "the host did not run the check script (exit %d)%s%s", resp.ExitCode, whatHostSaid(resp), hint)
	}
	// The host's answer never chooses more than the bastion sent: only a
	// playbook the script held, and (POSIX) the one its uname selects.
	pb := sc.Holds(raw.Playbook)
	if pb == nil || (pb.Uname != "" && raw.OS != pb.Uname) {
		return nil, transport.Errorf(result.ProtocolError, nil, "the host's answer claims playbook %q for OS %q, which the script sent to it cannot have run: its output is not to be trusted",
			textsafe.Line(raw.Playbook, 40), textsafe.Line(raw.OS, 40))
	}
	return pb, nil
}

// observe records what the host's checks found with what the bastion
// sees from its side: its own resolution of the manager name the host
// used, and (manager-initiated modes) the agent port from the manager.
func (s *scanner) observe(ctx context.Context, h *inventory.Host, f facts.Facts, resp *transport.Response) *result.Observed {
	obs := &result.Observed{Facts: f, Started: resp.Started, Finished: resp.Finished, ManagerReachable: s.opt.ManagerReachable, ConnectedAddr: resp.RemoteAddr}
	expired := ctx.Err() != nil // a host that ran out of time gets no new probes
	if m := f.Get("manager.host"); textsafe.HostName(m) && s.opt.Resolver != nil {
		var addrs []string
		var err error
		known := true
		if expired {
			addrs, err, known = s.opt.Resolver.Cached(m)
		} else {
			addrs, err = s.opt.Resolver.Resolve(ctx, m)
		}
		switch {
		case !known:
		case err != nil:
			obs.BastionResolveErr = textsafe.Line(err.Error(), 200)
		default:
			obs.BastionAddrs = addrs
		}
	}
	if !expired && s.opt.Diagnose.Mode != "" && s.opt.Diagnose.Mode != "agent-initiated" {
		timeout := s.opt.ProbeTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		obs.AgentPortFromManager, obs.AgentPortProbedFrom = s.agentPort(ctx, h, timeout)
	}
	return obs
}

// partial keeps what a host that ran out of time did report — the checks
// that finished — and says where it stopped, which is what an operator
// needs to find the stall: a login shell that never started the script
// (a startup file waiting on input or a lock, a hung NFS home) looks
// nothing like one check hanging on a dead DNS server.
func (s *scanner) partial(raw *frame.Raw, err error) (string, error) {
	if raw.OS == "" {
		return "", transport.Errorf(result.Timeout, err, "%v: the check script never started — the login shell printed nothing of it; "+
			"a shell startup file (~/.bashrc, ~/.profile, /etc/profile) waiting on input or a lock, or a hung home directory, "+
			"stalls every SSH command there: try `ssh HOST true`", err)
	}
	pb := s.opt.Playbooks.ForOS(raw.Playbook)
	if pb == nil || len(raw.Sections) == 0 {
		return "", err
	}
	finished := 0
	for _, sec := range raw.Sections {
		if sec.Complete {
			finished++
		}
	}
	if raw.Running == "" {
		return fmt.Sprintf("the host's deadline passed (%d of %d checks finished)", finished, len(pb.Checks)), nil
	}
	return fmt.Sprintf("the host's deadline passed: check %s never finished (%d of %d checks finished)",
		textsafe.Line(raw.Running, 60), finished, len(pb.Checks)), nil
}

// agentPort tests h's agent port from the manager's side when a manager
// host is known, else (or when that host cannot be used) from the bastion.
func (s *scanner) agentPort(ctx context.Context, h *inventory.Host, timeout time.Duration) (state, from string) {
	port := s.opt.Diagnose.AgentPort
	if v := s.opt.AgentPortVia; v != nil {
		st, err := probe.ConnectVia(ctx, v, h.Address, port, timeout)
		if err == nil || !errors.Is(err, probe.ErrViaUnusable) {
			return string(st), v.Name
		}
	}
	st, _ := probe.Connect(ctx, h.Address, port, timeout)
	return string(st), "the bastion"
}

func becomeMethod(h *inventory.Host) string {
	if h.BecomeMethod == "" {
		return "sudo"
	}
	return h.BecomeMethod
}

// whatHostSaid quotes the first lines the host printed instead of running
// the script, and names what usually says them.
func whatHostSaid(resp *transport.Response) string {
	out, errs := textsafe.FirstLines(string(resp.Stdout), 2, 200), textsafe.FirstLines(string(resp.Stderr), 2, 200)
	said := ""
	if out != "" {
		said += "; the host printed: " + strconv.Quote(out)
	}
	if errs != "" {
		said += "; stderr: " + strconv.Quote(errs)
	}
	both := strings.ToLower(out + " " + errs)
	switch {
	case strings.Contains(both, "currently not available") || strings.Contains(both, "nologin"):
		return said + " — the account's shell is nologin: give the scan user a real shell"
	case strings.Contains(both, "sftp"):
		return said + " — the account is sftp-only (ForceCommand internal-sftp): scan with another account"
	case said != "":
		return said + " — likely a ForceCommand or command= in authorized_keys, a restricted shell, or an sftp-only or nologin account"
	}
	return ""
}

// becomeListed asks the become method what the scan user may run without
// a password (sudo -n -l, dzdo -n -l: read-only) when become wanted one: a
// user allowed only listed commands gets the exact line that allows the
// become command.
func (s *scanner) becomeListed(ctx context.Context, h *inventory.Host, runner transport.Runner, sc *playbook.Script, denied error) error {
	m, ok := become.Lookup(becomeMethod(h))
	target := m.Target(sc.Command)
	if !ok || m.List == "" || target == "" {
		return denied
	}
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := runner.Run(lctx, h, transport.Request{Command: m.List})
	if err != nil || resp == nil || !strings.Contains(string(resp.Stdout), "NOPASSWD:") {
		return denied
	}
	u := scanUser(h)
	var allowed []string
	for _, l := range strings.Split(string(resp.Stdout), "\n") {
		if l = strings.TrimSpace(l); strings.Contains(l, "NOPASSWD:") {
			allowed = append(allowed, l)
		}
	}
	return transport.Errorf(result.PrivilegeDenied, nil, "become (%s) was refused: %s may run only listed commands without a password (%s: %s); %s (whyoffline runs: %s)",
		m.Name, u, m.List, textsafe.Line(strings.Join(allowed, " | "), 200), m.Fix(become.NotAllowed, u, target), textsafe.Line(sc.Command, 300))
}

func scanUser(h *inventory.Host) string {
	if h.User == "" {
		return "<scan user>"
	}
	return h.User
}

// privilegeDenied returns the refusal message when become failed.
func privilegeDenied(h *inventory.Host, d playbook.Dialect, raw *frame.Raw, resp *transport.Response) string {
	if !h.Become || len(raw.Sections) > 0 {
		return ""
	}
	if stderr := string(resp.Stderr); d.BecomeDenied(stderr) {
		return textsafe.Line(stderr, 200)
	}
	return ""
}
