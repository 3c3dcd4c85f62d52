package inventory

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestExpandRange(t *testing.T) {
	cases := map[string]string{
		"web[01:03].x": "web01.x,web02.x,web03.x",
		"n[0:6:3]":     "n0,n3,n6",
		"db-[a:c]":     "db-a,db-b,db-c",
		"r[1:2]c[1:2]": "r1c1,r1c2,r2c1,r2c2",
		"plain":        "plain",
	}
	for in, want := range cases {
		got, err := expandRange(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("expandRange(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := expandRange("h[0:99999999]"); err == nil {
		t.Error("huge range accepted")
	}
}

// TestErrorsNeverQuoteSecrets: an INI mistake on a line that holds a
// password quotes the line with the password hidden.
func TestErrorsNeverQuoteSecrets(t *testing.T) {
	for _, body := range []string{
		"[web]\nweb01 ansible_password='s3cret-Pw ansible_user=x\n",
		"[web:vars]\nansible_become_pass s3cret-Pw\n",
		"[web]\nweb01 s3cret-Pw ansible_ssh_pass=s3cret-Pw\n",
	} {
		_, err := parseINI("hosts.ini", []byte(body))
		if err == nil {
			t.Fatalf("%q parsed", body)
		}
		if strings.Contains(err.Error(), "s3cret-Pw") && !strings.Contains(body, "web01 s3cret-Pw") {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
	if got := clipLine(`web01 ansible_password="a b c" ansible_user=x vault_pw=abc`); strings.Contains(got, "a b c") || strings.Contains(got, "abc") || !strings.Contains(got, "ansible_user=x") {
		t.Errorf("clipLine: %q", got)
	}
}

// TestDeepChildrenChainIsBounded: a 20,000-group children chain is refused
// at once (not walked quadratically), naming the file and line.
func TestDeepChildrenChainIsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "[g%d:children]\ng%d\n", i, i+1)
	}
	b.WriteString("[g20000]\nweb01\n")
	start := time.Now()
	src, err := parseINI("deep.ini", []byte(b.String()))
	if err == nil {
		_, _, err = src.resolve()
	}
	if err == nil || !strings.Contains(err.Error(), "nest more than 1000 deep") || time.Since(start) > 10*time.Second {
		t.Errorf("a 20,000-deep chain: %v after %s", err, time.Since(start))
	}
}
