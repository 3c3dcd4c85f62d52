package playbook

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func renderWindows(t *testing.T) string {
	t.Helper()
	return string(renderWindowsScript(t).Body)
}

func renderWindowsScript(t *testing.T) *Script {
	t.Helper()
	set := loadEmbedded(t)
	sc, err := set.RenderPowerShell(Params{Manager: "dsm.example.com", Port: 4120, AgentPort: 4118, Mode: "bidirectional", Nonce: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// placed names rendered line n at the playbook line it comes from.
func placed(s *Script, n int) string {
	if file, line, check, ok := s.Origin(n); ok {
		return fmt.Sprintf("%s:%d (check %s; rendered line %d)", file, line, check, n)
	}
	return fmt.Sprintf("rendered line %d (written by the renderer)", n)
}

// placeParseErrors rewrites the parser's "error at ROW:COL: text" lines to
// the playbook file and line.
func placeParseErrors(s *Script, out string) string {
	re := regexp.MustCompile(`(?m)^(error|missing) at (\d+):(\d+): `)
	return re.ReplaceAllStringFunc(out, func(m string) string {
		sub := re.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return fmt.Sprintf("%s at %s col %s: ", sub[1], placed(s, n), sub[3])
	})
}

// TestWindowsScriptParses: the rendered script parses with the
// tree-sitter PowerShell grammar (npm tree-sitter-powershell, through
// web-tree-sitter: make unit-deps installs both), with no error or
// missing node.
func TestWindowsScriptParses(t *testing.T) {
	node := needTool(t, "node")
	dir, _ := filepath.Abs("testdata/psparse")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "web-tree-sitter")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the PowerShell grammar is not installed in %s and CI is set: run make unit-deps", dir)
		}
		t.Skipf("the PowerShell grammar is not installed (make unit-deps: npm ci in %s)", dir)
	}
	f := filepath.Join(t.TempDir(), "whyoffline.ps1")
	script := renderWindowsScript(t)
	if err := os.WriteFile(f, script.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join(dir, "parse.mjs"), f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nodes ok: true, errors: 0") {
		t.Fatalf("the Windows script does not parse: %v\n%s", err, placeParseErrors(script, string(out)))
	}
	// and the parser does see errors: a broken copy fails
	if err := os.WriteFile(f, []byte(renderWindows(t)+"\nif ($x -eq 1 { 'unclosed'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, filepath.Join(dir, "parse.mjs"), f).CombinedOutput(); err == nil {
		t.Fatalf("a broken script parsed: %s", out)
	}
}

// ps3Constructs are what Windows PowerShell 2.0 (Server 2008 R2, Windows 7)
// cannot run. The script may not use them at all.
var ps3Constructs = []struct {
	re, what string
}{
	{`\[ordered\]`, "[ordered] dictionaries (3.0)"},
	{`(?i)\bConvert(To|From)-Json\b`, "ConvertTo/From-Json (3.0)"},
	{`(?i)\[pscustomobject\]`, "[pscustomobject] (3.0)"},
	{`(?i)\$PSItem\b`, "$PSItem (3.0)"},
	{`(?i)\s-(not)?in\s`, "the -in/-notin operators (3.0)"},
	{`(?i)\s-sh[lr]\s`, "the -shl/-shr operators (3.0)"},
	{`(?i)Get-Content\b[^\n|]*-Tail\b`, "Get-Content -Tail (3.0)"},
	{`(?i)-ErrorAction\s+Ignore\b`, "-ErrorAction Ignore (3.0)"},
	{`(?i)\$using:`, "$using: (3.0)"},
	{`(?i)\bInvoke-(WebRequest|RestMethod)\b`, "Invoke-WebRequest/RestMethod (3.0)"},
	{`::new\(`, "::new() (5.0)"},
	{`(?i)^\s*using\s+namespace\b`, "using namespace (5.0)"},
	{`(?i)^\s*class\s+\w+`, "classes (5.0)"},
	{`\.(ForEach|Where)\(`, ".ForEach()/.Where() (4.0)"},
	{`(?i)-PipelineVariable\b`, "-PipelineVariable (4.0)"},
	{`\?\?|\?\.`, "null-coalescing/conditional operators (7.0)"},
}

// guardedCommands exist only from Windows Server 2012 / PowerShell 3.0 on
// (the NetTCPIP, DnsClient and NetSecurity modules, CIM cmdlets, .NET 4.5
// async reads): a check may use one only where it asks wo_has (or, for a
// method, reflection) first, in the same check.
var guardedCommands = regexp.MustCompile(`(?i)\b(Get-Net[A-Za-z]+|Resolve-DnsName|Get-DnsClient[A-Za-z]*|Get-CimInstance)\b|\.ReadToEndAsync\(`)

// TestWindowsScriptRunsOnPowerShell2 is the lint: no 3.0-or-later
// construct anywhere, and every newer cmdlet behind a guard in its check.
func TestWindowsScriptRunsOnPowerShell2(t *testing.T) {
	set := loadEmbedded(t)
	pb := set.ForOS("windows")
	rendered := renderWindowsScript(t)
	script := string(rendered.Body)
	for _, c := range ps3Constructs {
		re := regexp.MustCompile("(?m)" + c.re)
		for i, line := range strings.Split(script, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if re.MatchString(line) {
				t.Errorf("%s: %s is not in PowerShell 2.0: %q", placed(rendered, i+1), c.what, strings.TrimSpace(line))
			}
		}
	}
	for _, c := range pb.Checks {
		for _, m := range guardedCommands.FindAllString(c.Run, -1) {
			if strings.HasPrefix(m, ".") {
				if !strings.Contains(c.Run, "GetMethod('"+strings.Trim(m, ".(")+"'") {
					t.Errorf("check %s calls %s without asking reflection whether this .NET has it", c.ID, m)
				}
				continue
			}
			if !moduleGuarded(c.Run, m) {
				t.Errorf("check %s uses %s without wo_has '%s' (or another cmdlet of its module) first", c.ID, m, m)
			}
		}
	}
}

// modules groups cmdlets that come in one module: a guard on one stands
// for the others of its module.
var modules = [][]string{
	{"Get-NetIPAddress", "Get-NetRoute", "Get-NetIPInterface", "Get-NetTCPConnection"},
	{"Get-NetFirewallRule", "Get-NetFirewallPortFilter", "Get-NetFirewallProfile"},
	{"Resolve-DnsName", "Get-DnsClientServerAddress"},
	{"Get-CimInstance"},
}

func moduleGuarded(run, cmd string) bool {
	for _, mod := range modules {
		in := false
		for _, c := range mod {
			in = in || strings.EqualFold(c, cmd)
		}
		if !in {
			continue
		}
		for _, c := range mod {
			if strings.Contains(run, "wo_has '"+c+"'") {
				return true
			}
		}
	}
	return false
}

// TestLintCatchesTheOldScript: the lint is not vacuous — the constructs
// the 4.0-era script used are each caught.
func TestLintCatchesTheOldScript(t *testing.T) {
	old := []string{
		"$wo_sections = [ordered]@{}",
		"(ConvertTo-Json -InputObject $wo_doc -Compress -Depth 4)",
		"{ $_ -in 'HostUnreachable', 'NetworkUnreachable' } { 'unreachable' }",
		"Get-Content -LiteralPath $_.FullName -Tail 400 -ErrorAction SilentlyContinue",
	}
	for _, line := range old {
		caught := false
		for _, c := range ps3Constructs {
			caught = caught || regexp.MustCompile(c.re).MatchString(line)
		}
		if !caught {
			t.Errorf("the lint misses %q", line)
		}
	}
	if !guardedCommands.MatchString("$out = $p.StandardOutput.ReadToEndAsync()") || !guardedCommands.MatchString("Get-NetTCPConnection -State Listen") {
		t.Error("the guard lint misses newer commands")
	}
}
