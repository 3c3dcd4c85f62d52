$wo_dir = Join-Path $env:ProgramFiles 'Trend Micro\Deep Security Agent'
$wo_data = Join-Path $env:ProgramData 'Trend Micro\Deep Security Agent'
$wo_inv = [Globalization.CultureInfo]::InvariantCulture
function wo_num($x) { ([double]$x).ToString('0.##', $wo_inv) }
# wo_has NAME: the command exists here (2008 R2 has none of the
# NetTCPIP, DnsClient and NetSecurity cmdlets)
function wo_has($name) { [bool](Get-Command $name -ErrorAction SilentlyContinue) }
# wo_wmi CLASS [FILTER]: CIM where PowerShell has it (7 has no
# Get-WmiObject), WMI where it does not (2.0 has no Get-CimInstance)
function wo_wmi($class, $filter) {
  if (wo_has 'Get-CimInstance') {
    if ($filter) { Get-CimInstance -ClassName $class -Filter $filter -ErrorAction SilentlyContinue }
    else { Get-CimInstance -ClassName $class -ErrorAction SilentlyContinue }
  } else {
    if ($filter) { Get-WmiObject -Class $class -Filter $filter -ErrorAction SilentlyContinue }
    else { Get-WmiObject -Class $class -ErrorAction SilentlyContinue }
  }
}
# wo_exec FILE ARGS SECONDS: run a program, bounded, return its output
function wo_exec($file, $arguments, $seconds) {
  $psi = New-Object Diagnostics.ProcessStartInfo
  $psi.FileName = $file; $psi.Arguments = $arguments
  $psi.UseShellExecute = $false; $psi.CreateNoWindow = $true
  $psi.RedirectStandardOutput = $true
  $async = [bool]([IO.StreamReader].GetMethod('ReadToEndAsync', [Type[]]@()))
  # without .NET 4.5's async reads (PowerShell 2.0), stderr is not
  # captured: two synchronous pipes could fill and deadlock
  $psi.RedirectStandardError = $async
  $p = [Diagnostics.Process]::Start($psi)
  if ($async) {
    $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit(1000 * $seconds)) { try { $p.Kill() } catch {}; return "timed out after $seconds s" }
    return $out.Result + $err.Result
  }
  $o = $p.StandardOutput.ReadToEnd()
  if (-not $p.WaitForExit(1000 * $seconds)) { try { $p.Kill() } catch {}; return "timed out after $seconds s" }
  return $o
}
# wo_tail PATH N: the last N lines of a log, reading only its last
# 128 KiB, shared with the agent that writes it
function wo_tail($path, $n) {
  try {
    $fs = New-Object IO.FileStream($path, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]'ReadWrite, Delete')
    try {
      if ($fs.Length -gt 131072) { [void]$fs.Seek(-131072, [IO.SeekOrigin]::End) }
      $text = (New-Object IO.StreamReader($fs)).ReadToEnd()
    } finally { $fs.Close() }
    $l = @($text -split "`r?`n")
    if ($l.Count -gt $n) { $l = $l[($l.Count - $n)..($l.Count - 1)] }
    $l
  } catch {}
}
"ps_version=$($PSVersionTable.PSVersion)"
$wo_id = [Security.Principal.WindowsIdentity]::GetCurrent()
$wo_admin = (New-Object Security.Principal.WindowsPrincipal $wo_id).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
if ($wo_admin) { 'root=yes' } else { 'root=no' }
"hostname=$env:COMPUTERNAME"
$wo_osinfo = wo_wmi Win32_OperatingSystem
"release=$($wo_osinfo.Version)"
"version=$($wo_osinfo.Caption)"
$WO_DSA = ''
$wo_q = Join-Path $wo_dir 'dsa_query.cmd'
if (Test-Path -LiteralPath $wo_q) {
  $WO_DSA = (wo_exec $env:ComSpec ('/d /c "' + $wo_q + '" -c GetAgentStatus') 15)
}
# the agent's own dsmUrl is the manager it really talks to: it
# overrides --manager; accept only host-name characters
$wo_url = [regex]::Match($WO_DSA, '(?m)^\s*AgentStatus\.dsmUrl\s*[:=]\s*(\S+)').Groups[1].Value
if ($wo_url) {
  "dsm_url=$wo_url"
  $wo_m = [regex]::Match($wo_url, '^(?:[A-Za-z]+://)?(\[[^\]]+\]|[^/:\[]+)(?::(\d+))?')
  $wo_h = $wo_m.Groups[1].Value.Trim('[', ']')
  if ($wo_h -match '^[A-Za-z0-9.:_-]+$' -and $wo_h -notmatch '^-') { $WO_MANAGER = $wo_h }
  if ($wo_m.Groups[2].Value -match '^\d+$') { $WO_PORT = $wo_m.Groups[2].Value }
}
# whether the agent answered at all, and the state it reports
if ($WO_DSA -match 'AgentStatus\.') {
  'dsa=answered'
  $wo_st = [regex]::Match($WO_DSA, '(?m)^\s*AgentStatus\.agentState\s*[:=]\s*(\S+)').Groups[1].Value
  if ($wo_st) { "agent_state=$wo_st" }
}
"manager=$WO_MANAGER"
"port=$WO_PORT"
# the agent's proxies (dsa_control -x dsm_proxy://HOST:PORT/, relays
# -y relay_proxy://...): AgentStatus keys naming a proxy, their value
# the URL; scheme, host and port only (a user:password stays here)
$WO_PROXY = $null; $WO_RPROXY = $null
foreach ($wo_pm in [regex]::Matches($WO_DSA, '(?m)^\s*(AgentStatus\.[A-Za-z0-9._]*[Pp]roxy[A-Za-z0-9._]*)\s*[:=]\s*(\S+)')) {
  $wo_m = [regex]::Match($wo_pm.Groups[2].Value, '^(?:([A-Za-z0-9_+.-]+)://)?(?:[^@/]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d+)(?:/|$)')
  if (-not $wo_m.Success -or $wo_m.Groups[2].Value -match '^-') { continue }
  $wo_sch = $wo_m.Groups[1].Value; if (-not $wo_sch) { $wo_sch = 'http' }
  $wo_p = @{ Host = $wo_m.Groups[2].Value.Trim('[', ']'); Port = [int]$wo_m.Groups[3].Value; Url = "$($wo_sch)://$($wo_m.Groups[2].Value):$($wo_m.Groups[3].Value)/" }
  if (($wo_pm.Groups[1].Value + $wo_sch) -match '[Rr]elay') {
    if (-not $WO_RPROXY) { $WO_RPROXY = $wo_p; "proxy=relay $($wo_p.Url)" }
  } elseif (-not $WO_PROXY) { $WO_PROXY = $wo_p; "proxy=manager $($wo_p.Url)" }
}
