package playbook

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/whyoffline/whyoffline/internal/frame"
)

// PSQuote quotes s as one PowerShell single-quoted string: nothing inside
// is expanded; a quote (any of the Unicode single quotes PowerShell
// accepts) is doubled.
func PSQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// psBootstrap is what the command line carries (-EncodedCommand): it reads
// the script from standard input and runs it, the way Ansible's WinRM
// plugin does — a command line through the cmd shell is capped at 8191
// characters, stdin is not.
const psBootstrap = `$ErrorActionPreference = 'Stop'; $wo_script = @($input) -join "` + "`n" + `"; & ([ScriptBlock]::Create($wo_script))`

// psJSONWriter writes the run's document by hand: ConvertTo-Json is
// PowerShell 3.0. Every character outside printable ASCII is a \u escape,
// so the document survives whatever code page the console output uses.
const psJSONWriter = `function wo_jstr($s) {
  $s = ([string]$s).Replace('\', '\\').Replace('"', '\"').Replace("` + "`r" + `", '\r').Replace("` + "`n" + `", '\n').Replace("` + "`t" + `", '\t')
  $s = [regex]::Replace($s, '[^\x20-\x7e]', [Text.RegularExpressions.MatchEvaluator] { param($m) '\u{0:x4}' -f [int][char]$m.Value })
  '"' + $s + '"'
}
function wo_jdoc($playbook) {
  $b = New-Object Text.StringBuilder
  [void]$b.Append('{"os":"Windows","playbook":' + (wo_jstr $playbook) + ',"sections":{')
  $first = $true
  foreach ($id in $wo_ids) {
    if (-not $first) { [void]$b.Append(',') }
    $first = $false
    $sec = $wo_sections[$id]
    [void]$b.Append((wo_jstr $id) + ':{"o":' + (wo_jstr $sec[0]) + ',"x":' + [int]$sec[1] + '}')
  }
  [void]$b.Append('}}')
  $b.ToString()
}
`

// EncodeCommand is PowerShell's -EncodedCommand form: base64 of UTF-16LE.
func EncodeCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// RenderPowerShell builds the Windows script: every check of the windows
// playbook in one PowerShell run that prints one JSON document, framed by
// the run's nonce, with each check's output and status.
func (s *Set) RenderPowerShell(p Params) (*Script, error) {
	b := s.ForOS("windows")
	if b == nil {
		return nil, fmt.Errorf("no windows playbook loaded")
	}
	if b.Shell != "powershell" {
		return nil, fmt.Errorf("playbook %s is not a PowerShell playbook", b.ID)
	}
	if !isHex(p.Nonce) {
		return nil, fmt.Errorf("nonce must be hex")
	}
	var w strings.Builder
	w.WriteString("# whyoffline read-only checks\n")
	w.WriteString(header(p, []*Playbook{b}).Comment())
	w.WriteString("$ErrorActionPreference = 'Continue'; $ProgressPreference = 'SilentlyContinue'\n")
	for _, v := range []struct{ name, val string }{
		{"WO_MANAGER", p.Manager}, {"WO_PORT", strconv.Itoa(p.Port)},
		{"WO_AGENT_PORT", strconv.Itoa(p.AgentPort)}, {"WO_MODE", p.Mode},
		{"WO_BASTION_NAME", p.Manager}, {"WO_BASTION_ADDR", p.ManagerAddr},
	} {
		fmt.Fprintf(&w, "$%s = %s\n", v.name, PSQuote(v.val))
	}
	// sections in check order without [ordered] (PowerShell 3.0)
	w.WriteString("$wo_ids = New-Object Collections.ArrayList; $wo_sections = @{}\n")
	w.WriteString(psJSONWriter)
	for _, c := range b.Checks {
		// a check runs in a child scope (&) unless in_shell (dot-sourced,
		// so what it sets reaches the checks after it); an exception costs
		// that check, not the run
		call := "&"
		if c.InShell {
			call = "."
		}
		fmt.Fprintf(&w, "$wo_x = 0\ntry { $wo_o = %s {\n%s\n} 2>&1 | Out-String -Width 4096 } catch { $wo_x = 1; $wo_o = 'exception=' + $_.Exception.Message }\n",
			call, strings.TrimRight(c.Run, "\n"))
		fmt.Fprintf(&w, "[void]$wo_ids.Add(%s); $wo_sections[%s] = @([string]$wo_o, $wo_x)\n", PSQuote(c.ID), PSQuote(c.ID))
	}
	fmt.Fprintf(&w, "$wo_doc = wo_jdoc %s\n", PSQuote(b.OS))
	// the json marker starts a line of its own, whatever was printed before
	fmt.Fprintf(&w, "[Console]::Out.Write([Environment]::NewLine + '%s' + $wo_doc + '%s' + [Environment]::NewLine)\n",
		frame.Marker(p.Nonce, "json"), frame.Marker(p.Nonce, "done"))
	if !strings.Contains(b.Exec, "{bootstrap}") {
		return nil, fmt.Errorf("playbook %s: exec must contain {bootstrap} (where the encoded stdin reader goes)", b.ID)
	}
	cmd := strings.ReplaceAll(b.Exec, "{bootstrap}", EncodeCommand(psBootstrap))
	return &Script{Command: cmd, Body: []byte(w.String()), Nonce: p.Nonce, Playbooks: []*Playbook{b}}, nil
}
