package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/playbook"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

func newInventoryCmd(e *env) *cobra.Command {
	var inventories []string
	var limit, output string
	cmd := &cobra.Command{
		Use:   "inventory -i INVENTORY...",
		Short: "List the resolved hosts and their effective settings (no login)",
		Long: `inventory resolves groups, ranges and vars exactly as scan does and prints
each host's effective settings. Secrets are never printed: a password shows
only as "set". ~/.ssh/config is applied at connect time, on top of these.`,
		Example: `  whyoffline inventory -i /etc/ansible/hosts -l webservers
  whyoffline inventory -i fleet.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := inventory.Load(inventories, e.stdin)
			if err != nil {
				return usageWrap(err)
			}
			hosts, err := inventory.Limit(inv.Hosts, limit)
			if err != nil {
				return usageWrap(err)
			}
			switch output {
			case "json":
				type row struct {
					*inventory.Host
					Port     int    `json:"port"`
					Password string `json:"password,omitempty"`
				}
				rows := make([]row, 0, len(hosts))
				for _, h := range hosts {
					r := row{Host: h, Port: h.EffectivePort()}
					if h.Password.IsSet() || h.PasswordEnv != "" || h.PasswordFile != "" {
						r.Password = "set"
					}
					rows = append(rows, r)
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return failed(err)
				}
			case "", "table":
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tADDRESS\tPORT\tUSER\tTRANSPORT\tOS\tBECOME\tGROUPS\tSOURCE")
				for _, h := range hosts {
					become := "-"
					if h.Become {
						become = h.BecomeMethod
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
						cell(h.Name), cell(h.Address), h.EffectivePort(), cell(orDash(h.User)), h.Transport,
						cell(orDash(h.OS)), become, cell(orDash(strings.Join(h.Groups, ","))), cell(h.Source))
				}
				if err := tw.Flush(); err != nil {
					return failed(err)
				}
				if inv.Manager.Host != "" {
					fmt.Fprintf(e.stdout, "\nmanager: %s port %d %s\n", cell(inv.Manager.Host), inv.Manager.Port, inv.Manager.Mode)
				}
				fmt.Fprintf(e.stdout, "%d hosts\n", len(hosts))
			default:
				return usageErr("-o %q: inventory prints table or json", output)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&inventories, "inventory", "i", nil, "inventory file; repeatable; - reads a host list from stdin")
	cmd.Flags().StringVarP(&limit, "limit", "l", "", "only hosts matching PATTERN")
	cmd.Flags().StringVarP(&output, "output", "o", "", "table or json")
	return cmd
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
				sc, err := set.RenderUnix(p.OS, "", playbook.Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "agent-initiated", Nonce: "0123456789abcdef"})
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
