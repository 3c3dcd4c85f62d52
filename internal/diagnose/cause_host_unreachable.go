package diagnose

import "github.com/whyoffline/whyoffline/internal/result"

// host-unreachable is decided by the transport (the TCP connect to the
// host's SSH or WinRM port timed out or had no route), not by a rule over
// the host's facts: see Unreachable.
func init() {
	register(Cause{
		ID:    result.HostUnreachable,
		Title: "Host is off, stopped or not routable",
		Rank:  10,
		Remedy: `Check that the machine is powered on and routable from the bastion (cloud console: instance
state; an Amazon WorkSpace being stopped shows "Offline" until it becomes "VM Stopped").
Hosts that are shut down on purpose should use a policy whose "Number of Heartbeats that can
be missed before an alert is raised" is Unlimited.`,
	})
}
