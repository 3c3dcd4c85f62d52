package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/whyoffline/whyoffline/internal/ansiblecfg"
	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transports"
	"github.com/whyoffline/whyoffline/internal/vault"
)

// inventoryFlags choose and open the inventory, for scan and inventory
// alike: -i sources, vault passwords, and — with no -i — the inventory
// Ansible itself would use.
type inventoryFlags struct {
	paths      []string
	vaultFiles []string
	vaultIDs   []string

	req      inventory.Request // filled by resolve
	resolved bool
}

func (f *inventoryFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVarP(&f.paths, "inventory", "i", nil, "inventory file or directory (own YAML, Ansible INI/YAML/JSON with group_vars/ and host_vars/, a host list); repeatable; - reads stdin (ansible-inventory --list output, or a host list); default: $ANSIBLE_INVENTORY, then ansible.cfg's inventory")
	fl.StringArrayVar(&f.vaultFiles, "vault-password-file", nil, "file holding the Ansible Vault password for vaulted inventory values and vars files; repeatable (default $ANSIBLE_VAULT_PASSWORD_FILE, then ansible.cfg)")
	fl.StringArrayVar(&f.vaultIDs, "vault-id", nil, "Ansible Vault ID as LABEL@FILE; repeatable")
}

// resolve settles the sources and the vault keyring: -i as given, or
// Ansible's own default (saying on stderr which); vault passwords from
// the flags, or else from Ansible's environment and ansible.cfg. A bad
// flag is a usage error; a password file ansible.cfg names that cannot
// be used only leaves the vault closed, saying why in the skip reasons.
func (f *inventoryFlags) resolve(e *env) error {
	if f.resolved {
		return nil
	}
	f.resolved = true
	cwd, _ := os.Getwd()
	cfg, err := ansiblecfg.Load(e.getenv, cwd, e.getenv("HOME"), e.etc)
	if err != nil {
		return usageErr("%v", err)
	}
	f.req = inventory.Request{Paths: f.paths, Stdin: e.stdin, Schema: transports.Options(), IgnoreExts: cfg.IgnoreExts, IgnorePatterns: cfg.IgnorePatterns}
	if len(f.paths) == 0 {
		switch {
		case len(cfg.Inventory) > 0:
			f.req.Paths = cfg.Inventory
			fmt.Fprintf(e.stderr, "whyoffline: no -i given: using the inventory of %s: %s\n", cfg.InventoryFrom, textsafe.Line(fmt.Sprint(cfg.Inventory), 300))
		case e.etc != "":
			def := filepath.Join(e.etc, "ansible", "hosts")
			if _, err := os.Stat(def); err == nil {
				f.req.Paths = []string{def}
				fmt.Fprintf(e.stderr, "whyoffline: no -i given: using Ansible's default inventory %s\n", def)
			}
		}
	}
	keys := &vault.Keyring{}
	for _, p := range f.vaultFiles {
		if err := keys.AddFile("default", p); err != nil {
			return usageErr("--vault-password-file: %v", err)
		}
	}
	for _, id := range f.vaultIDs {
		if err := keys.AddID(id); err != nil {
			return usageErr("--vault-id: %v", err)
		}
	}
	if keys.Len() == 0 {
		for _, p := range cfg.VaultPasswordFiles {
			if err := keys.AddFile("default", p); err != nil {
				f.req.VaultNote = fmt.Sprintf(" (the password file of %s cannot be used: %v)", cfg.VaultFrom, err)
			}
		}
		for _, id := range cfg.VaultIDs {
			if err := keys.AddID(id); err != nil {
				f.req.VaultNote = fmt.Sprintf(" (a vault ID of %s cannot be used: %v)", cfg.VaultFrom, err)
			}
		}
	}
	f.req.Vault = keys
	return nil
}

// given reports whether there is an inventory to load.
func (f *inventoryFlags) given() bool { return len(f.req.Paths) > 0 }

// load reads the inventory, prints its notes on stderr, and moves the
// hosts whose settings a transport refuses (Basic auth over plain HTTP)
// to the skipped ones, with the reason: one such host does not refuse
// the whole file.
func (f *inventoryFlags) load(e *env) (*inventory.Inventory, error) {
	if err := f.resolve(e); err != nil {
		return nil, err
	}
	inv, err := inventory.LoadRequest(f.req)
	if err != nil {
		return nil, usageWrap(err)
	}
	for _, n := range inv.Notes {
		fmt.Fprintf(e.stderr, "whyoffline: note: %s\n", textsafe.Line(n, 600))
	}
	// a host whose transport says its settings cannot work is skipped
	// now, with the reason (WinRM), not failed when its turn comes
	cs, err := transports.Open(transports.Settings{Getenv: e.getenv}, true, nil)
	if err != nil {
		return nil, usageWrap(err)
	}
	defer cs.Close()
	kept := inv.Hosts[:0]
	for _, h := range inv.Hosts {
		if t, ok := transports.Lookup(h.Transport); ok && t.SkipBadEndpoint {
			if _, err := cs.Endpoint(h); err != nil {
				inv.Skipped = append(inv.Skipped, inventory.Skipped{Name: h.Name, Source: h.Source, Reason: err.Error(), Groups: h.Groups})
				continue
			}
		}
		kept = append(kept, h)
	}
	inv.Hosts = kept
	return inv, nil
}
