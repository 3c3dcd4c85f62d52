// Package playbooks embeds the per-OS check definitions (*.yaml) into the
// binary. `whyoffline scan --playbooks DIR` overrides them file by file.
package playbooks

import "embed"

// FS holds the embedded playbooks.
//
//go:embed *.yaml
var FS embed.FS
