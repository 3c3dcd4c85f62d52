package scan

import "testing"

// TestRawNamesDoNotCollide: hosts whose names differ only in what is not
// safe in a file name, or in case, get files of their own.
func TestRawNamesDoNotCollide(t *testing.T) {
	seen := map[string]string{}
	for _, h := range []string{"web01", "web:01", "web_01", "web/01", "WEB01", "Web01", "[2001:db8::1]", "2001_db8__1_"} {
		n := rawName(h)
		if other, ok := seen[n]; ok {
			t.Errorf("%q and %q both save as %q", h, other, n)
		}
		seen[n] = h
	}
	if rawName("web01.example.com") != "web01.example.com" {
		t.Errorf("a plain name changed: %q", rawName("web01.example.com"))
	}
}
