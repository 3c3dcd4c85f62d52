package playbook

import (
	"strings"

	"github.com/whyoffline/whyoffline/internal/frame"
)

// Dialect is one kind of check script: how it is rendered for a host, how
// the host's output is read back, and how a refused privilege or a host
// of the other kind shows. The scanner asks the set for the dialect of a
// host's OS and never branches on the OS itself.
type Dialect interface {
	// Name is "posix" or "powershell".
	Name() string
	// Render builds the script for a host of os ("" = the script detects
	// the OS among the dialect's playbooks; become "" = no escalation).
	Render(os, become string, p Params) (*Script, error)
	// Split reads the host's output.
	Split(stdout []byte, nonce string) *frame.Raw
	// Streams: sections arrive one by one, so output cut short by a
	// deadline still holds the checks that finished.
	Streams() bool
	// BecomeDenied returns stderr's refusal of the privilege escalation,
	// or "".
	BecomeDenied(stderr string) bool
	// Misfit returns a hint when stderr shows the host speaks the other
	// dialect (a Windows host sent a POSIX script), or "".
	Misfit(stderr string) string
}

// DialectNamed returns the dialect called name ("posix", "powershell").
func (s *Set) DialectNamed(name string) (Dialect, bool) {
	switch name {
	case "posix":
		return posix{s}, true
	case "powershell":
		return powershell{s}, true
	}
	return nil, false
}

// Dialect returns the dialect of os's playbook (POSIX for an OS not yet
// known: the POSIX script detects it).
func (s *Set) Dialect(os string) Dialect {
	if p := s.ForOS(os); p != nil && p.Shell == "powershell" {
		return powershell{s}
	}
	return posix{s}
}

// Render builds the script for a host of os in its dialect.
func (s *Set) Render(os, become string, p Params) (*Script, error) {
	return s.Dialect(os).Render(os, become, p)
}

type posix struct{ s *Set }

func (posix) Name() string { return "posix" }

func (d posix) Render(os, become string, p Params) (*Script, error) {
	return d.s.RenderUnix(os, become, p)
}
func (posix) Split(stdout []byte, nonce string) *frame.Raw { return frame.Split(stdout, nonce) }
func (posix) Streams() bool                                { return true }

func (d posix) BecomeDenied(stderr string) bool {
	for _, pb := range d.s.Unix() {
		if pb.BecomeDenied(stderr) {
			return true
		}
	}
	return false
}

func (posix) Misfit(stderr string) string {
	if strings.Contains(stderr, "is not recognized as an internal or external command") {
		return "this looks like a Windows host: set os: windows for it"
	}
	return ""
}

type powershell struct{ s *Set }

func (powershell) Name() string { return "powershell" }

// Render ignores become: WinRM and OpenSSH on Windows run as the account
// that logged in.
func (d powershell) Render(os, become string, p Params) (*Script, error) {
	return d.s.RenderPowerShell(p)
}
func (powershell) Split(stdout []byte, nonce string) *frame.Raw {
	return frame.SplitJSON(stdout, nonce)
}
func (powershell) Streams() bool            { return false }
func (powershell) BecomeDenied(string) bool { return false }
func (powershell) Misfit(string) string     { return "" }
