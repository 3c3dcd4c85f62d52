package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/whyoffline/whyoffline/internal/didyoumean"
	"gopkg.in/yaml.v3"
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

// applyConfig sets, on cmd, every flag the config file gives that the
// command line did not. Keys no command has are errors with file:line;
// keys another command has are left for it.
func applyConfig(e *env, cmd *cobra.Command, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
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
		if f == nil || f.Changed {
			continue // another command's setting, or the command line wins
		}
		if err := setFlag(f, v); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", path, v.Line, key, err)
		}
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
