# wo_portin SPEC PORT: a rule's port list ("Any", "*", "80,4000-4200") holds PORT
function wo_portin($spec, $port) {
  foreach ($p in @($spec)) {
    foreach ($x in ([string]$p).Split(',')) {
      $x = $x.Trim()
      if ($x -eq 'Any' -or $x -eq '*' -or $x -eq "$port") { return $true }
      if ($x -match '^(\d+)-(\d+)$' -and [int]$Matches[1] -le [int]$port -and [int]$port -le [int]$Matches[2]) { return $true }
    }
  }
  return $false
}
$inbound = $WO_MODE -ne 'agent-initiated'
if (wo_has 'Get-NetFirewallRule') {
  # the active store: what is enforced, Group Policy's rules and
  # profiles included, not only the local persistent store
  'tool=NetSecurity'
  Get-NetFirewallRule -PolicyStore ActiveStore -Direction Outbound -Action Block -Enabled True -ErrorAction SilentlyContinue | ForEach-Object {
    $pf = $_ | Get-NetFirewallPortFilter
    if (($pf.Protocol -eq 'TCP' -or $pf.Protocol -eq 'Any') -and (wo_portin $pf.RemotePort $WO_PORT)) {
      "rule=Windows Firewall outbound block rule '$($_.DisplayName)' (TCP remote port $($pf.RemotePort -join ','))"
    }
  } | Select-Object -First 10
  if ($inbound) {
    Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Action Block -Enabled True -ErrorAction SilentlyContinue | ForEach-Object {
      $pf = $_ | Get-NetFirewallPortFilter
      if (($pf.Protocol -eq 'TCP' -or $pf.Protocol -eq 'Any') -and (wo_portin $pf.LocalPort $WO_AGENT_PORT)) {
        "rule_in=Windows Firewall inbound block rule '$($_.DisplayName)' (TCP local port $($pf.LocalPort -join ','))"
      }
    } | Select-Object -First 10
  }
  Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction SilentlyContinue | ForEach-Object {
    "profile=$($_.Name) enabled=$($_.Enabled) outbound=$($_.DefaultOutboundAction) inbound=$($_.DefaultInboundAction)"
    if ($_.Enabled -eq $true -and [string]$_.DefaultOutboundAction -eq 'Block') { "rule=Windows Firewall profile $($_.Name) blocks outbound connections by default" }
  }
} else {
  # 2008 R2: the firewall's own COM API, the rules in force for the
  # current profiles (1 domain, 2 private, 4 public)
  'tool=FwPolicy2'
  try { $fw = New-Object -ComObject HNetCfg.FwPolicy2 } catch { 'result=unavailable'; return }
  $cur = [int]$fw.CurrentProfileTypes
  foreach ($bit in 1, 2, 4) {
    if ($cur -band $bit) {
      "profile=$bit enabled=$($fw.FirewallEnabled($bit)) outbound=$($fw.DefaultOutboundAction($bit)) inbound=$($fw.DefaultInboundAction($bit))"
      # NET_FW_ACTION_BLOCK is 0
      if ($fw.FirewallEnabled($bit) -and $fw.DefaultOutboundAction($bit) -eq 0) { "rule=Windows Firewall profile $bit blocks outbound connections by default" }
    }
  }
  # Direction 2 outbound, 1 inbound; Action 0 block; Protocol 6 TCP, 256 any
  $fw.Rules | Where-Object { $_.Enabled -and $_.Action -eq 0 -and ($_.Profiles -band $cur) -and ($_.Protocol -eq 6 -or $_.Protocol -eq 256) } | ForEach-Object {
    if ($_.Direction -eq 2 -and (wo_portin $_.RemotePorts $WO_PORT)) {
      "rule=Windows Firewall outbound block rule '$($_.Name)' (TCP remote port $($_.RemotePorts))"
    } elseif ($inbound -and $_.Direction -eq 1 -and (wo_portin $_.LocalPorts $WO_AGENT_PORT)) {
      "rule_in=Windows Firewall inbound block rule '$($_.Name)' (TCP local port $($_.LocalPorts))"
    }
  } | Select-Object -First 10
}
'result=read'
