package playbook

import (
	"fmt"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

// Causes is playbooks/causes.yaml: the thresholds diagnosis applies and the
// remedy text for every cause, with per-OS wording where it differs.
type Causes struct {
	Thresholds Thresholds           `yaml:"thresholds"`
	Causes     map[string]CauseText `yaml:"causes"`
	Fleet      map[string]CauseText `yaml:"fleet"`
	templates  map[string]*template.Template
}

// Thresholds for resource-pressure and friends.
type Thresholds struct {
	LoadPerCPU      float64 `yaml:"load_per_cpu"`
	MemAvailablePct float64 `yaml:"mem_available_pct"`
	FSUsedPct       float64 `yaml:"fs_used_pct"`
}

// CauseText is the wording of one cause.
type CauseText struct {
	Title    string            `yaml:"title"`
	Remedy   string            `yaml:"remedy"`
	RemedyOS map[string]string `yaml:"remedy_os"`
}

// RemedyVars are the values a remedy template may use.
type RemedyVars struct {
	Manager   string
	Port      int
	AgentPort int
	Host      string
	Detail    string // cause-specific hint (e.g. the firewall rule)
}

func parseCauses(file string, data []byte) (*Causes, error) {
	var c Causes
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if c.Thresholds.LoadPerCPU <= 0 || c.Thresholds.MemAvailablePct <= 0 || c.Thresholds.FSUsedPct <= 0 {
		return nil, fmt.Errorf("%s: thresholds: load_per_cpu, mem_available_pct and fs_used_pct must all be set above 0", file)
	}
	c.templates = map[string]*template.Template{}
	add := func(key, text string) error {
		t, err := template.New(key).Option("missingkey=error").Parse(text)
		if err != nil {
			return fmt.Errorf("%s: %s: %v", file, key, err)
		}
		c.templates[key] = t
		return nil
	}
	for _, group := range []map[string]CauseText{c.Causes, c.Fleet} {
		for id, t := range group {
			if t.Remedy == "" {
				return nil, fmt.Errorf("%s: %s: remedy: is required", file, id)
			}
			if err := add(id, t.Remedy); err != nil {
				return nil, err
			}
			for os, r := range t.RemedyOS {
				if err := add(id+"@"+os, r); err != nil {
					return nil, err
				}
			}
		}
	}
	return &c, nil
}

// Remedy renders the remedy for cause id on os.
func (c *Causes) Remedy(id, os string, v RemedyVars) string {
	t := c.templates[id+"@"+os]
	if t == nil {
		t = c.templates[id]
	}
	if t == nil {
		return ""
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return c.Causes[id].Remedy
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Known reports whether cause id has wording.
func (c *Causes) Known(id string) bool {
	_, a := c.Causes[id]
	_, b := c.Fleet[id]
	return a || b
}
