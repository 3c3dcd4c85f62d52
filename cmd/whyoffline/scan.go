package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/dsmapi"
	"github.com/whyoffline/whyoffline/internal/history"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/metrics"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/probe"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	sweep "github.com/whyoffline/whyoffline/internal/run"
	"github.com/whyoffline/whyoffline/internal/scan"
	"github.com/whyoffline/whyoffline/internal/shard"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
	sshtransport "github.com/whyoffline/whyoffline/internal/transport/ssh"
	"github.com/whyoffline/whyoffline/internal/transports"
)

type scanFlags struct {
	inv            inventoryFlags
	manager        string
	mode           string
	agentPort      int
	limit          string
	shard          string
	stateDir       string
	keepRuns       int
	keepFor        string
	forks          int
	timeout        time.Duration
	connectTimeout time.Duration
	perAddress     int
	knownHosts     string
	hostKeyPolicy  string
	corpNets       string
	maxSkew        time.Duration
	output         string
	out            string
	playbookDir    string
	saveRaw        string
	sshConfig      string
	user           string
	quiet          bool
	logFormat      string
	modeSet        bool // --manager-mode given: it beats the inventory's
	fromManager    string
	allComputers   bool
	unlisted       bool
	apiKeyFile     string
	apiCAFile      string
	apiAuth        string
	metricsFile    string
	failOn         string
	managerAPI     *result.ManagerAPI // what --from-manager found, for the run
}

