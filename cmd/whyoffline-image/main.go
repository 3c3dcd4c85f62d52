// Command whyoffline-image builds whyoffline's OCI image from a static
// binary, without a container engine (make image): an OCI layout
// directory that skopeo, crane, podman or containerd push or import, e.g.
//
//	skopeo copy oci:dist/image docker://registry.example.com/whyoffline:VERSION
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/whyoffline/whyoffline/internal/image"
)

func main() {
	bin := flag.String("binary", "", "a static whyoffline binary (CGO_ENABLED=0)")
	arch := flag.String("arch", "amd64", "the binary's architecture")
	ca := flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle to ship (Debian's ca-certificates)")
	version := flag.String("version", "dev", "the image's version label")
	created := flag.String("created", "", "the image's creation time, RFC 3339 (default: the epoch, for a reproducible image)")
	out := flag.String("out", "dist/image", "the OCI layout directory to write")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "whyoffline-image: give -binary (a static whyoffline)")
		os.Exit(2)
	}
	when := time.Unix(0, 0).UTC()
	if *created != "" {
		t, err := time.Parse(time.RFC3339, *created)
		if err != nil {
			fmt.Fprintf(os.Stderr, "whyoffline-image: -created %q: %v\n", *created, err)
			os.Exit(2)
		}
		when = t
	}
	img, err := image.Build(image.Spec{Binary: *bin, Arch: *arch, CACerts: *ca, Version: *version, Created: when})
	if err == nil {
		err = image.WriteLayout(*out, img)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "whyoffline-image: %v\n", err)
		os.Exit(1)
	}
	d, _ := img.Digest()
	fmt.Printf("%s: %s\n", *out, d)
}
