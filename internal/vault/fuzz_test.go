package vault

import (
	"os"
	"testing"
)

// FuzzDecrypt: any text as a vault never panics, and never "opens" with
// the wrong password.
func FuzzDecrypt(f *testing.F) {
	for _, p := range []string{"testdata/v11.yml", "testdata/v12-prod.yml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	k := &Keyring{}
	k.Add("default", []byte("not the password"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := k.Decrypt(data); err == nil && IsVaulted(data) {
			// a forged vault that verifies with a password it was not
			// made with would be an HMAC break
			t.Fatalf("opened %q", data)
		}
	})
}
