package main

import (
	"fmt"

	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/whyoffline/whyoffline/internal/result"
)

// progress shows the sweep as it goes: a bar on a terminal's stderr
// (done/total, counts by status, ETA), and with --log-format a structured
// line per host and per run for cron mail and journald. Neither touches
// stdout, where the report goes.
type progress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar // nil: no terminal, or --quiet
	log    *slog.Logger             // nil: no --log-format
	total  int
	counts result.Summary
	began  time.Time
}

// newLogger is the --log-format logger (nil for none).
func newLogger(e *env, format string) *slog.Logger {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	return nil
}

func newProgress(e *env, total int, bar bool, log *slog.Logger) *progress {
	p := &progress{log: log, total: total, began: time.Now()}
	if bar && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("scanning"),
		)
	}
	return p
}

func (p *progress) start(manager string, forks int) {
	if p.log != nil {
		p.log.Info("sweep started", "hosts", p.total, "manager", manager, "forks", forks)
	}
}

// step counts one finished host.
func (p *progress) step(h *result.Host) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Add(h)
	if p.bar != nil {
		s := p.counts
		p.bar.Describe(fmt.Sprintf("%d healthy, %d diagnosed, %d unreachable, %d error", s.Healthy, s.Diagnosed, s.Unreachable, s.Error))
		_ = p.bar.Add(1)
	}
	if p.log != nil {
		attrs := []any{"host", h.Name, "status", string(h.Status), "duration_ms", h.DurationMS}
		if len(h.Causes) > 0 {
			attrs = append(attrs, "cause", h.Causes[0].ID)
		}
		if h.Error != nil {
			attrs = append(attrs, "error", string(h.Error.Kind))
		}
		if h.Change != nil {
			attrs = append(attrs, "change", h.Change.Kind)
		}
		p.log.Info("host scanned", attrs...)
	}
}

// done clears the bar and logs the run's summary.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Exit()
	}
	if p.log != nil {
		s := p.counts
		p.log.Info("sweep finished", "hosts", s.Hosts, "healthy", s.Healthy, "diagnosed", s.Diagnosed,
			"unreachable", s.Unreachable, "error", s.Error, "seconds", int(time.Since(p.began).Seconds()))
	}
}
