package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/whyoffline/whyoffline/internal/didyoumean"
	"github.com/whyoffline/whyoffline/internal/safefile"
)

// A config file holds flags' values, keyed by the flags' long names, for
// whichever command has them: a nightly sweep keeps its manager, forks and
// outputs there instead of on a crontab line. Flags given on the command
// line win. The first file found is read: --config FILE, then
// $XDG_CONFIG_HOME/whyoffline/config.yaml (~/.config when unset), then
// /etc/whyoffline/config.yaml.

// secretWords mark settings that would hold a secret: the config file is
// for settings, and secrets come from the environment or files only.
var secretWords = []string{"password", "passphrase", "secret", "token", "api-key"}

// configPath is the config file to read ("" when there is none).
func configPath(e *env, flag string) (string, error) {
	if flag != "" {
		if _, err := os.Stat(flag); err != nil {
			return "", fmt.Errorf("--config %s: %v", flag, unwrap(err))
		}
		return flag, nil
	}
	var candidates []string
	if x := e.getenv("XDG_CONFIG_HOME"); x != "" {
		candidates = append(candidates, filepath.Join(x, "whyoffline", "config.yaml"))
	} else if h := e.getenv("HOME"); h != "" {
		candidates = append(candidates, filepath.Join(h, ".config", "whyoffline", "config.yaml"))
	}
	if e.etc != "" {
		candidates = append(candidates, filepath.Join(e.etc, "whyoffline", "config.yaml"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config %s: %v", c, unwrap(err))
		}
	}
	return "", nil
}

// scanOnly are the flags whose values mean something else in each
// command (scan -o csv; diff -o takes table or json): in the config file
// they are the nightly sweep's, and apply to scan alone.
var scanOnly = map[string]bool{"output": true, "out": true}

// applyConfig sets, on cmd, every flag the config file gives that the
// command line did not, and returns where each came from (flag name →
// file:line). Keys no command has are errors with file:line; keys another
// command has, or scan's own (output, out), are left for it.
func applyConfig(e *env, cmd *cobra.Command, path string) (map[string]string, error) {
	from := map[string]string{}
	err := applyConfigTo(cmd, path, from)
	return from, err
}

func applyConfigTo(cmd *cobra.Command, path string, from map[string]string) error {
	if path == "" {
		return nil
	}
	// a regular file of at most 1 MiB: a FIFO would hang the run before
	// it starts, /dev/zero fill its memory
	data, err := safefile.Read(path, 1<<20)
	if err != nil {
		return fmt.Errorf("config %s: %v", path, unwrap(err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: not YAML: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the config is a mapping of flag names to values (manager: dsm.example.com)", path, top.Line)
	}
	known := allFlags(cmd.Root())
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		key := k.Value
		for _, w := range secretWords {
			if strings.Contains(strings.ToLower(key), w) && !strings.HasSuffix(key, "-file") {
				return fmt.Errorf("%s:%d: %q: secrets are not read from the config file; use the environment (WHYOFFLINE_SSH_PASSWORD, WHYOFFLINE_API_KEY, ...) or a file setting (--api-key-file, password_file)", path, k.Line, key)
			}
		}
		if key == "config" {
			return fmt.Errorf("%s:%d: a config file cannot name another config file", path, k.Line)
		}
		if !known[key] {
			return fmt.Errorf("%s:%d: unknown setting %q%s", path, k.Line, key, suggestFlag(key, known))
		}
		f := cmd.Flags().Lookup(key)
		if f == nil || f.Changed || (scanOnly[key] && cmd.Name() != "scan") {
			continue // another command's setting, or the command line wins
		}
		if err := setFlag(f, v); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", path, v.Line, key, err)
		}
		from[key] = fmt.Sprintf("%s:%d", path, k.Line)
	}
	return nil
}

// setFlag sets f from a YAML value: a scalar, or for a repeatable flag a
// list.
func setFlag(f *pflag.Flag, v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		return f.Value.Set(v.Value)
	case yaml.SequenceNode:
		if _, ok := f.Value.(pflag.SliceValue); !ok {
			return fmt.Errorf("takes one value, not a list")
		}
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("list items are plain values")
			}
			if err := f.Value.Set(item.Value); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("takes a plain value")
}

// allFlags is every long flag name of every command.
func allFlags(root *cobra.Command) map[string]bool {
	out := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	delete(out, "help")
	delete(out, "config")
	return out
}

func suggestFlag(key string, known map[string]bool) string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	if best := didyoumean.Closest(key, names); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (the keys are the flags' long names, as in --help)"
}

// newConfigCmd prints the settings a command would run with and where
// each comes from.
func newConfigCmd(e *env, root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "config [COMMAND]",
		Short: "Print the effective settings of a command (default scan) and where each comes from",
		Long: `config shows, for each flag of COMMAND (scan unless named), the value a run
would use and its source: the config file and line, or the default. Flags
given on the command line win over both. Secrets never appear: they come
from the environment or files only.`,
		Example: `  whyoffline config
  whyoffline --config /etc/whyoffline/nightly.yaml config scan
  whyoffline config diff`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "scan"
			if len(args) == 1 {
				name = args[0]
			}
			target, _, err := root.Find([]string{name})
			if err != nil || target == root || target.Name() != name {
				return usageErr("config %q: no such command (scan, report, merge, diff, inventory, playbooks)", name)
			}
			cfgFlag, _ := cmd.Flags().GetString("config")
			path, err := configPath(e, cfgFlag)
			if err != nil {
				return usageWrap(err)
			}
			from := map[string]string{}
			if name != cmd.Name() {
				if err := applyConfigTo(target, path, from); err != nil {
					return usageWrap(err)
				}
			}
			if path == "" {
				fmt.Fprintln(e.stdout, "# no config file (--config, $XDG_CONFIG_HOME/whyoffline/config.yaml, /etc/whyoffline/config.yaml)")
			} else {
				fmt.Fprintf(e.stdout, "# config file: %s\n", path)
			}
			rows := [][]string{{"SETTING", "VALUE", "FROM"}}
			target.Flags().VisitAll(func(f *pflag.Flag) {
				if f.Name == "help" || f.Name == "config" {
					return
				}
				src := "default"
				if w, ok := from[f.Name]; ok {
					src = w
				}
				rows = append(rows, []string{f.Name, cell(orDash(f.Value.String())), src})
			})
			bw := bufio.NewWriter(e.stdout)
			writeColumns(bw, rows)
			if err := bw.Flush(); err != nil {
				return failed(err)
			}
			return nil
		},
	}
}
