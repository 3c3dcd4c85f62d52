package scan

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// RawRecord is what --save-raw keeps of one host next to its raw output
// (NAME.out): enough to read that output again exactly as the scan did —
// the golden vectors of internal/golden are such pairs.
type RawRecord struct {
	Host      string            `json:"host"`
	Inventory string            `json:"inventory_os,omitempty"` // the os the inventory gave ("" = detected)
	Dialect   string            `json:"dialect"`
	Nonce     string            `json:"nonce"`
	Exit      int               `json:"exit"`
	Observed  *result.Observed  `json:"observed,omitempty"` // the bastion's side (facts left out: they come from the output)
	Manager   *result.Manager   `json:"manager,omitempty"`  // the run's manager and settings, to judge it the same way
	Settings  *result.Settings  `json:"settings,omitempty"`
	Status    result.Status     `json:"status"`
	Error     *result.HostError `json:"error,omitempty"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// saveRaw writes a host's raw output and its record into dir, readable by
// the owner only: raw output is the host's, unfiltered but for the run's
// secrets (an echoed password is hidden here as in every report).
func saveRaw(dir string, o *diagnose.Options, h *inventory.Host, d playbook.Dialect, sc *playbook.Script, resp *transport.Response, res *result.Host, secrets *secret.Scrubber) error {
	name := rawName(h.Name)
	rec := RawRecord{Host: h.Name, Inventory: h.OS, Dialect: d.Name(), Nonce: sc.Nonce, Exit: resp.ExitCode, Status: res.Status, Error: res.Error}
	rec.Manager, rec.Settings = o.RunContext()
	if res.Observed != nil {
		o := *res.Observed
		o.Facts = nil
		rec.Observed = &o
	}
	// the record shares the result's error, which is scrubbed only after
	// this file is written
	if rec.Error != nil {
		e := *rec.Error
		rec.Error = &e
	}
	secrets.ScrubAll(&rec)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".out"), secrets.Bytes(resp.Stdout), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o600)
}

// rawName is a host's file name in --save-raw: its name made safe, and —
// when that changed it (web:01 and web_01 would collide) or it differs
// only in case from another's on a case-blind file system — a hash of the
// exact name after it, so every host gets files of its own.
func rawName(host string) string {
	name := unsafeName.ReplaceAllString(host, "_")
	if name == host && strings.ToLower(host) == host {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(host))
	return fmt.Sprintf("%s-%08x", name, h.Sum32())
}