func newScanCmd(e *env) *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan -i INVENTORY... [--manager HOST[:PORT]] [flags]",
		Short: "Scan hosts and print why their agents are offline",
		Long: `Scan logs in to every inventory host, runs the read-only checks of its OS's
playbook in one round trip, and reports per host: healthy, diagnosed (with
causes, evidence and remedies), unreachable, or error (with its kind).

With --from-manager URL, the manager's API says which computers are offline
and only those are scanned: each through its inventory entry when -i has one
(same name or address, or the same short name), else by its host name
(Windows computers over WinRM). The API key comes from WHYOFFLINE_API_KEY or
--api-key-file, never from a flag; the heartbeat manager defaults to the
URL's host, port 4120.

Secrets never come from flags: SSH passwords from WHYOFFLINE_SSH_PASSWORD(_FILE)
or a host's password_env/password_file, key passphrases from
WHYOFFLINE_KEY_PASSPHRASE(_FILE), or ssh-agent (SSH_AUTH_SOCK).

Exit codes: 0 every host healthy; 1 some host diagnosed, unreachable or in
error; 2 bad usage or input (nothing scanned); 3 the run itself failed or was
interrupted.`,
		Example: `  # the hosts the manager shows offline today, one per line
  whyoffline scan -i offline.txt --manager dsm.corp.example:4120

  # nightly sweep: Ansible inventory, 50 at a time, 45 s per host, CSV for ops review
  whyoffline scan -i /etc/ansible/hosts --manager dsm.corp.example -f 50 --timeout 45s -o csv --out /var/lib/whyoffline/sweep.csv

  # only the Solaris group, JSON saved for a later diff
  whyoffline scan -i inventory.yaml -l solaris -o json --out run-$(date +%F).json

  # only what the manager shows offline right now, with the inventory's connection details
  whyoffline scan --from-manager https://dsm.corp.example:4119 --api-key-file ~/.dsm-key -i inventory.yaml

  # a host list on stdin, first contact: record host keys of new hosts
  printf 'web01\nweb02\n' | whyoffline scan -i - --host-key-policy accept-new`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.modeSet = cmd.Flags().Changed("manager-mode")
			if err := f.inv.resolve(e); err != nil {
				return err
			}
			if err := jobShard(e, &f.shard); err != nil {
				return err
			}
			return runScan(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	f.inv.register(fl)
	fl.StringVar(&f.metricsFile, "metrics-file", "", "write the run's metrics to FILE for node_exporter's textfile collector (replaced atomically): hosts by status and cause, fleet findings, skipped hosts, new problems, duration, last (successful) run time")
	fl.StringVar(&f.failOn, "fail-on", "any", "exit status 1 when: any (a host is not healthy), new (a problem the previous run in --state-dir did not have), none (never; 0 unless the run fails)")
	fl.StringVar(&f.manager, "manager", "", "manager HOST[:PORT] the agents heartbeat to (port default 4120); an agent's own dsmUrl overrides it for that host")
	fl.StringVar(&f.mode, "manager-mode", "agent-initiated", "communication direction: agent-initiated, manager-initiated or bidirectional")
	fl.IntVar(&f.agentPort, "agent-port", 4118, "port the agent listens on for manager-initiated communication")
	fl.StringVarP(&f.limit, "limit", "l", "", "only hosts matching PATTERN: names, groups, globs; comma-separated; &x intersects, !x excludes")
	fl.StringVar(&f.stateDir, "state-dir", "", "keep every run in DIR (compressed JSON) and report per host what changed since the previous one")
	fl.IntVar(&f.keepRuns, "keep-runs", 60, "with --state-dir: keep this many runs")
	fl.StringVar(&f.keepFor, "keep-for", "90d", "with --state-dir: drop runs older than this (e.g. 90d, 2160h; 0 keeps them)")
	fl.BoolVar(&f.allComputers, "all", false, "with --from-manager: scan every computer the manager lists, not only those it shows offline")
	fl.BoolVar(&f.unlisted, "from-manager-unlisted", false, "with --from-manager and -i: also scan, by host name, computers the inventory does not have (Windows ones over HTTPS only)")
	fl.StringVar(&f.shard, "shard", "", "scan only part K of N of the selected hosts (K/N, by host name: stable across runs and bastions; job/N: a Kubernetes Indexed Job's pod, $JOB_COMPLETION_INDEX + 1); merge puts the parts together")
	fl.IntVarP(&f.forks, "forks", "f", 25, "hosts scanned at once")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "deadline for the whole scan of one host")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "deadline for the TCP connect to a host")
	fl.IntVar(&f.perAddress, "per-address", 8, "SSH logins in progress at once to one address:port (many names on one sshd or gateway; sshd MaxStartups)")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)")
	fl.StringVar(&f.hostKeyPolicy, "host-key-policy", "strict", "strict (unknown or changed keys are errors) or accept-new (record unknown keys; changed keys are still errors)")
	fl.StringVar(&f.corpNets, "corporate-networks", "", "CIDR,... of the corporate networks; hosts entirely outside are reported off-network")
	fl.DurationVar(&f.maxSkew, "max-clock-skew", 2*time.Minute, "host clock difference from the bastion that counts as clock-skew")
	fl.StringVarP(&f.output, "output", "o", "", report.NamesText()+" (default: table on a terminal, else from --out's extension, else json)")
	fl.StringVar(&f.out, "out", "", "write the report to FILE (atomically) instead of stdout")
	fl.StringVar(&f.playbookDir, "playbooks", "", "directory whose *.yaml files override the embedded playbooks")
	fl.StringVar(&f.saveRaw, "save-raw", "", "keep each host's raw script output and scan context in DIR (for bug reports and regression vectors; readable by you only)")
	fl.StringVar(&f.sshConfig, "ssh-config", "", "ssh_config file for HostName/User/Port/IdentityFile/ProxyJump (default ~/.ssh/config; none to ignore)")
	fl.StringVarP(&f.user, "user", "u", "", "login user for hosts whose inventory and ssh_config name none (default $USER)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar on stderr")
	fl.StringVar(&f.logFormat, "log-format", "", "structured logs on stderr for cron and journald: text or json (a line per host and per run)")
	fl.StringVar(&f.fromManager, "from-manager", "", "scan only the computers this manager (https://HOST:4119) shows offline, via its API")
	fl.StringVar(&f.apiKeyFile, "api-key-file", "", "file holding the manager API key for --from-manager (else $WHYOFFLINE_API_KEY)")
	fl.StringVar(&f.apiCAFile, "api-ca-file", "", "CA certificate (PEM) the manager's HTTPS certificate is issued by, for --from-manager")
	fl.StringVar(&f.apiAuth, "api-auth", "", "the --from-manager key's kind: secret (api-secret-key: on-premises, Server & Workload Protection, legacy Workload Security keys) or apikey (Authorization: ApiKey: Trend Cloud One keys); default: try secret, then apikey after a 401")
	return cmd
}

