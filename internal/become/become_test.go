package become

import (
	"strings"
	"testing"
)

func quote(s string) string { return "'" + s + "'" }

func TestMethods(t *testing.T) {
	cases := []struct {
		method, user, cmd, want, target string
	}{
		{"sudo", "backup", "exec sudo -n /bin/sh -c 'x'", "exec sudo -n -u 'backup' /bin/sh -c 'x'", "/bin/sh"},
		{"doas", "root", "exec doas -n /bin/sh -c 'x'", "exec doas -n /bin/sh -c 'x'", "/bin/sh"},
		{"community.general.dzdo", "db2inst1", "exec dzdo -n /bin/sh -c 'x'", "exec dzdo -n -u 'db2inst1' /bin/sh -c 'x'", "/bin/sh"},
	}
	for _, c := range cases {
		m, ok := Lookup(c.method)
		if !ok {
			t.Fatalf("%s not known", c.method)
		}
		got, err := m.AsUser(c.cmd, c.user, quote)
		if err != nil || got != c.want {
			t.Errorf("%s as %s: %q, %v", c.method, c.user, got, err)
		}
		if tg := m.Target(got); tg != c.target {
			t.Errorf("%s: target %q", c.method, tg)
		}
	}
	pf, _ := Lookup("pfexec")
	if _, err := pf.AsUser("exec pfexec /bin/sh", "oracle", quote); err == nil {
		t.Error("pfexec cannot switch users, and must say so")
	}
	for _, m := range []string{"su", "pbrun", "ansible.builtin.runas", "machinectl", "my-own"} {
		if WhySkipped(m) == "" {
			t.Errorf("%s is not skipped", m)
		}
	}
	for _, m := range Names() {
		if WhySkipped(m) != "" {
			t.Errorf("%s is skipped", m)
		}
	}
}

func TestClassifyAndFix(t *testing.T) {
	sudo, _ := Lookup("sudo")
	doas, _ := Lookup("doas")
	for _, c := range []struct {
		m      Method
		stderr string
		want   Reason
		fix    string
	}{
		{sudo, "sudo: a password is required", NeedsPassword, `"ops ALL=(root) NOPASSWD: /bin/sh"`},
		{sudo, "sudo: sorry, you must have a tty to run sudo", NeedsTTY, `Defaults:ops !requiretty`},
		{sudo, "Sorry, user ops is not allowed to execute '/bin/sh' as root", NotAllowed, "NOPASSWD: /bin/sh"},
		{doas, "doas: Authentication required", NeedsPassword, `permit nopass ops as root cmd /bin/sh`}, // what Debian's doas -n says
		{doas, "doas: Authentication failed", NeedsPassword, `permit nopass ops as root cmd /bin/sh`},
		{doas, "doas: Operation not permitted", NotAllowed, "/etc/doas.conf"},
		{doas, "sh: 1: doas: not found", NotInstalled, "doas is not installed"},
	} {
		r := c.m.Classify(c.stderr)
		if r != c.want {
			t.Errorf("%s %q: %s, want %s", c.m.Name, c.stderr, r, c.want)
		}
		if fix := c.m.Fix(r, "ops", "/bin/sh"); !strings.Contains(fix, c.fix) {
			t.Errorf("%s %q: fix %q lacks %q", c.m.Name, c.stderr, fix, c.fix)
		}
	}
}
