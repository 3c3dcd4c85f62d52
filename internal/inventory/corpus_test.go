package inventory_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/whyoffline/whyoffline/internal/inventory"
	"github.com/whyoffline/whyoffline/internal/transport/winrm"
	"github.com/whyoffline/whyoffline/internal/transports"
)

// ansibleView is what testdata/ansible_expect.py says Ansible would use
// for one host, from `ansible-inventory --list`.
type ansibleView struct {
	Groups       []string `json:"groups"`
	Skip         string   `json:"skip"`
	Transport    string   `json:"transport"`
	Address      string   `json:"address"`
	Port         int      `json:"port"`
	User         string   `json:"user"`
	Password     string   `json:"password"`
	Become       bool     `json:"become"`
	BecomeUser   string   `json:"become_user"`
	BecomeMethod string   `json:"become_method"`
	KeyFile      string   `json:"key_file"`
	Jump         string   `json:"jump"`
	ProxyCommand string   `json:"proxy_command"`
	Scheme       string   `json:"scheme"`
}

// corpusDifferences are the differences from Ansible the corpus test
// accepts, each with its reason (file → host → field). Empty: whyoffline
// reads the corpus as Ansible does.
var corpusDifferences = map[string]map[string]map[string]string{
	"mixed-value-types.yml": {"t03": {"skipped": "a user name with a space: whyoffline takes none (a user name reaches sudo -u and a ProxyCommand's %r); the host is skipped, saying so"}},
}

// TestAnsibleCorpus holds the loader to Ansible itself on inventories
// shaped like real projects' (testdata/corpus, sources in its README):
// ansible-inventory --list gives the host set, groups and merged vars;
// ansible_expect.py applies the connection plugins' own rules to them;
// whyoffline must read the same host set, groups, address, port, user,
// transport, password, become (and its user), key file, jump host, proxy
// command and WinRM scheme — or skip, with a reason, exactly the hosts
// it cannot scan (a connection or become method it does not speak, a
// template it cannot render).
func TestAnsibleCorpus(t *testing.T) {
	if _, err := exec.LookPath("ansible-inventory"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-inventory is missing: CI must hold the loader to Ansible (make unit-deps installs ansible-core)")
		}
		t.Skip("ansible-inventory not installed (apt-get install ansible-core)")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	// Ansible's view of every file first, a few at a time: each
	// ansible-inventory run is a second of Python start-up
	views := make([]map[string]ansibleView, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(2, runtime.NumCPU()))
	for i, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			views[i] = ansibleReads(t, file)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var rows []string
	compared, differences := 0, 0
	for i, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		want := views[i]
		inv, err := inventory.Load([]string{file}, nil, transports.Options())
		if err != nil {
			t.Errorf("%s: Ansible reads it, whyoffline refuses it: %v", file, err)
			continue
		}
		got, skipped := byNameAndSkips(inv)
		base := filepath.Base(file)
		nFields, nDiff := 0, 0
		for _, name := range sortedNames(want) {
			w := want[name]
			if w.Skip != "" {
				if _, ok := skipped[name]; !ok {
					t.Errorf("%s: %s: Ansible would reach it by %q, which whyoffline cannot use: want it skipped with that reason, got %+v", base, name, w.Skip, got[name])
				}
				continue
			}
			h := got[name]
			if h == nil && corpusDifferences[base][name]["skipped"] != "" && skipped[name] != "" {
				nDiff++
				continue
			}
			if h == nil {
				t.Errorf("%s: %s: Ansible has it; whyoffline does not (skipped: %q)", base, name, skipped[name])
				continue
			}
			for field, pair := range fields(w, h) {
				nFields++
				if pair[0] == pair[1] {
					continue
				}
				if why := corpusDifferences[base][name][field]; why != "" {
					nDiff++
					continue
				}
				t.Errorf("%s: %s: %s is %q for Ansible, %q for whyoffline", base, name, field, pair[0], pair[1])
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: whyoffline has host %q, Ansible does not", base, name)
			}
		}
		compared += nFields
		differences += nDiff
		rows = append(rows, fmt.Sprintf("%-30s %5d hosts %4d skipped %5d fields %3d accepted differences", base, len(want), len(inv.Skipped), nFields, nDiff))
	}
	if len(rows) < 30 {
		t.Errorf("the corpus has %d inventories; it should hold at least 30", len(rows))
	}
	t.Logf("\n%s\n%d files, %d fields compared, %d accepted differences", strings.Join(rows, "\n"), len(rows), compared, differences)
}

