package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/whyoffline/whyoffline/internal/image"
)

// manifests are deploy/kubernetes, each document decoded strictly into
// the real Kubernetes API type of its kind: an unknown or misspelt field
// is an error, as it is for the API server.
type manifests struct {
	cronJobs   map[string]*batchv1.CronJob
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	claims     map[string]*corev1.PersistentVolumeClaim
}

func readManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{map[string]*batchv1.CronJob{}, map[string]*corev1.ConfigMap{}, map[string]*corev1.Secret{}, map[string]*corev1.PersistentVolumeClaim{}}
	files, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/kubernetes")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s doc %d: %v", f, i+1, err)
			}
			var obj interface{ GetName() string }
			switch head.Kind {
			case "CronJob":
				obj = &batchv1.CronJob{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Secret":
				obj = &corev1.Secret{}
			case "PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				t.Fatalf("%s doc %d: kind %q is not one the deployment uses", f, i+1, head.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s doc %d: not a valid %s: %v", f, i+1, head.Kind, err)
			}
			switch o := obj.(type) {
			case *batchv1.CronJob:
				m.cronJobs[o.Name] = o
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *corev1.PersistentVolumeClaim:
				m.claims[o.Name] = o
			}
		}
	}
	return m
}

// TestKubernetesManifests: the sweep and the merge are CronJobs that never
// overlap; the sweep is Indexed with as many pods as --shard job/N has
// shards, and the merge reads every shard's file; every container runs
// the binary as user 65532 with a read-only root and a writable emptyDir
// /tmp; every volume names a ConfigMap, Secret or claim the deployment
// provides; the shared claim is ReadWriteMany; no secret is in argv and
// every flag exists.
func TestKubernetesManifests(t *testing.T) {
	m := readManifests(t)
	sweep, merge := m.cronJobs["whyoffline-sweep"], m.cronJobs["whyoffline-merge"]
	if sweep == nil || merge == nil {
		t.Fatalf("want CronJobs whyoffline-sweep and whyoffline-merge, have %v", m.cronJobs)
	}
	js := sweep.Spec.JobTemplate.Spec
	n := 0
	for _, c := range m.cronJobs {
		if c.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", c.Name, c.Spec.ConcurrencyPolicy)
		}
		pod := c.Spec.JobTemplate.Spec.Template.Spec
		if sc := pod.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != image.User || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: the pod does not run as the image's user %d", c.Name, image.User)
		}
		for _, ct := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
			if sc := ct.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: the root filesystem is not read-only", c.Name, ct.Name)
			}
			tmp := false
			for _, vm := range ct.VolumeMounts {
				v := volumeOf(pod, vm.Name)
				switch {
				case v == nil:
					t.Errorf("%s/%s mounts volume %q, which the pod does not declare", c.Name, ct.Name, vm.Name)
				case v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] == nil:
					t.Errorf("%s: ConfigMap %q is not provided", c.Name, v.ConfigMap.Name)
				case v.Secret != nil && m.secrets[v.Secret.SecretName] == nil:
					t.Errorf("%s: Secret %q is not provided", c.Name, v.Secret.SecretName)
				case v.PersistentVolumeClaim != nil && m.claims[v.PersistentVolumeClaim.ClaimName] == nil:
					t.Errorf("%s: claim %q is not provided", c.Name, v.PersistentVolumeClaim.ClaimName)
				case v.EmptyDir != nil && vm.MountPath == "/tmp":
					tmp = true
				}
			}
			if !tmp {
				t.Errorf("%s/%s: no writable emptyDir at /tmp", c.Name, ct.Name)
			}
			if len(ct.Command) != 0 {
				t.Errorf("%s/%s: command %v: the image has no shell; give args to its entrypoint", c.Name, ct.Name, ct.Command)
			}
			line := "whyoffline " + strings.Join(ct.Args, " ")
			checkWhyofflineCalls(t, line)
			if k := regexp.MustCompile(`--shard job/(\d+)`).FindStringSubmatch(line); k != nil {
				fmt.Sscan(k[1], &n)
			}
		}
	}
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion || js.Completions == nil || js.Parallelism == nil ||
		int(*js.Completions) != n || int(*js.Parallelism) != n || n < 2 {
		t.Errorf("the sweep: Indexed %v, completions %v, parallelism %v; --shard job/%d", js.CompletionMode, js.Completions, js.Parallelism, n)
	}
	margs := strings.Join(merge.Spec.JobTemplate.Spec.Template.Spec.InitContainers[0].Args, " ")
	for k := 0; k < n; k++ {
		if !strings.Contains(margs, fmt.Sprintf("/runs/shard-%d.json", k)) {
			t.Errorf("the merge does not read shard %d: %s", k, margs)
		}
	}
	for _, c := range m.claims {
		if len(c.Spec.AccessModes) != 1 || c.Spec.AccessModes[0] != corev1.ReadWriteMany {
			t.Errorf("claim %s: %v; the shards' pods on several nodes need ReadWriteMany", c.Name, c.Spec.AccessModes)
		}
	}
}

