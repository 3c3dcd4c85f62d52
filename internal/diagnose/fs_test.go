package diagnose

import (
	"io/fs"
	"os"
	"testing"

	"github.com/whyoffline/whyoffline/playbooks"
)

func playbooksFS() fs.FS { return playbooks.FS }

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
