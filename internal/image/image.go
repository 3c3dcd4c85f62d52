// Package image builds whyoffline's minimal OCI image without a container
// engine (go-containerregistry): a static binary at
// /usr/local/bin/whyoffline, the CA certificates, /etc/passwd and
// /etc/group with the unprivileged user 65532 (whyoffline), an empty
// /tmp and home; the user 65532, the binary as entrypoint. No shell, no
// package manager: nothing to run but whyoffline.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User is the image's unprivileged user and group.
const User = 65532

// Entrypoint is where the binary lives in the image.
const Entrypoint = "/usr/local/bin/whyoffline"

// Spec is what goes into the image.
type Spec struct {
	Binary  string    // a static whyoffline for Arch
	Arch    string    // amd64, arm64
	CACerts string    // a PEM bundle (Debian: /etc/ssl/certs/ca-certificates.crt)
	Version string    // the image's version label
	Created time.Time // fixed, for a reproducible image
}

// Build assembles the image.
func Build(s Spec) (v1.Image, error) {
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("the binary: %v", err)
	}
	ca, err := os.ReadFile(s.CACerts)
	if err != nil {
		return nil, fmt.Errorf("the CA certificates: %v", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nwhyoffline:x:%d:%d:whyoffline:/home/whyoffline:/sbin/nologin\n", User, User)
	group := fmt.Sprintf("root:x:0:\nwhyoffline:x:%d:\n", User)
	base, err := layer(s.Created, []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, body: []byte("hosts: files dns\n")},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/whyoffline/", mode: 0o700, dir: true, uid: User},
	})
	if err != nil {
		return nil, err
	}
	app, err := layer(s.Created, []entry{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: "usr/local/bin/whyoffline", mode: 0o755, body: bin},
	})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, base, app); err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", s.Arch, v1.Time{Time: s.Created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", User, User),
		Entrypoint: []string{Entrypoint},
		Cmd:        []string{"--help"},
		Env:        []string{"PATH=/usr/local/bin", "HOME=/home/whyoffline", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		WorkingDir: "/home/whyoffline",
		Labels: map[string]string{
			"org.opencontainers.image.title":    "whyoffline",
			"org.opencontainers.image.version":  s.Version,
			"org.opencontainers.image.licenses": "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cf)
}

// WriteLayout writes img as an OCI image layout directory (what skopeo,
// crane, podman and containerd import).
func WriteLayout(dir string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}

// ReadLayout reads back the first image of an OCI layout.
func ReadLayout(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) == 0 {
		return nil, fmt.Errorf("%s holds no image", dir)
	}
	return idx.Image(m.Manifests[0].Digest)
}

type entry struct {
	name string
	mode int64
	dir  bool
	uid  int
	body []byte
}

func layer(mtime time.Time, entries []entry) (v1.Layer, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := b.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}
