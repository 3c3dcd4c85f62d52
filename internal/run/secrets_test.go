package run

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/whyoffline/whyoffline/internal/diagnose"
	"github.com/whyoffline/whyoffline/internal/report"
	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/scan"
	"github.com/whyoffline/whyoffline/internal/secret"
)

// TestRunSecretsHiddenBesideHosts: what a run says beside its hosts (here
// a skipped host's reason and the manager API's record) goes through the
// run's scrubber before the report is written.
func TestRunSecretsHiddenBesideHosts(t *testing.T) {
	const key = "2:ApiKeyEchoed0123456789"
	cfg := Config{
		Skipped:    []result.Skipped{{Name: "web01", Reason: "the manager answered: invalid key " + key}},
		Scan:       scan.Options{Diagnose: &diagnose.Options{MaxClockSkew: time.Minute}},
		ManagerAPI: &result.ManagerAPI{URL: "https://dsm.example/api?key=" + key},
		Secrets:    secret.New(key),
	}
	var out bytes.Buffer
	w, err := report.New("json", &out, report.Options{SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sweep(context.Background(), cfg, w); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), key) || !strings.Contains(out.String(), secret.Hidden) {
		t.Errorf("the key shows, or nothing says it was hidden:\n%s", out.String())
	}
}