// scanSetup is everything validated before the first host is contacted.
type scanSetup struct {
	hosts   []*inventory.Host
	set     *playbook.Set
	diag    *diagnose.Options
	params  playbook.Params
	clients transports.Clients
	format  string
	via     *probe.Via    // where agent ports are tested from (nil: the bastion)
	shard   *result.Shard // --shard: this run's part of the fleet
	// skipped: inventory hosts in --limit (and this shard) not scanned
	skipped []result.Skipped
}

func prepareScan(ctx context.Context, e *env, f *scanFlags) (*scanSetup, error) {
	nets, err := checkScanFlags(f)
	if err != nil {
		return nil, err
	}
	format, err := chooseFormat(e, f.output, f.out)
	if err != nil {
		return nil, err
	}
	inv, hosts, err := selectHosts(ctx, e, f)
	if err != nil {
		return nil, err
	}
	hosts, part, err := shardHosts(e, f, hosts)
	if err != nil {
		return nil, err
	}
	type checks struct {
		set *playbook.Set
		rem *diagnose.Remedies
	}
	c, err := untilDone(ctx, "the playbooks", func() (checks, error) {
		set, rem, err := loadChecks(f.playbookDir)
		return checks{set, rem}, err
	})
	if err != nil {
		return nil, err
	}
	set, remedies := c.set, c.rem
	if f.saveRaw != "" {
		if err := os.MkdirAll(f.saveRaw, 0o700); err != nil {
			return nil, usageErr("--save-raw %s: %v", f.saveRaw, err)
		}
	}
	spec, mode, err := sweep.Manager(f.manager, f.mode, f.modeSet, inv.Manager, f.fromManager)
	if err != nil {
		return nil, usageWrap(err)
	}
	mhost, mport, err := parseManager(spec, 4120)
	if err != nil {
		return nil, usageWrap(err)
	}
	if mport == 0 {
		mport = 4120
	}
	s := &scanSetup{hosts: hosts, set: set, format: format, shard: part, skipped: skippedHosts(e, f, inv)}
	if s.clients, err = newTransports(e, f, hosts); err != nil {
		return nil, err
	}
	if mode != "agent-initiated" {
		s.via = agentPortVia(inv, s.clients)
	}
	s.params = playbook.Params{Manager: mhost, Port: mport, AgentPort: f.agentPort, Mode: mode}
	s.diag = &diagnose.Options{
		Manager: mhost, Port: mport, AgentPort: f.agentPort, Mode: mode, MaxClockSkew: f.maxSkew,
		CorporateNetworks: nets, Thresholds: set.Causes.Thresholds, Remedies: remedies,
	}
	return s, nil
}

