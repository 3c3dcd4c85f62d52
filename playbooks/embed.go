// Package playbooks embeds the per-OS check definitions (*.yaml) and the
// checks' code (DIR/ID.sh, DIR/ID.ps1, one directory per playbook) into
// the binary. `whyoffline scan --playbooks DIR` overrides them file by
// file.
package playbooks

import "embed"

// FS holds the embedded playbooks.
//
//go:embed *.yaml */*.sh */*.ps1
var FS embed.FS
