package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
	"github.com/whyoffline/whyoffline/internal/transports"
)

func newInventoryCmd(e *env) *cobra.Command {
	var invFlags inventoryFlags
	var limit, output, sshConfig, user string
	cmd := &cobra.Command{
		Use:   "inventory -i INVENTORY...",
		Short: "List the resolved hosts and exactly where the scan would connect (no login)",
		Long: `inventory resolves groups, ranges and vars exactly as scan does and prints
each host's endpoint as its transport derives it — address, port, user and,
for WinRM, scheme and auth — with ~/.ssh/config applied to SSH hosts, so
what it shows is what scan dials. Secrets are never printed: a password
shows only as "set".`,
		Example: `  whyoffline inventory -i /etc/ansible/hosts -l webservers
  whyoffline inventory -i fleet.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := invFlags.resolve(e); err != nil {
				return err
			}
			if !invFlags.given() {
				return usageErr("no inventory: pass -i FILE or DIR, or set ANSIBLE_INVENTORY or ansible.cfg's inventory")
			}
			inv, err := invFlags.load(e)
			if err != nil {
				return err
			}
			hosts, err := inventory.Limit(inv.Hosts, limit)
			if err != nil {
				return usageWrap(err)
			}
			ep, err := newEndpoints(e, sshConfig, user)
			if err != nil {
				return err
			}
			defer ep.Close()
			ends := make([]transport.Endpoint, len(hosts))
			for i, h := range hosts {
				if ends[i], err = ep.Endpoint(h); err != nil {
					return usageErr("host %s (%s): %v", h.Name, h.Source, err)
				}
			}
			switch output {
			case "json":
				type row struct {
					*inventory.Host
					Port     int                `json:"port"`
					Endpoint transport.Endpoint `json:"endpoint"`
					Password string             `json:"password,omitempty"`
				}
				rows := make([]any, 0, len(hosts)+len(inv.Skipped))
				for i, h := range hosts {
					r := row{Host: h, Port: ends[i].Port, Endpoint: ends[i]}
					if h.Password.IsSet() || h.PasswordEnv != "" || h.PasswordFile != "" {
						r.Password = "set"
					}
					rows = append(rows, r)
				}
				for _, sk := range selectSkipped(&scanFlags{limit: limit}, inv) {
					rows = append(rows, struct {
						Name    string `json:"name"`
						Source  string `json:"source"`
						Skipped string `json:"skipped"`
					}{sk.Name, sk.Source, sk.Reason})
				}
				bw := bufio.NewWriterSize(e.stdout, 1<<16)
				enc := json.NewEncoder(bw)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return failed(err)
				}
				if err := bw.Flush(); err != nil {
					return failed(err)
				}
			case "", "table":
				rows := [][]string{{"NAME", "ADDRESS", "PORT", "USER", "TRANSPORT", "OS", "BECOME", "GROUPS", "SOURCE"}}
				for i, h := range hosts {
					become := "-"
					if h.Become {
						become = h.BecomeMethod
					}
					end := ends[i]
					how := end.Transport
					if end.Scheme != "" {
						how += " " + end.Scheme + "/" + end.Auth
					}
					if end.Via != "" {
						how += " via " + end.Via
					}
					rows = append(rows, []string{cell(h.Name), cell(end.Address), strconv.Itoa(end.Port), cell(orDash(end.User)), cell(how),
						cell(orDash(h.OS)), become, cell(orDash(strings.Join(h.Groups, ","))), cell(h.Source)})
				}
				bw := bufio.NewWriterSize(e.stdout, 1<<16)
				writeColumns(bw, rows)
				if inv.Manager.Host != "" {
					fmt.Fprintf(bw, "\nmanager: %s port %d %s\n", cell(inv.Manager.Host), inv.Manager.Port, inv.Manager.Mode)
				}
				skipped := selectSkipped(&scanFlags{limit: limit}, inv)
				for _, sk := range skipped {
					fmt.Fprintf(bw, "skipped: %s (%s): %s\n", cell(sk.Name), cell(sk.Source), textsafe.Line(sk.Reason, 300))
				}
				if len(skipped) > 0 {
					fmt.Fprintf(bw, "%d hosts, %d skipped (scan will not scan them)\n", len(hosts), len(skipped))
				} else {
					fmt.Fprintf(bw, "%d hosts\n", len(hosts))
				}
				if err := bw.Flush(); err != nil {
					return failed(err)
				}
			default:
				return usageErr("-o %q: inventory prints table or json", output)
			}
			return nil
		},
	}
	invFlags.register(cmd.Flags())
	cmd.Flags().StringVarP(&limit, "limit", "l", "", "only hosts matching PATTERN")
	cmd.Flags().StringVarP(&output, "output", "o", "", "table or json")
	cmd.Flags().StringVar(&sshConfig, "ssh-config", "", "ssh_config file applied as scan applies it (default ~/.ssh/config; none to ignore)")
	cmd.Flags().StringVarP(&user, "user", "u", "", "login user for hosts whose inventory and ssh_config name none (default $USER)")
	return cmd
}

// writeColumns prints rows as left-aligned columns two spaces apart, the
// widths measured in one pass (text/tabwriter buffers every cell of a
// 100,000-row table in growing slices).
func writeColumns(w *bufio.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			w.WriteString(c)
			if i < len(r)-1 {
				for n := utf8.RuneCountInString(c); n < widths[i]+2; n++ {
					w.WriteByte(' ')
				}
			}
		}
		w.WriteByte('\n')
	}
}

// newEndpoints opens every transport for endpoints only — where each
// would connect, with the same ssh_config and default user that scan
// uses, contacting nothing.
func newEndpoints(e *env, sshConfig, user string) (transports.Clients, error) {
	cs, err := transports.Open(transportSettings(e, sshConfig, user, 0, transports.Settings{}), true, nil)
	if err != nil {
		return nil, usageWrap(err)
	}
	warnTransports(e, cs, nil)
	return cs, nil
}

// sshConfigPath is --ssh-config resolved: ~/.ssh/config by default, "" for
// none.
func sshConfigPath(e *env, flag string) string {
	switch flag {
	case "":
		return filepath.Join(homeDir(e.getenv), ".ssh", "config")
	case "none":
		return ""
	}
	return flag
}

func cell(s string) string { return textsafe.Line(s, 60) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newPlaybooksCmd(e *env) *cobra.Command {
	var dir string
	var script bool
	cmd := &cobra.Command{
		Use:   "playbooks [list|show ID]",
		Short: "Show the checks each OS's playbook runs",
		Example: `  whyoffline playbooks list
  whyoffline playbooks show linux
  whyoffline playbooks show linux --script   # the exact script sent to a host`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, _, err := loadChecks(dir)
			if err != nil {
				return err
			}
			if len(args) == 0 || args[0] == "list" {
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tOS\tUNAME\tCHECKS\tDESCRIPTION")
				for _, id := range set.Names() {
					p := set.Playbooks[id]
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.ID, p.OS, p.Uname, len(p.Checks), p.Description)
				}
				fmt.Fprintf(tw, "\nsource: %s\n", set.Source)
				return tw.Flush()
			}
			if args[0] != "show" || len(args) != 2 {
				return usageErr("use: whyoffline playbooks list, or whyoffline playbooks show ID")
			}
			p := set.ForOS(args[1])
			if p == nil {
				return usageErr("no playbook %q; whyoffline playbooks list shows them", args[1])
			}
			if script {
				sc, err := set.Render(p.OS, "", playbook.Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: "0123456789abcdef"})
				if err != nil {
					return usageWrap(err)
				}
				fmt.Fprintf(e.stdout, "# command: %s\n%s", sc.Command, sc.Body)
				return nil
			}
			fmt.Fprintf(e.stdout, "%s (%s): %s\n\n", p.ID, p.OS, p.Description)
			for _, c := range p.Checks {
				fmt.Fprintf(e.stdout, "== %s — %s\n", c.ID, c.Title)
				for _, l := range strings.Split(strings.TrimRight(c.Run, "\n"), "\n") {
					fmt.Fprintf(e.stdout, "   %s\n", l)
				}
				fmt.Fprintln(e.stdout)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "playbooks", "", "directory overriding the embedded playbooks")
	cmd.Flags().BoolVar(&script, "script", false, "print the whole rendered script for that OS")
	return cmd
}