// checkScanFlags validates the flags that need no file or network, and
// returns the parsed --corporate-networks.
func checkScanFlags(f *scanFlags) ([]netip.Prefix, error) {
	if err := checkAlertFlags(f); err != nil {
		return nil, err
	}
	if !f.inv.given() && f.fromManager == "" {
		return nil, usageErr("no inventory: pass -i FILE or DIR (or -i - for ansible-inventory --list output or a host list on stdin), set ANSIBLE_INVENTORY or ansible.cfg's inventory, or use --from-manager URL; see whyoffline scan --help")
	}
	switch f.mode {
	case "agent-initiated", "manager-initiated", "bidirectional":
	default:
		return nil, usageErr("--manager-mode %q: use agent-initiated, manager-initiated or bidirectional", f.mode)
	}
	if f.forks < 1 || f.forks > 5000 {
		return nil, usageErr("--forks %d: give a number from 1 to 5000", f.forks)
	}
	if f.logFormat != "" && f.logFormat != "text" && f.logFormat != "json" {
		return nil, usageErr("--log-format %q: use text or json", f.logFormat)
	}
	if f.perAddress < 1 {
		return nil, usageErr("--per-address %d: give at least 1", f.perAddress)
	}
	if f.timeout <= 0 || f.connectTimeout <= 0 || f.maxSkew <= 0 {
		return nil, usageErr("--timeout, --connect-timeout and --max-clock-skew must be positive durations like 30s or 2m")
	}
	if f.agentPort < 1 || f.agentPort > 65535 {
		return nil, usageErr("--agent-port %d: give a port from 1 to 65535", f.agentPort)
	}
	if f.hostKeyPolicy != sshtransport.Strict && f.hostKeyPolicy != sshtransport.AcceptNew {
		return nil, usageErr("--host-key-policy %q: use strict or accept-new", f.hostKeyPolicy)
	}
	var nets []netip.Prefix
	for _, c := range strings.Split(f.corpNets, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, usageErr("--corporate-networks: %q is not a CIDR like 10.0.0.0/8", c)
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

// selectHosts loads the inventories, asks the manager which computers are
// offline (--from-manager) and applies --limit.
func selectHosts(ctx context.Context, e *env, f *scanFlags) (*inventory.Inventory, []*inventory.Host, error) {
	inv := &inventory.Inventory{}
	var err error
	if f.inv.given() {
		inv, err = untilDone(ctx, "the inventory", func() (*inventory.Inventory, error) {
			return f.inv.load(e)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	candidates := inv.Hosts
	if f.fromManager != "" {
		if candidates, err = offlineHosts(ctx, e, f, inv.Hosts); err != nil {
			return nil, nil, err
		}
	}
	hosts, err := inventory.Limit(candidates, f.limit)
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	switch {
	case len(hosts) == 0 && len(selectSkipped(f, inv)) > 0:
		// every host is one whyoffline cannot scan: the report says so
	case len(hosts) == 0 && f.fromManager != "":
		// nothing offline (or nothing offline in --limit) is a good night,
		// not bad input: an empty report, exit 0
		fmt.Fprintf(e.stderr, "whyoffline: no offline computer to scan (%d offline, --limit %q)\n", len(candidates), f.limit)
	case len(hosts) == 0 && f.limit != "":
		return nil, nil, usageErr("--limit %q matches none of the %d inventory hosts", f.limit, len(inv.Hosts))
	case len(hosts) == 0:
		return nil, nil, usageErr("the inventory has no hosts")
	}
	return inv, hosts, nil
}

// scanHistory is the state directory of a scan with --state-dir.
type scanHistory struct {
	store    *history.Store
	previous *history.Previous
	past     []diagnose.PastRun
	maxAge   time.Duration
}

// recentRuns is how many past runs rules that look across runs read
// (scheduled-downtime): two weeks of a nightly and a daytime run.
const recentRuns = 28

// openHistory opens --state-dir and reads its last run (nil without the
// flag).
func openHistory(f *scanFlags) (*scanHistory, error) {
	if f.stateDir == "" {
		return nil, nil
	}
	maxAge, err := parseAge(f.keepFor)
	if err != nil {
		return nil, usageErr("--keep-for %q: %v", f.keepFor, err)
	}
	store, err := history.Open(f.stateDir, buildVersion())
	if err != nil {
		return nil, usageWrap(err)
	}
	last, err := store.Latest()
	if err != nil {
		return nil, usageErr("--state-dir: the last run cannot be read: %v (move it aside)", err)
	}
	recent, err := store.Recent(recentRuns)
	if err != nil {
		return nil, usageErr("--state-dir: %v", err)
	}
	past := make([]diagnose.PastRun, len(recent))
	for i, r := range recent {
		past[i] = diagnose.PastRun{At: r.At, Status: r.Status}
	}
	return &scanHistory{store: store, previous: history.Index(last), past: past, maxAge: maxAge}, nil
}

// parseAge reads a duration, with d for days ("90d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("give days as 90d, or a duration like 2160h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("give days as 90d, or a duration like 2160h")
	}
	return v, nil
}

// skippedHosts are the inventory's hosts that will not be scanned, as far
// as --limit and --shard select them (none with --from-manager: the
// manager's list decides what is scanned).
func skippedHosts(e *env, f *scanFlags, inv *inventory.Inventory) []result.Skipped {
	out := selectSkipped(f, inv)
	if len(out) > 0 && !f.quiet {
		fmt.Fprintf(e.stderr, "whyoffline: %d inventory host(s) skipped, not scanned (a connection or become method whyoffline cannot use): listed in the report\n", len(out))
	}
	return out
}

// selectSkipped is skippedHosts without a word on stderr.
func selectSkipped(f *scanFlags, inv *inventory.Inventory) []result.Skipped {
	if len(inv.Skipped) == 0 || f.fromManager != "" {
		return nil
	}
	as := make([]*inventory.Host, len(inv.Skipped))
	for i, sk := range inv.Skipped {
		as[i] = &inventory.Host{Name: sk.Name, Address: sk.Name, Groups: sk.Groups}
	}
	sel, err := inventory.Limit(as, f.limit)
	if err != nil {
		return nil
	}
	if f.shard != "" {
		if spec, err := shard.Parse(f.shard); err == nil {
			sel = shard.Select(sel, spec)
		}
	}
	keep := map[string]bool{}
	for _, h := range sel {
		keep[h.Name] = true
	}
	var out []result.Skipped
	for _, sk := range inv.Skipped {
		if keep[sk.Name] {
			out = append(out, result.Skipped{Name: sk.Name, Source: sk.Source, Reason: sk.Reason})
		}
	}
	return out
}

// shardHosts keeps --shard K/N's part of the selected hosts and describes
// it for the report, so that merge can check the parts fit together.
func shardHosts(e *env, f *scanFlags, hosts []*inventory.Host) ([]*inventory.Host, *result.Shard, error) {
	if f.shard == "" {
		return hosts, nil, nil
	}
	spec, err := shard.Parse(f.shard)
	if err != nil {
		return nil, nil, usageWrap(err)
	}
	part := &result.Shard{Index: spec.Index, Count: spec.Count, Fleet: len(hosts), Digest: shard.Digest(hosts)}
	mine := shard.Select(hosts, spec)
	if len(mine) == 0 {
		fmt.Fprintf(e.stderr, "whyoffline: shard %d/%d holds none of the %d selected hosts: an empty report\n", spec.Index, spec.Count, len(hosts))
	}
	return mine, part, nil
}

// newTransports opens every transport's client (internal/transports)
// and checks every host's keys, passwords and settings before anything
// is contacted.
func newTransports(e *env, f *scanFlags, hosts []*inventory.Host) (transports.Clients, error) {
	home := homeDir(e.getenv)
	known := []string{filepath.Join(home, ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"}
	if f.knownHosts != "" {
		known = []string{f.knownHosts}
	}
	cs, err := transports.Open(transportSettings(e, f.sshConfig, f.user, f.connectTimeout, transports.Settings{
		KnownHosts: known, HostKeyPolicy: f.hostKeyPolicy, MaxPerAddress: f.perAddress,
	}), false, hosts)
	if err != nil {
		return nil, usageWrap(err)
	}
	warnTransports(e, cs, hosts)
	return cs, nil
}

// warnTransports prints what the transports warn of for hosts (an
// ssh_config line ignored, WinRM certificates not verified).
func warnTransports(e *env, cs transports.Clients, hosts []*inventory.Host) {
	for _, w := range cs.Warnings(hosts) {
		fmt.Fprintf(e.stderr, "whyoffline: WARNING: %s\n", textsafe.Line(w, 300))
	}
}

// transportSettings are the run's settings every transport reads, on top
// of s's transport-specific ones.
func transportSettings(e *env, sshConfig, user string, connectTimeout time.Duration, s transports.Settings) transports.Settings {
	s.Getenv, s.Dial, s.ConnectTimeout = e.getenv, e.dial, connectTimeout
	s.User, s.Home, s.SSHConfigFile = user, homeDir(e.getenv), sshConfigPath(e, sshConfig)
	return s
}

// agentPortVia is the manager host (role: manager) the agent port is
// probed from in manager-initiated modes, if the inventory names one its
// transport can open a TCP connection from.
func agentPortVia(inv *inventory.Inventory, cs transports.Clients) *probe.Via {
	for _, h := range inv.Hosts {
		d, ok := cs[h.Transport].(interface {
			DialFrom(ctx context.Context, via *inventory.Host, addr string) (net.Conn, error)
		})
		if h.Role == "manager" && ok {
			mh := h
			return &probe.Via{Name: "manager host " + mh.Name, Dial: func(ctx context.Context, addr string) (net.Conn, error) {
				return d.DialFrom(ctx, mh, addr)
			}}
		}
	}
	return nil
}

func chooseFormat(e *env, output, out string) (string, error) {
	format := output
	if format == "" && out != "" {
		format = report.FormatForFile(out)
	}
	if format == "" {
		if e.stdoutTTY && out == "" {
			format = "table"
		} else {
			format = "json"
		}
	}
	if _, ok := report.LookupFormat(format); ok {
		return format, nil
	}
	return "", usageErr("-o %q: use %s", format, report.NamesText())
}

func runScan(ctx context.Context, e *env, f *scanFlags) error {
	s, err := prepareScan(ctx, e, f)
	if err != nil {
		return err
	}
	defer s.clients.Close()

	// Open the destination only now: bad input above writes nothing.
	out, err := openOutput(e, f.out)
	if err != nil {
		return err
	}
	hist, err := openHistory(f)
	if err != nil {
		return out.finish(err)
	}
	writer, err := out.writerWith(e, s.format, report.Options{History: hist != nil, ManagerStatus: f.fromManager != ""})
	if err != nil {
		return out.finish(usageWrap(err))
	}
	var rec *history.Recorder
	if hist != nil {
		if rec, err = hist.store.Record(time.Now()); err != nil {
			return out.finish(failed(err))
		}
		writer = report.Tee(writer, rec)
	}
	// counts for --metrics-file and --fail-on, taken as hosts finish
	tally := metrics.NewTally()
	writer = report.Tee(writer, tally)
	progress := newProgress(e, len(s.hosts), !f.quiet && e.stderrTTY, newLogger(e, f.logFormat))
	progress.start(s.params.Manager, f.forks)
	secrets := newRunSecrets(e, f)
	cfg := sweep.Config{
		Hosts: s.hosts, Skipped: s.skipped, Shard: s.shard, ConnectTimeout: f.connectTimeout, Progress: progress.step,
		Scan: scan.Options{
			Forks: f.forks, Timeout: f.timeout, Playbooks: s.set, Params: s.params, Diagnose: s.diag,
			Runners:      s.clients.Runners(),
			ProbeTimeout: f.connectTimeout, AgentPortVia: s.via,
			Secrets: secrets.forHost,
			RawDir:  f.saveRaw, RawErr: func(host string, err error) {
				fmt.Fprintf(e.stderr, "whyoffline: --save-raw: %s: %v\n", textsafe.Line(host, 80), err)
			},
		},
	}
	if hist != nil {
		cfg.Previous, cfg.Past = hist.previous, hist.past
	}
	cfg.ManagerAPI = f.managerAPI
	cfg.Secrets = secrets.run
	tool := buildInfo()
	cfg.Tool = &tool
	r, err := sweep.Sweep(ctx, cfg, writer)
	progress.done()
	if rec != nil {
		// an interrupted or failed run is not history: the last good
		// one stays the one the next run compares with
		if err != nil || ctx.Err() != nil {
			rec.Abort()
		} else if cerr := rec.Commit(); cerr != nil {
			return out.finish(failed(cerr))
		} else if _, perr := hist.store.Prune(f.keepRuns, hist.maxAge, time.Now()); perr != nil {
			fmt.Fprintf(e.stderr, "whyoffline: --state-dir: pruning old runs: %v\n", perr)
		}
	}
	if f.metricsFile != "" && r != nil {
		if merr := metrics.Write(f.metricsFile, tally, err == nil && ctx.Err() == nil, time.Now()); merr != nil && err == nil {
			err = fmt.Errorf("--metrics-file: %v", merr)
		}
	}
	if err != nil {
		return out.finish(failed(err))
	}
	if err := out.finish(nil); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return failed(errors.New("interrupted: hosts not scanned are reported with error kind interrupted"))
	}
	return failOn(f.failOn, r, tally)
}

// checkAlertFlags validates --fail-on and --metrics-file.
func checkAlertFlags(f *scanFlags) error {
	switch f.failOn {
	case "any", "none":
	case "new":
		if f.stateDir == "" {
			return usageErr("--fail-on new compares with the previous run: give --state-dir DIR")
		}
	default:
		return usageErr("--fail-on %q: use any, new or none", f.failOn)
	}
	if f.metricsFile != "" {
		if st, err := os.Stat(filepath.Dir(f.metricsFile)); err != nil || !st.IsDir() {
			return usageErr("--metrics-file %s: its directory does not exist (node_exporter's --collector.textfile.directory)", f.metricsFile)
		}
	}
	return nil
}

// failOn is the exit status --fail-on asks for.
func failOn(policy string, r *result.Run, t *metrics.Tally) error {
	switch {
	case policy == "none":
		return nil
	case policy == "new" && t.NewProblems() == 0:
		return nil
	case policy == "new":
		return &exitError{code: exitFindings}
	case !r.Summary.AllHealthy():
		return &exitError{code: exitFindings}
	}
	return nil
}

func unwrap(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// managerComputer is what the scan keeps of a computer's record.
func managerComputer(c *dsmapi.Computer) inventory.Computer {
	rec := &result.ManagerComputer{ID: c.ID, Status: c.StatusText(), AgentStatus: textsafe.Line(c.Status.AgentStatus, 40),
		AgentVersion: textsafe.Line(c.AgentVersion, 60), Platform: textsafe.Line(c.Platform, 120), LastIP: textsafe.Line(c.LastIPUsed, 60),
		InstanceID: textsafe.Line(c.InstanceID(), 80)}
	if t := c.LastContact(); !t.IsZero() {
		rec.OfflineSince = &t
	}
	return inventory.Computer{Name: c.HostName, DisplayName: c.DisplayName, LastIP: c.LastIPUsed, InstanceID: c.InstanceID(),
		Windows: c.Windows(), Status: c.StatusText(), Record: rec}
}

// authName says a key kind for people.
func authName(kind string) string {
	if kind == dsmapi.AuthAPIKey {
		return "Cloud One API (Authorization: ApiKey)"
	}
	return "console API (api-secret-key)"
}

// envAPIKey holds the manager API key for --from-manager.
const envAPIKey = "WHYOFFLINE_API_KEY"

// offlineHosts asks the manager which computers are offline and returns
// the hosts to scan for them (see inventory.ForComputers), saying on
// stderr which ones the inventory did not have.
func offlineHosts(ctx context.Context, e *env, f *scanFlags, known []*inventory.Host) ([]*inventory.Host, error) {
	key := e.getenv(envAPIKey)
	if f.apiKeyFile != "" {
		var err error
		if key, err = transport.ReadSecretFile(f.apiKeyFile, "--api-key-file"); err != nil {
			return nil, usageWrap(err)
		}
	}
	cfg := dsmapi.Config{URL: f.fromManager, APIKey: key, CAFile: f.apiCAFile, Timeout: 2 * time.Minute, Auth: f.apiAuth}
	// how long the first retry of a busy manager waits (tests; not a flag)
	if d, err := time.ParseDuration(e.getenv("WHYOFFLINE_API_RETRY_BASE")); err == nil {
		cfg.RetryBase = d
	}
	client, err := dsmapi.New(cfg)
	if err != nil {
		return nil, usageWrap(err)
	}
	all, err := client.Computers(ctx)
	if err != nil {
		var de *dsmapi.Error
		if errors.As(err, &de) && de.BadInput {
			return nil, usageWrap(err)
		}
		return nil, failed(err)
	}
	product := dsmapi.ProductOf(f.fromManager)
	api := &result.ManagerAPI{URL: textsafe.Line(f.fromManager, 200), Product: product.Name, Auth: client.Auth(), Computers: len(all)}
	f.managerAPI = api
	now := time.Now()
	var offline []inventory.Computer
	unknownTexts := map[string]bool{}
	for i := range all {
		c := &all[i]
		state, _ := c.State(now, 0)
		if state == dsmapi.Unknown {
			api.UnknownStatus++
			if t := textsafe.Line(strings.Join(c.Status.AgentMessages, "; "), 80); len(unknownTexts) < 10 {
				unknownTexts[t] = true
			}
		}
		if f.allComputers || state == dsmapi.Offline {
			offline = append(offline, managerComputer(c))
		}
		if state == dsmapi.Offline {
			api.Offline++
		}
	}
	for t := range unknownTexts {
		api.UnknownStatusTexts = append(api.UnknownStatusTexts, t)
	}
	sort.Strings(api.UnknownStatusTexts)
	m := inventory.ForComputers(known, offline)
	hosts, unknown, invalid := m.Scan, m.Unknown, m.Invalid
	api.Ambiguous = m.Ambiguous
	if f.allComputers {
		fmt.Fprintf(e.stderr, "whyoffline: the manager (%s, %s key) lists %d computers (--all: every one is scanned)\n", product.Name, authName(client.Auth()), len(all))
	} else {
		fmt.Fprintf(e.stderr, "whyoffline: the manager (%s, %s key) shows %d of %d computers offline\n", product.Name, authName(client.Auth()), api.Offline, len(all))
	}
	if api.UnknownStatus > 0 {
		fmt.Fprintf(e.stderr, "whyoffline: %d computer(s) have a status whyoffline does not know and communicated within %s, so they are not called offline: %s\n",
			api.UnknownStatus, dsmapi.HeartbeatWindow, textsafe.Line(strings.Join(api.UnknownStatusTexts, " | "), 300))
	}
	for _, a := range m.Ambiguous {
		fmt.Fprintf(e.stderr, "whyoffline: ambiguous: %s\n", textsafe.Line(a, 400))
	}
	if len(unknown) > 0 {
		if f.unlisted || len(known) == 0 {
			fmt.Fprintf(e.stderr, "whyoffline: %d computer(s) not in the inventory, reached by host name: %s\n",
				len(unknown), textsafe.Line(strings.Join(unknown, ", "), 300))
		} else {
			// the run's credentials go only to hosts the inventory names,
			// unless asked: a name from the manager's database is not a
			// host the operator vouched for
			skip := map[string]bool{}
			for _, u := range unknown {
				skip[u] = true
			}
			kept := hosts[:0]
			for _, h := range hosts {
				if !skip[h.Name] {
					kept = append(kept, h)
				}
			}
			hosts = kept
			fmt.Fprintf(e.stderr, "whyoffline: skipped %d computer(s) the inventory does not have (--from-manager-unlisted scans them by host name): %s\n",
				len(unknown), textsafe.Line(strings.Join(unknown, ", "), 300))
		}
	}
	if len(invalid) > 0 {
		fmt.Fprintf(e.stderr, "whyoffline: skipped %d offline computer(s) whose manager host name is not a host name: %s\n",
			len(invalid), textsafe.Line(strings.Join(invalid, ", "), 300))
	}
	return hosts, nil
}

// jobShard turns --shard job/N into K/N for the pod of a Kubernetes
// Indexed Job: its $JOB_COMPLETION_INDEX is 0-based, K is 1-based. The
// manifests need no shell to do the arithmetic.
func jobShard(e *env, spec *string) error {
	n, ok := strings.CutPrefix(*spec, "job/")
	if !ok {
		return nil
	}
	idx, err := strconv.Atoi(e.getenv("JOB_COMPLETION_INDEX"))
	if err != nil || idx < 0 {
		return usageErr("--shard job/%s: $JOB_COMPLETION_INDEX is not set to a pod index (it is set in a Kubernetes Indexed Job's pods); elsewhere give --shard K/N", n)
	}
	*spec = strconv.Itoa(idx+1) + "/" + n
	return nil
}
