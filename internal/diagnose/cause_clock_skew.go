package diagnose

import (
	"fmt"
	"time"

	"github.com/whyoffline/whyoffline/internal/result"
)

func init() {
	register(Cause{
		ID:    result.ClockSkew,
		Title: "Host clock is wrong",
		Rank:  110,
		Needs: []string{"clock.epoch"},
		Rule:  clockSkew,
		Remedy: `Correct the host's time and keep it synchronised (chronyd/ntpd/systemd-timesyncd); the
agent's TLS connection to the manager fails when clocks disagree.{{if .Detail}} {{.Detail}}{{end}}`,
		RemedyOS: map[string]string{
			"solaris": `Correct the host's time and keep it synchronised (svcadm enable svc:/network/ntp:default);
the agent's TLS connection to the manager fails when clocks disagree.`,
			"aix": `Correct the host's time and keep it synchronised (startsrc -s xntpd); the agent's TLS
connection to the manager fails when clocks disagree.`,
			"windows": `Correct the host's time and keep it synchronised (w32tm /resync; check the Windows Time
service); the agent's TLS connection to the manager fails when clocks disagree.`,
		},
	})
}

func clockSkew(in *Input, o *Options) *Finding {
	epoch, ok := in.Facts.Int("clock.epoch")
	if !ok || in.Window.Start.IsZero() || o.MaxClockSkew <= 0 {
		return nil
	}
	host := time.Unix(epoch, 0).UTC()
	// The host read its clock somewhere between Start and End on ours;
	// only what lies outside that window (±1s for whole seconds) is skew.
	var skew time.Duration
	switch {
	case host.Before(in.Window.Start.Add(-time.Second)):
		skew = host.Sub(in.Window.Start)
	case host.After(in.Window.End.Add(time.Second)):
		skew = host.Sub(in.Window.End)
	}
	if skew.Abs() <= o.MaxClockSkew {
		return nil
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	ev := fmt.Sprintf("host clock %s is %s %s the bastion's (%s; limit %s)",
		host.Format(time.RFC3339), skew.Abs().Round(time.Second), dir, in.Window.Start.UTC().Format(time.RFC3339), o.MaxClockSkew)
	return &Finding{Confidence: result.Confirmed, Evidence: []string{ev},
		Detail: fmt.Sprintf("The host is %s %s the bastion.", skew.Abs().Round(time.Second), dir)}
}
