// Package run is one sweep from start to report, independent of flags:
// which manager a run checks against, the bastion's own probe of it, the
// scan of every host, the fleet findings and the report's memory policy.
// The command files only turn flags into a Config.
package run

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/dsmapi"
	"github.com/whyoffline/whyoffline/internal/history"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/probe"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/scan"
	"github.com/whyoffline/whyoffline/internal/secret"
)

// Config is one sweep.
type Config struct {
	Hosts []*inventory.Host
	// Skipped are inventory hosts not scanned, reported with their reason.
	Skipped []result.Skipped
	// Scan carries the scanner's settings; Sweep fills in the resolver,
	// the bastion's view of the manager and the manager's address.
	Scan scan.Options
	// ConnectTimeout bounds the bastion's own probes (manager, ports).
	ConnectTimeout time.Duration
	// Shard, if set, is the part of the fleet Hosts are (scan --shard).
	Shard *result.Shard
	// Previous is the last run kept in the state directory: each host is
	// told what changed since (nil: no history). Past are the statuses of
	// the recent runs there, for rules that look across runs.
	Previous *history.Previous
	Past     []diagnose.PastRun
	// Progress, if set, is told of every host as it finishes.
	Progress func(*result.Host)
	// ManagerAPI records the run's use of the manager's API
	// (--from-manager), kept in the run.
	ManagerAPI *result.ManagerAPI
	// Tool is the build that runs the sweep, recorded in the run.
	Tool *result.Tool
	// Secrets are the run's own (API key, passwords from the
	// environment): hidden from what the run says beside its hosts —
	// findings' evidence, skipped hosts' reasons, the manager API's
	// record. Each host's result is scrubbed by the scan
	// (Scan.Secrets).
	Secrets *secret.Scrubber
}

// Sweep scans every host, writes each result and then the run's end to w,
// and returns the run. The error is the writer's; hosts never fail a sweep.
func Sweep(ctx context.Context, cfg Config, w report.Writer) (*result.Run, error) {
	opt := cfg.Scan
	d := opt.Diagnose
	manager, settings := d.RunContext()
	run := &result.Run{Schema: result.Schema, Started: time.Now().UTC(), Manager: manager, Fleet: []result.Finding{}, Settings: settings, Shard: cfg.Shard,
		Skipped: cfg.Skipped}
	run.Summary.Skipped = len(cfg.Skipped)
	run.Tool = cfg.Tool
	if run.Manager != nil {
		run.Manager.API = cfg.ManagerAPI
	}
	resolver := &probe.Resolver{Timeout: cfg.ConnectTimeout}
	opt.Resolver = resolver
	var probeView *diagnose.ManagerProbe
	if manager != nil {
		mp := probe.CheckManager(ctx, resolver, manager.Host, manager.Port, cfg.ConnectTimeout)
		probeView = &diagnose.ManagerProbe{Host: mp.Host, Port: mp.Port, Addresses: mp.Addresses, PortState: string(mp.Heartbeat),
			Cert: certInfo(mp.Cert), PreviousCert: cfg.Previous.ManagerCert(mp.Host, mp.Port), Now: time.Now()}
		run.ManagerCert = probeView.Cert
		if mp.ResolveErr != nil {
			probeView.ResolveErr = mp.ResolveErr.Error()
		}
		ok := mp.Reachable()
		opt.ManagerReachable = &ok
		if len(mp.Addresses) > 0 {
			// a host that cannot resolve the name still gets its port
			// tested against the bastion's address for it
			if a, err := netip.ParseAddr(mp.Addresses[0]); err == nil {
				opt.Params.ManagerAddr = a.Unmap().String()
			}
		}
	}
	// A writer that streams (report.Streams) has each host from Host: the
	// sweep then keeps only the hosts fleet findings read (role: manager)
	// and memory stays flat in fleet size. Otherwise every result is kept
	// for a report rendered at the end.
	streaming := report.Streams(w)
	var hosts []result.Host
	if !streaming {
		hosts = make([]result.Host, len(cfg.Hosts))
	}
	var writeErr error
	// every host's digest, for the fleet rules (a few dozen bytes a host)
	digests := make([]diagnose.Digest, 0, len(cfg.Hosts))
	scan.Run(ctx, cfg.Hosts, opt, func(r scan.Result) {
		cfg.Previous.Annotate(&r.Host, run.Started)
		digests = append(digests, r.Digest)
		switch {
		case !streaming:
			hosts[r.Index] = r.Host
		case r.Host.Role == "manager":
			hosts = append(hosts, r.Host)
		}
		run.Summary.Add(&r.Host)
		if cfg.Progress != nil {
			cfg.Progress(&r.Host)
		}
		if writeErr == nil {
			writeErr = w.Host(r.Index, &r.Host)
		}
	})
	run.Hosts = hosts
	run.Finished = time.Now().UTC()
	run.Fleet = diagnose.FleetOf(&diagnose.FleetInput{Probe: probeView, Hosts: run.Hosts, Digests: digests, Past: cfg.Past, Now: run.Started}, d)
	if !streaming {
		// the report holds every host: mark the causes a finding explains
		diagnose.LinkFleet(run.Hosts, run.Fleet)
	}
	hostsKept := run.Hosts
	run.Hosts = nil
	cfg.Secrets.ScrubAll(run)
	run.Hosts = hostsKept
	if writeErr == nil {
		writeErr = w.End(run)
	}
	if writeErr != nil {
		return run, fmt.Errorf("writing the report: %v", writeErr)
	}
	return run, nil
}

// Manager is the manager a run checks against and its mode, by precedence:
// --manager, then the inventory's manager: (whose mode applies unless
// --manager-mode was given), then the host of --from-manager's URL (on a
// single-node manager the console's host is the heartbeat's too). An
// agent's own dsmUrl still wins for its host, later. It returns the spec
// HOST[:PORT] still to be parsed, and the mode.
func Manager(flagSpec, flagMode string, flagModeSet bool, inv inventory.Manager, fromManager string) (spec, mode string, err error) {
	spec, mode = flagSpec, flagMode
	if spec == "" && inv.Host != "" {
		spec = inv.Host
		if inv.Port > 0 {
			spec = fmt.Sprintf("%s:%d", inv.Host, inv.Port)
		}
		if inv.Mode != "" && !flagModeSet {
			mode = inv.Mode
		}
	}
	if spec == "" && fromManager != "" {
		// where the console's agents heartbeat: a SaaS console's agents
		// use a separate address on 443, never the console on 4120
		p := dsmapi.ProductOf(fromManager)
		if p.Agents == "" {
			return "", "", fmt.Errorf("--from-manager: %s; give the address agents heartbeat to with --manager HOST:PORT (the agents' own dsmUrl still wins per host)", p.Why)
		}
		spec = p.Agents
	}
	return spec, mode, nil
}

// certInfo is what a report keeps of a certificate (nil for none).
func certInfo(c *x509.Certificate) *result.CertInfo {
	if c == nil {
		return nil
	}
	sum := sha256.Sum256(c.Raw)
	return &result.CertInfo{Subject: c.Subject.String(), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Fingerprint: hex.EncodeToString(sum[:])}
}