// fields pairs Ansible's and whyoffline's value of every compared field.
func fields(w ansibleView, h *inventory.Host) map[string][2]string {
	opt := func(k string) string { o, _ := h.Options.Get(k); return o.Value }
	groups := append([]string(nil), h.Groups...)
	sort.Strings(groups)
	f := map[string][2]string{
		"groups":    {strings.Join(w.Groups, ","), strings.Join(groups, ",")},
		"transport": {w.Transport, h.Transport},
		"address":   {w.Address, h.Address},
		"port":      {fmt.Sprint(w.Port), fmt.Sprint(h.Port)},
		"user":      {w.User, h.User},
		"password":  {w.Password, h.Password.Reveal()},
		"become":    {fmt.Sprint(w.Become), fmt.Sprint(h.Become)},
	}
	if w.Become {
		f["become_user"] = [2]string{w.BecomeUser, h.BecomeUserOrRoot()}
		f["become_method"] = [2]string{w.BecomeMethod, h.BecomeMethod}
	}
	switch w.Transport {
	case "ssh":
		f["key_file"] = [2]string{w.KeyFile, opt("key_file")}
		f["jump"] = [2]string{w.Jump, opt("proxy_jump")}
		f["proxy_command"] = [2]string{w.ProxyCommand, opt("proxy_command")}
	case "winrm":
		// what the WinRM transport will dial, not what the inventory says
		e, err := winrm.Endpoint(h, "")
		scheme := e.Scheme
		if err != nil {
			scheme = err.Error()
		}
		f["scheme"] = [2]string{w.Scheme, scheme}
	}
	return f
}

func ansibleReads(t *testing.T, file string) map[string]ansibleView {
	cmd := exec.Command("ansible-inventory", "-i", file, "--list")
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+home, "ANSIBLE_LOCAL_TEMP="+home, "ANSIBLE_NOCOLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	list, err := cmd.Output()
	if err != nil {
		t.Errorf("ansible-inventory -i %s: %v\n%s", file, err, stderr.String())
		return nil
	}
	if strings.Contains(stderr.String(), "Unable to parse") {
		t.Errorf("ansible-inventory cannot parse %s: %s", file, stderr.String())
		return nil
	}
	py := exec.Command("python3", filepath.Join("testdata", "ansible_expect.py"))
	py.Stdin = bytes.NewReader(list)
	py.Stderr = &stderr
	out, err := py.Output()
	if err != nil {
		t.Errorf("ansible_expect.py on %s: %v\n%s", file, err, stderr.String())
		return nil
	}
	var views map[string]ansibleView
	if err := json.Unmarshal(out, &views); err != nil {
		t.Errorf("ansible_expect.py on %s: %v", file, err)
		return nil
	}
	return views
}

func sortedNames(m map[string]ansibleView) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// byNameAndSkips indexes what the loader read: the hosts by name, the
// skip reasons by host name.
func byNameAndSkips(inv *inventory.Inventory) (map[string]*inventory.Host, map[string]string) {
	got := map[string]*inventory.Host{}
	for _, h := range inv.Hosts {
		got[h.Name] = h
	}
	skipped := map[string]string{}
	for _, s := range inv.Skipped {
		skipped[s.Name] = s.Reason
	}
	return got, skipped
}
