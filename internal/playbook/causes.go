package playbook

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Causes is playbooks/causes.yaml: the thresholds diagnosis applies, and a
// site's replacements for the remedy wording of individual causes. The
// built-in wording lives with each cause (internal/diagnose); this file only
// overrides it, key by key.
type Causes struct {
	Thresholds Thresholds
	// File is the causes.yaml the overrides came from (for errors).
	File      string
	overrides map[string]CauseText
}

// Thresholds for resource-pressure and friends.
type Thresholds struct {
	LoadPerCPU      float64 `yaml:"load_per_cpu"`
	MemAvailablePct float64 `yaml:"mem_available_pct"`
	FSUsedPct       float64 `yaml:"fs_used_pct"`
	// SharedMinHosts is how many hosts must share a failure (a subnet
	// that cannot reach the manager, a resolver that fails) before it is
	// reported as one fleet finding.
	SharedMinHosts float64 `yaml:"shared_min_hosts"`
}

// CauseText is a site's wording for one cause.
type CauseText struct {
	Title    string            `yaml:"title"`
	Remedy   string            `yaml:"remedy"`
	RemedyOS map[string]string `yaml:"remedy_os"`
	// RemedySet: the file has a remedy: key (an empty one is an error,
	// not "keep the built-in one").
	RemedySet bool `yaml:"-"`
	Line      int  `yaml:"-"`
}

// UnmarshalYAML records whether the entry sets remedy:.
func (t *CauseText) UnmarshalYAML(n *yaml.Node) error {
	type plain CauseText
	if err := n.Decode((*plain)(t)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "remedy" {
			t.RemedySet = true
		}
	}
	return nil
}

// causeTexts is a causes: or fleet: mapping that keeps each key's line.
type causeTexts map[string]CauseText

func (m *causeTexts) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping of cause ID to wording", n.Line)
	}
	*m = causeTexts{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		var t CauseText
		if err := n.Content[i+1].Decode(&t); err != nil {
			return err
		}
		t.Line = n.Content[i].Line
		(*m)[n.Content[i].Value] = t
	}
	return nil
}

// causesFile is one causes.yaml as written: every key optional, so an
// overlay names only what it changes.
type causesFile struct {
	Thresholds struct {
		LoadPerCPU      *float64 `yaml:"load_per_cpu"`
		MemAvailablePct *float64 `yaml:"mem_available_pct"`
		FSUsedPct       *float64 `yaml:"fs_used_pct"`
		SharedMinHosts  *float64 `yaml:"shared_min_hosts"`
	} `yaml:"thresholds"`
	Causes causeTexts `yaml:"causes"`
	Fleet  causeTexts `yaml:"fleet"`
}

// mergeCauses applies one causes.yaml over c (nil: the first file).
func mergeCauses(c *Causes, file string, data []byte) (*Causes, error) {
	var f causesFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if c == nil {
		c = &Causes{overrides: map[string]CauseText{}}
	}
	set := func(dst *float64, v *float64, key string) error {
		if v == nil {
			return nil
		}
		if *v <= 0 {
			return fmt.Errorf("%s: thresholds: %s must be above 0", file, key)
		}
		*dst = *v
		return nil
	}
	for _, e := range []error{
		set(&c.Thresholds.LoadPerCPU, f.Thresholds.LoadPerCPU, "load_per_cpu"),
		set(&c.Thresholds.MemAvailablePct, f.Thresholds.MemAvailablePct, "mem_available_pct"),
		set(&c.Thresholds.FSUsedPct, f.Thresholds.FSUsedPct, "fs_used_pct"),
		set(&c.Thresholds.SharedMinHosts, f.Thresholds.SharedMinHosts, "shared_min_hosts"),
	} {
		if e != nil {
			return nil, e
		}
	}
	for _, group := range []causeTexts{f.Causes, f.Fleet} {
		for id, t := range group {
			if old, ok := c.overrides[id]; ok {
				t = mergeText(old, t)
			}
			c.overrides[id] = t
		}
	}
	if len(f.Causes)+len(f.Fleet) > 0 {
		c.File = file
	}
	return c, nil
}

func mergeText(old, t CauseText) CauseText {
	if !t.RemedySet {
		t.Remedy, t.RemedySet = old.Remedy, old.RemedySet
	}
	if t.Title == "" {
		t.Title = old.Title
	}
	for os, r := range old.RemedyOS {
		if _, ok := t.RemedyOS[os]; !ok {
			if t.RemedyOS == nil {
				t.RemedyOS = map[string]string{}
			}
			t.RemedyOS[os] = r
		}
	}
	return t
}

func (c *Causes) validate(file string) error {
	if c.Thresholds.LoadPerCPU <= 0 || c.Thresholds.MemAvailablePct <= 0 || c.Thresholds.FSUsedPct <= 0 {
		return fmt.Errorf("%s: thresholds: load_per_cpu, mem_available_pct and fs_used_pct must all be set above 0", file)
	}
	return nil
}

// Overrides returns the site's wording by cause ID.
func (c *Causes) Overrides() map[string]CauseText { return c.overrides }
