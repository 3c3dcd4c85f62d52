package inventory_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transports"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func byName(inv *inventory.Inventory) map[string]*inventory.Host {
	m := map[string]*inventory.Host{}
	for _, h := range inv.Hosts {
		m[h.Name] = h
	}
	return m
}

func TestAnsibleINI(t *testing.T) {
	p := write(t, "hosts", `
# comment
bastion.example.com

[web]
web[01:03].example.com ansible_user=deploy
web09 ansible_host=10.0.0.9 ansible_port=2222

[db]
db1 ansible_host=10.0.1.1 ansible_become=yes ansible_password="s3cret word"

[win]
win1 ansible_connection=winrm ansible_winrm_transport=ntlm ansible_winrm_scheme=https
win2 ansible_host=10.0.2.2 ansible_connection=winrm ansible_winrm_transport=kerberos ansible_winrm_realm=corp.example.com ansible_winrm_kerberos_hostname_override=win2.corp.example.com

[prod:children]
web
db

[prod:vars]
ansible_user=ops
ansible_ssh_private_key_file=~/.ssh/prod_ed25519

[all:vars]
ansible_user=root
whyoffline_role=member
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	if len(inv.Hosts) != 8 {
		t.Fatalf("got %d hosts, want 8: %v", len(inv.Hosts), h)
	}
	cases := []struct {
		name, addr, user string
		port             int
		groups           string
	}{
		{"bastion.example.com", "bastion.example.com", "root", 0, ""},
		{"web01.example.com", "web01.example.com", "deploy", 0, "prod,web"}, // host var beats group var
		{"web03.example.com", "web03.example.com", "deploy", 0, "prod,web"},
		{"web09", "10.0.0.9", "ops", 2222, "prod,web"}, // child group var? prod is the parent: ops
		{"db1", "10.0.1.1", "ops", 0, "db,prod"},
	}
	for _, c := range cases {
		got := h[c.name]
		if got == nil {
			t.Errorf("%s missing", c.name)
			continue
		}
		if got.Address != c.addr || got.User != c.user || got.Port != c.port || strings.Join(got.Groups, ",") != c.groups {
			t.Errorf("%s = addr %q user %q port %d groups %v; want %q %q %d %q", c.name, got.Address, got.User, got.Port, got.Groups, c.addr, c.user, c.port, c.groups)
		}
	}
	if !h["db1"].Become || h["db1"].BecomeMethod != "sudo" || h["db1"].Password.Reveal() != "s3cret word" {
		t.Errorf("db1 become/password not applied: %+v", h["db1"])
	}
	if kf, _ := h["db1"].Options.Get("key_file"); kf.Value != "~/.ssh/prod_ed25519" || !strings.HasSuffix(kf.Source, "hosts:22") {
		t.Errorf("group key file not inherited, or its source lost: %+v", kf)
	}
	w := h["win1"]
	if w.Transport != inventory.WinRM || w.OS != "windows" || w.Opt("winrm_scheme") != "https" || w.Opt("winrm_transport") != "ntlm" {
		t.Errorf("win1 = %+v", w)
	}
	if w := h["win2"]; w.Opt("winrm_transport") != "kerberos" || w.Opt("kerberos_realm") != "CORP.EXAMPLE.COM" || w.Opt("kerberos_hostname") != "win2.corp.example.com" || w.Address != "10.0.2.2" {
		t.Errorf("win2 = %+v", w)
	}
	if h["web01.example.com"].Role != "member" {
		t.Errorf("all:vars whyoffline_role not applied")
	}
}

func TestSecretNeverFormats(t *testing.T) {
	h := inventory.Host{Name: "x", Password: inventory.Secret("hunter2")}
	for _, s := range []string{h.Password.String(), strings.TrimSpace(strings.Join([]string{
		sprintf("%v", h), sprintf("%+v", h), sprintf("%#v", h), sprintf("%s", h.Password), sprintf("%q", h.Password)}, " "))} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret leaked: %s", s)
		}
	}
}

func TestAnsibleYAML(t *testing.T) {
	p := write(t, "inv.yml", `
all:
  vars:
    ansible_user: admin
  hosts:
    jump01:
      ansible_host: 192.0.2.10
  children:
    linux:
      vars:
        ansible_become: true
        app_config: {nested: ignored}
      hosts:
        app[1:2]:
          ansible_port: 2200
      children:
        solaris:
          vars:
            whyoffline_os: solaris
            ansible_become_method: pfexec
            ansible_ssh_common_args: "-o ProxyJump=jump01"
          hosts:
            sol10:
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	if len(h) != 4 {
		t.Fatalf("hosts = %v", h)
	}
	if a := h["app1"]; a.Port != 2200 || !a.Become || a.User != "admin" {
		t.Errorf("app1 = %+v", a)
	}
	s := h["sol10"]
	if s.OS != "solaris" || s.BecomeMethod != "pfexec" || !s.Become || s.Opt("proxy_jump") != "jump01" || strings.Join(s.Groups, ",") != "linux,solaris" {
		t.Errorf("sol10 = %+v", s)
	}
}

func TestOwnYAML(t *testing.T) {
	p := write(t, "fleet.yaml", `
manager:
  host: dsm.example.com
  port: 4119
  mode: bidirectional
defaults:
  user: scan
  timeout: 45s
groups:
  managers:
    hosts:
      dsm01: {address: 10.0.0.2, role: manager}
  web:
    vars: {become: true}
    hosts:
      - web01
      - {name: web02, address: 10.0.0.12, os: linux}
hosts:
  lone: {port: 2022}
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	if inv.Manager.Host != "dsm.example.com" || inv.Manager.Port != 4119 || inv.Manager.Mode != "bidirectional" {
		t.Errorf("manager = %+v", inv.Manager)
	}
	h := byName(inv)
	if h["dsm01"].Role != "manager" || h["web02"].Address != "10.0.0.12" || !h["web01"].Become || h["lone"].Port != 2022 || h["lone"].Timeout.Seconds() != 45 {
		t.Errorf("hosts wrong: %+v %+v %+v", h["dsm01"], h["web02"], h["lone"])
	}
}

func TestPlainListAndStdin(t *testing.T) {
	inv, err := inventory.Load([]string{"-"}, strings.NewReader("# offline today\nroot@10.0.0.5:2222\nweb7.example.com\n\n[2001:db8::1]:22\n"), transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	// Ansible names the host root@10.0.0.5:2222, whole
	if x := h["root@10.0.0.5:2222"]; x == nil || x.User != "root" || x.Port != 2222 || x.Address != "10.0.0.5" {
		t.Errorf("user@host:port not parsed: %+v", x)
	}
	if h["web7.example.com"] == nil || h["2001:db8::1"] == nil {
		t.Errorf("hosts = %v", h)
	}
}

func TestBadInventoriesNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, file, body, want string
		line                   int
	}{
		{"typo", "f.yaml", "hosts:\n  web01:\n    adress: 10.0.0.1\n", `did you mean "address"`, 3},
		{"bad port", "f.yaml", "hosts:\n  web01: {port: 99999}\n", "port", 2},
		{"yaml syntax", "f.yaml", "hosts:\n  web01: {port: 22\n  x: [\n", "YAML syntax", 0},
		{"ini kv", "hosts", "[web]\nweb01 ansible_port\n", "key=value", 2},
		{"ini section", "hosts", "[web\nweb01\n", "closing", 1},
		{"range", "hosts", "web[05:01]\n", "end must be", 1},
		{"injection", "hosts", "web01;rm\n", "no host or user name has", 1},
		{"unknown child", "f.yaml", "groups:\n  a:\n    children: [b]\n", "not defined", 2},
		{"bad os", "f.yaml", "hosts:\n  h: {os: plan9}\n", "an OS whyoffline knows", 2},
		{"spn is an ip", "f.yaml", "hosts:\n  w: {transport: winrm, kerberos_hostname: 10.0.0.5}\n", "DNS name", 2},
		{"transport option typo", "f.yaml", "hosts:\n  w:\n    transport: winrm\n    winrm_shceme: https\n", `did you mean "winrm_scheme"`, 4},
		{"cycle", "hosts", "[a:children]\nb\n[b:children]\na\n[a]\nh\n", "own ancestor", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, c.file, c.body)
			_, err := inventory.Load([]string{p}, nil, transports.Options())
			var ie *inventory.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *inventory.Error", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), p) {
				t.Errorf("err = %q, want file %s and %q", err, p, c.want)
			}
			if c.line > 0 && ie.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", ie.Line, c.line, err)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := inventory.Load([]string{"/nonexistent/inv.yaml"}, nil, transports.Options())
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/inv.yaml") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestLimit(t *testing.T) {
	mk := func(name string, groups ...string) *inventory.Host {
		return &inventory.Host{Name: name, Address: name, Groups: groups}
	}
	hosts := []*inventory.Host{mk("web01", "web", "prod"), mk("web02", "web", "staging"), mk("db01", "db", "prod"), mk("sol1", "solaris")}
	cases := []struct{ pattern, want string }{
		{"", "web01,web02,db01,sol1"},
		{"web", "web01,web02"},
		{"web*,sol1", "web01,web02,sol1"},
		{"prod:&web", "web01"},
		{"all:!prod", "web02,sol1"},
		{"db01", "db01"},
		{"nomatch", ""},
	}
	for _, c := range cases {
		got, err := inventory.Limit(hosts, c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range got {
			names = append(names, h.Name)
		}
		if strings.Join(names, ",") != c.want {
			t.Errorf("Limit(%q) = %v, want %s", c.pattern, names, c.want)
		}
	}
	if _, err := inventory.Limit(hosts, "web["); err == nil {
		t.Error("bad glob accepted")
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// TestRangesAreCountedBeforeTheyExpand: a few hundred bytes of big ranges
// are refused before they are expanded, naming the line.
func TestRangesAreCountedBeforeTheyExpand(t *testing.T) {
	var b strings.Builder
	b.WriteString("[web]\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "w%02d-[0:99999]\n", i)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "hosts.ini")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := inventory.Load([]string{path}, nil, transports.Options())
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "hosts.ini:12:") || !strings.Contains(err.Error(), "past 1000000 hosts") {
		t.Fatalf("err = %v, want the 11th range's line refused", err)
	}
	t.Logf("%d bytes of ranges: %d MiB allocated before the refusal", b.Len(), (after.TotalAlloc-before.TotalAlloc)>>20)
	// nested ranges multiply: counted, not built
	y := "all:\n  hosts:\n    \"a[0:999][0:999][0:9]\":\n"
	if err := os.WriteFile(path+".yaml", []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Load([]string{path + ".yaml"}, nil, transports.Options()); err == nil || !strings.Contains(err.Error(), "more than 1000000 hosts") {
		t.Errorf("nested ranges: err = %v", err)
	}
}

// TestINIAsAnsibleReadsIt: comments where Ansible allows them — after a
// section header, after a child group's name, '#' ending a host line's
// value even mid-word, a quoted [vars] value followed by a comment — a
// range with an empty start, and Ansible's fully qualified connection
// names.
func TestINIAsAnsibleReadsIt(t *testing.T) {
	p := write(t, "hosts", `
[web]   # the frontends
web01 ansible_user=deploy ansible_host=10.0.0.1#primary ansible_port=2222
mail[:2].example.com

[win]
w1 ansible_connection=ansible.builtin.winrm
w2 ansible_connection=ansible.windows.psrp
s1 ansible_connection=ansible.builtin.ssh
s2 ansible_connection=paramiko_ssh

[prod:children]  # everything in production
web   # the frontends
win  # windows

[prod:vars]
ansible_password='s3cret'  # rotate monthly
ansible_become_user="root"
note=plain # kept as written
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	// the '#' mid-word ends the line: ansible_port=2222 is comment
	if w := h["web01"]; w == nil || w.Address != "10.0.0.1" || w.User != "deploy" || w.Port != 0 || w.Password.Reveal() != "s3cret" || strings.Join(w.Groups, ",") != "prod,web" {
		t.Errorf("web01 = %+v", w)
	}
	for _, n := range []string{"mail0.example.com", "mail1.example.com", "mail2.example.com"} {
		if h[n] == nil {
			t.Errorf("%s missing: the range [:2] starts at 0", n)
		}
	}
	for name, want := range map[string]string{"w1": inventory.WinRM, "w2": inventory.WinRM, "s1": inventory.SSH, "s2": inventory.SSH} {
		if h[name] == nil || h[name].Transport != want {
			t.Errorf("%s: transport %+v, want %s", name, h[name], want)
		}
	}
}

// TestYAMLMergeKeysAndAliases: merge keys (<<: *anchor) and whole-host
// aliases read as YAML means them — what ansible-inventory --list gives
// for this file: web02 is web01's vars, web03 web01's with its own
// address, db's vars webvars' with its own port.
func TestYAMLMergeKeysAndAliases(t *testing.T) {
	p := write(t, "inv.yml", `all:
  vars:
    ansible_user: admin
  children:
    web:
      vars: &webvars
        ansible_port: 2222
        ansible_user: deploy
      hosts:
        web01: &web01
          ansible_host: 10.0.0.1
          ansible_user: root
        web02: *web01
        web03:
          <<: *web01
          ansible_host: 10.0.0.3
    db:
      vars:
        <<: *webvars
        ansible_port: 5432
      hosts:
        db01:
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web01": "10.0.0.1 2222 root", "web02": "10.0.0.1 2222 root", "web03": "10.0.0.3 2222 root", "db01": "db01 5432 deploy"}
	h := byName(inv)
	for name, w := range want {
		got := ""
		if x := h[name]; x != nil {
			got = fmt.Sprintf("%s %d %s", x.Address, x.Port, x.User)
		}
		if got != w {
			t.Errorf("%s: %q, want %q (as ansible-inventory reads it)", name, got, w)
		}
	}
	if len(h) != 4 {
		t.Errorf("%d hosts, want 4", len(h))
	}
}

// TestRangeWithPort: a range before a :port suffix expands and takes the
// port (web[01:02]:2222 is web01 and web02 on 2222, as ansible-inventory
// reads it); IPv6 addresses keep their colons.
func TestRangeWithPort(t *testing.T) {
	p := write(t, "hosts", "[web]\nweb[01:02]:2222\nfe80::1\n[2001:db8::7]:2200\n")
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	for name, port := range map[string]int{"web01": 2222, "web02": 2222, "fe80::1": 0, "2001:db8::7": 2200} {
		if h[name] == nil || h[name].Port != port {
			t.Errorf("%s: %+v, want port %d", name, h[name], port)
		}
	}
	if len(h) != 4 {
		t.Errorf("%d hosts: %v", len(h), h)
	}
}

// TestAnsibleHostsSkippedNotRefused: a host of an Ansible inventory that
// whyoffline cannot scan the way Ansible would reach it is skipped with
// the reason (and, for a bad value, its file and line); the rest of the
// file is scanned. Ansible parses such files; only what it rejects is an
// error.
func TestAnsibleHostsSkippedNotRefused(t *testing.T) {
	for _, c := range []struct{ name, line, want string }{
		{"become su", "h ansible_become=true ansible_become_method=su", "without a prompt (doas, dzdo, pfexec, sudo)"},
		{"local connection", "h ansible_connection=local", "ssh or winrm only"},
		{"network_cli", "h ansible_connection=ansible.netcommon.network_cli", "ssh or winrm only"},
		{"credssp", "h ansible_connection=winrm ansible_winrm_transport=credssp", "CredSSP"},
		{"ssh option checked by ssh", "h whyoffline_ssh_legacy=maybe", `hosts:1: ssh_legacy: "maybe" is not true or false`},
		{"bad jump host", "h ansible_ssh_common_args='-J u@jump:99999'", "is not a jump host list"},
		{"template with a lookup", "h ansible_host=\"{{ lookup('env', 'X') }}\"", "needs more than the inventory's variables"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, "hosts", c.line+"\nok01 ansible_host=10.0.0.9\n")
			inv, err := inventory.Load([]string{p}, nil, transports.Options())
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(inv.Hosts) != 1 || inv.Hosts[0].Name != "ok01" {
				t.Errorf("hosts %v, want ok01 only", inv.Hosts)
			}
			if len(inv.Skipped) != 1 || inv.Skipped[0].Name != "h" || !strings.Contains(inv.Skipped[0].Reason, c.want) || !strings.HasSuffix(inv.Skipped[0].Source, "hosts:1") {
				t.Errorf("skipped %+v, want h (hosts:1) because %q", inv.Skipped, c.want)
			}
		})
	}
	// become off: the method is not used, nothing to skip
	p := write(t, "hosts", "h ansible_become_method=su\n")
	if inv, err := inventory.Load([]string{p}, nil, transports.Options()); err != nil || len(inv.Hosts) != 1 || len(inv.Skipped) != 0 {
		t.Errorf("become_method=su without become: %v %+v", err, inv)
	}
}

// TestTemplatesRenderedFromInventoryVars: the Jinja whyoffline renders.
func TestTemplatesRenderedFromInventoryVars(t *testing.T) {
	p := write(t, "inv.yml", `all:
  vars:
    domain: corp.example.com
    deploy_user: "{{ base_user }}-ops"
    base_user: app
  hosts:
    web01:
      ansible_host: "{{ inventory_hostname }}.{{ domain }}"
      ansible_user: "{{ deploy_user }}"
      ansible_port: "{{ web_port | default(2222) }}"
    web02:
      ansible_host: "{{ inventory_hostname_short }}.{{ missing | default('fallback.example.com') }}"
`)
	inv, err := inventory.Load([]string{p}, nil, transports.Options())
	if err != nil {
		t.Fatal(err)
	}
	h := byName(inv)
	if x := h["web01"]; x == nil || x.Address != "web01.corp.example.com" || x.User != "app-ops" || x.Port != 2222 {
		t.Errorf("web01: %+v", x)
	}
	if x := h["web02"]; x == nil || x.Address != "web02.fallback.example.com" {
		t.Errorf("web02: %+v", x)
	}
}
