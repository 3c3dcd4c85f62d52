// Package transports gathers what every transport declares for the
// inventory: the options each one takes. It is the one place that knows
// the list of transports, so that the inventory loader (which must not
// import them) can still refuse a misspelt option with a suggestion.
package transports

import (
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport/ssh"
	"github.com/whyoffline/whyoffline/internal/transport/winrm"
)

// Options is the inventory schema: every option of every transport.
func Options() inventory.Schema {
	return append(ssh.Options(), winrm.Options()...)
}
