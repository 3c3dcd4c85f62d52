package inventory

import (
	"strings"
	"testing"
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
