package dsmapi

import (
	"strings"
	"time"
)

// State is what the manager's record says of a computer's agent, decided
// from the record's structure — never from a word inside a longer text.
type State int

const (
	// Online: a whole "online" status (Managed (Online), 管理対象 (オンライン)).
	Online State = iota
	// Offline: a whole "offline" status (Offline, Managed (Offline),
	// オフライン, 管理対象 (オフライン)), or no status whyoffline knows and no
	// agent communication for longer than the heartbeat allows.
	Offline
	// NoAgent: no activated agent (no agent fingerprint, or an
	// Unmanaged status): nothing whose heartbeat could be missed.
	NoAgent
	// Unknown: no status whyoffline knows and a recent (or no) last
	// communication: reported as such, never guessed.
	Unknown
)

// statuses are the agent status texts the console shows, as whole
// messages, in the two languages an API key can be set to (English,
// Japanese). Sources: the vendor's "Offline agent" help page, English
// and Japanese ("Offline or Managed (Offline)" — 「オフラインまたは管理対象
// (オフライン)」), and its "Computer and agent statuses" page (Managed
// (Online) — 管理対象). A module's message ("Anti-Malware Engine Offline")
// is not a status and matches none of these.
var statuses = map[string]State{
	"offline":           Offline,
	"managed (offline)": Offline,
	"オフライン":             Offline,
	"管理対象 (オフライン)":      Offline,
	"managed (online)":  Online,
	"managed":           Online,
	"online":            Online,
	"管理対象 (オンライン)":      Online,
	"管理対象":              Online,
	"オンライン":             Online,
}

// normStatus folds what differs between consoles without changing the
// words: case, full-width parentheses and spaces, runs of white space.
func normStatus(s string) string {
	s = strings.NewReplacer("（", "(", "）", ")", "\u3000", " ").Replace(s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// isUnmanaged: the console's Unmanaged statuses (Unmanaged (No Agent),
// Unmanaged (Unknown), …; 非管理 / 管理対象外 in Japanese).
func isUnmanaged(n string) bool {
	return strings.HasPrefix(n, "unmanaged") || strings.HasPrefix(n, "管理対象外") || strings.HasPrefix(n, "非管理")
}

// HeartbeatWindow is how long an agent may be silent before the console
// raises it offline: a heartbeat every 10 minutes, two missed (the
// vendor's "Communication between … and the agent" page; not
// configurable in Server & Workload Protection).
const HeartbeatWindow = 20 * time.Minute

// State decides the computer's state at now. silent is how long an
// agent may go without communicating before it counts as offline when
// its status text is one whyoffline does not know. The second result
// says how the state was decided, for the run's log.
func (c *Computer) State(now time.Time, silent time.Duration) (State, string) {
	if silent <= 0 {
		silent = HeartbeatWindow
	}
	known, unmanaged := false, ""
	state := Unknown
	for _, m := range c.Status.AgentMessages {
		n := normStatus(m)
		if s, ok := statuses[n]; ok {
			known = true
			if s == Offline || state == Unknown {
				state = s
			}
		} else if isUnmanaged(n) {
			unmanaged = m
		}
	}
	switch {
	case known:
		return state, "status"
	case unmanaged != "":
		return NoAgent, "status " + unmanaged
	case c.AgentFingerPrint == "" && c.Status.AgentStatus != "active" && c.Status.AgentStatus != "warning" && c.Status.AgentStatus != "error":
		return NoAgent, "no activated agent"
	}
	if last := c.LastContact(); !last.IsZero() && now.Sub(last) > silent {
		return Offline, "no status whyoffline knows; no agent communication for " + now.Sub(last).Round(time.Minute).String()
	}
	return Unknown, "no status whyoffline knows"
}

// LastContact is the manager's last communication with the agent (zero
// when it has none).
func (c *Computer) LastContact() time.Time {
	if c.LastAgentCommunication <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(c.LastAgentCommunication).UTC()
}
