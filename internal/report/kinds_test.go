package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
)

// TestErrorKindsEverywhere: the error kinds of docs/contract.md, of the
// JSON schema and of the code are one list, and each has a remedy — a
// kind added in one place only fails here.
func TestErrorKindsEverywhere(t *testing.T) {
	var code []string
	for _, k := range result.ErrorKinds() {
		code = append(code, string(k))
		if _, ok := errorRemedies[k]; !ok {
			t.Errorf("error kind %s has no remedy in errorRemedies", k)
		}
	}
	if len(errorRemedies) != len(code) {
		t.Errorf("%d remedies for %d kinds", len(errorRemedies), len(code))
	}

	contract, err := os.ReadFile(filepath.Join("..", "..", "docs", "contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(contract)
	i := strings.Index(doc, "`error.kind`:")
	if i < 0 {
		t.Fatal("docs/contract.md no longer lists `error.kind`:")
	}
	para := doc[i+len("`error.kind`:"):]
	if j := strings.Index(para, "\n\n"); j >= 0 {
		para = para[:j]
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(para, -1) {
		listed = append(listed, m[1])
	}
	if got, want := strings.Join(listed, ","), strings.Join(code, ","); got != want {
		t.Errorf("contract error kinds\n %s\ncode\n %s", got, want)
	}

	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "whyoffline-v1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(schema.Defs["errorKind"].Enum, ","), strings.Join(code, ","); got != want {
		t.Errorf("schema error kinds\n %s\ncode\n %s", got, want)
	}
}
