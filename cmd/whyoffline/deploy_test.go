package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestKubernetesIndexedJob checks deploy/kubernetes without a cluster
// (kubectl's dry run needs one): the Job is Indexed with as many
// completions as shards, each pod's --shard comes from
// JOB_COMPLETION_INDEX over the same N, the merge Job reads every shard's
// run, no secret is on a command line, and every flag the manifests pass
// is one whyoffline has.
func TestKubernetesIndexedJob(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kubernetes/whyoffline-sweep.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
	}
	type job struct {
		APIVersion string                `yaml:"apiVersion"`
		Kind       string                `yaml:"kind"`
		Metadata   struct{ Name string } `yaml:"metadata"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string      `yaml:"restartPolicy"`
					Containers    []container `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	var jobs []job
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var j job
		if err := dec.Decode(&j); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Spec.Template.Spec.RestartPolicy != "Never" || len(j.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: not a batch/v1 Job with one container and restartPolicy Never: %+v", j.Metadata.Name, j)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want the sweep and the merge", len(jobs))
	}
	sweep, merge := jobs[0], jobs[1]
	n := sweep.Spec.Completions
	if sweep.Spec.CompletionMode != "Indexed" || n < 2 || sweep.Spec.Parallelism != n {
		t.Errorf("sweep: completionMode %q, completions %d, parallelism %d", sweep.Spec.CompletionMode, n, sweep.Spec.Parallelism)
	}
	script := strings.Join(sweep.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(script, fmt.Sprintf(`--shard "$((JOB_COMPLETION_INDEX + 1))/%d"`, n)) {
		t.Errorf("the sweep's --shard is not JOB_COMPLETION_INDEX+1 of %d: %s", n, script)
	}
	mergeScript := strings.Join(merge.Spec.Template.Spec.Containers[0].Args, " ")
	for k := 1; k <= n; k++ {
		if !strings.Contains(mergeScript, fmt.Sprintf("/runs/shard-%d.json", k)) {
			t.Errorf("merge does not read shard %d", k)
		}
	}
	root := newRoot(&env{getenv: func(string) string { return "" }})
	flags := regexp.MustCompile(`(?:^|\s)(--[a-z-]+)`)
	for _, s := range []string{script, mergeScript} {
		for _, line := range strings.Split(s, ";") {
			f := strings.Fields(strings.TrimSpace(line))
			if len(f) < 2 || f[0] != "exec" && f[0] != "whyoffline" {
				continue
			}
			if f[0] == "exec" {
				f = f[1:]
			}
			cmd, _, err := root.Find(f[1:2])
			if err != nil || cmd == root {
				t.Errorf("no whyoffline command %q", f[1])
				continue
			}
			for _, m := range flags.FindAllStringSubmatch(line, -1) {
				name := strings.TrimPrefix(m[1], "--")
				if cmd.Flags().Lookup(name) == nil && root.PersistentFlags().Lookup(name) == nil {
					t.Errorf("whyoffline %s has no flag %s", cmd.Name(), m[1])
				}
				if strings.Contains(name, "password") || strings.Contains(name, "key") && !strings.HasSuffix(name, "-file") {
					t.Errorf("a secret on a command line: %s", m[1])
				}
			}
		}
	}
}