func volumeOf(pod corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

// TestImageRunsTheCronJobs builds the OCI image (no container engine),
// unpacks it, and runs every container of both CronJobs from it as user
// 65532 — the manifests' own args, $(JOB_COMPLETION_INDEX) expanded as
// Kubernetes does — under a read-only root with only the manifests'
// writable mounts (a tmpfs /tmp, the runs volume), in a mount namespace:
// the shards scan a simulated fleet, the merge and the reports follow.
func TestImageRunsTheCronJobs(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the image test needs root (mount namespaces, chroot) and CI is set")
		}
		t.Skip("needs root: mount namespaces and chroot")
	}
	for _, tool := range []string{"unshare", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (util-linux, coreutils)", tool)
		}
	}
	chroot, _ := exec.LookPath("chroot")
	m := readManifests(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // the pods' user walks to its mounts
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "whyoffline")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	img, err := image.Build(image.Spec{Binary: bin, Arch: "amd64", CACerts: "/etc/ssl/certs/ca-certificates.crt", Version: "test", Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := image.WriteLayout(filepath.Join(dir, "oci"), img); err != nil {
		t.Fatal(err)
	}
	back, err := image.ReadLayout(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := back.ConfigFile()
	if err != nil || cf.Config.User != "65532:65532" || strings.Join(cf.Config.Entrypoint, " ") != image.Entrypoint {
		t.Fatalf("image config %+v (%v)", cf, err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	unpack(t, back, rootfs)

	// the volumes' contents, as the kubelet would mount them: the config
	// (a fleet on loopback, no other address), the secrets, the runs
	_, inv, kh := startFleet(t, []string{"healthy", "agent-stopped", "agent-missing", "healthy", "healthy"})
	vol := map[string]string{"config": filepath.Join(dir, "config"), "secrets": filepath.Join(dir, "secrets"), "runs": filepath.Join(dir, "runs")}
	for _, d := range vol {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	invText, _ := os.ReadFile(inv)
	key, _ := os.ReadFile(filepath.Join(filepath.Dir(inv), "id_ed25519"))
	known, _ := os.ReadFile(kh)
	write(t, filepath.Join(vol["config"], "inventory.yaml"), strings.ReplaceAll(string(invText), filepath.Join(filepath.Dir(inv), "id_ed25519"), "/secrets/id_ed25519"))
	write(t, filepath.Join(vol["config"], "config.yaml"), "inventory: [/etc/whyoffline/inventory.yaml]\nknown-hosts: /secrets/known_hosts\nssh-config: none\nconnect-timeout: 3s\n")
	write(t, filepath.Join(vol["secrets"], "id_ed25519"), string(key))
	write(t, filepath.Join(vol["secrets"], "known_hosts"), string(known))
	for _, f := range []string{"inventory.yaml", "config.yaml"} { // a ConfigMap's defaultMode
		_ = os.Chmod(filepath.Join(vol["config"], f), 0o644)
	}
	for _, d := range []string{vol["secrets"], vol["runs"]} { // fsGroup 65532
		_ = filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, image.User, image.User) })
	}
	_ = os.Chmod(filepath.Join(vol["secrets"], "id_ed25519"), 0o400)

	run := func(cj *batchv1.CronJob, ct corev1.Container, index int) (int, string) {
		t.Helper()
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		script := []string{"set -e", `R="$1"; shift`, `mount --bind "$R" "$R"`, `mount -o remount,bind,ro "$R"`}
		for _, vm := range ct.VolumeMounts {
			v := volumeOf(pod, vm.Name)
			target := filepath.Join(rootfs, vm.MountPath)
			if err := os.MkdirAll(target, 0o755); err != nil { // the kubelet makes mount points
				t.Fatal(err)
			}
			switch {
			case v.EmptyDir != nil:
				script = append(script, fmt.Sprintf("mount -t tmpfs -o size=64m,mode=1777 tmpfs %q", target))
			case v.ConfigMap != nil, v.Secret != nil, v.PersistentVolumeClaim != nil:
				src := vol[vm.Name]
				script = append(script, fmt.Sprintf("mount --bind %q %q", src, target))
				if vm.ReadOnly {
					script = append(script, fmt.Sprintf("mount -o remount,bind,ro %q", target))
				}
			}
		}
		env := []string{"PATH=/usr/local/bin", fmt.Sprintf("JOB_COMPLETION_INDEX=%d", index)}
		for _, e := range ct.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		args := make([]string, len(ct.Args))
		for i, a := range ct.Args {
			args[i] = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", fmt.Sprint(index))
		}
		script = append(script, fmt.Sprintf(`exec env -i %s %s --userspec=%d:%d "$R" %s "$@"`, strings.Join(env, " "), chroot, image.User, image.User, image.Entrypoint))
		cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", strings.Join(script, "\n"), "sh", rootfs}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s/%s: %v", cj.Name, ct.Name, err)
		}
		t.Logf("%s/%s %v: exit %d", cj.Name, ct.Name, args, code)
		return code, out.String()
	}
	mustRun := func(cj *batchv1.CronJob, ct corev1.Container, index int) {
		t.Helper()
		if code, out := run(cj, ct, index); code > exitFindings {
			t.Fatalf("%s/%s: exit %d under a read-only root as %d:\n%s", cj.Name, ct.Name, code, image.User, out)
		}
	}
	sweep := m.cronJobs["whyoffline-sweep"]
	for k := 0; k < int(*sweep.Spec.JobTemplate.Spec.Completions); k++ {
		mustRun(sweep, sweep.Spec.JobTemplate.Spec.Template.Spec.Containers[0], k)
	}
	merge := m.cronJobs["whyoffline-merge"]
	pod := merge.Spec.JobTemplate.Spec.Template.Spec
	for _, ct := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		mustRun(merge, ct, 0)
	}
	// the root is really read-only: a report written outside the declared
	// mounts fails
	outside := pod.Containers[0]
	outside.Args = []string{"report", "/runs/sweep.json", "-o", "csv", "--out", "/home/whyoffline/sweep.csv"}
	if code, out := run(merge, outside, 0); code == 0 || !strings.Contains(out, "read-only file system") {
		t.Errorf("writing outside the mounts: exit %d: %s", code, out)
	}
	for _, name := range []string{"shard-0.json", "sweep.json", "sweep.csv", "sweep.html"} {
		st, err := os.Stat(filepath.Join(vol["runs"], name))
		if err != nil {
			t.Errorf("the runs volume lacks %s: %v", name, err)
			continue
		}
		if uid := fileUID(st); uid != image.User {
			t.Errorf("%s is owned by %d, not the image's user", name, uid)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(vol["runs"], "sweep.csv"))
	if !strings.HasPrefix(string(csv), "host,address,os,status") || strings.Count(string(csv), "\n") < 6 {
		t.Errorf("sweep.csv: %q", csv)
	}
}

// unpack flattens the image's layers into dir, as a container runtime
// would.
func unpack(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		mode := os.FileMode(h.Mode) & os.ModePerm
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, b, mode); err != nil {
				t.Fatal(err)
			}
		default:
			continue
		}
		_ = os.Chmod(p, mode)
		_ = os.Lchown(p, h.Uid, h.Gid)
	}
}

func fileUID(st os.FileInfo) int { return fileOwner(st) }
