'tool=Get-Service'
$svc = wo_wmi Win32_Service "Name='ds_agent'"
if (-not $svc) { 'state=absent'; return }
"detail=State=$($svc.State) StartMode=$($svc.StartMode) ExitCode=$($svc.ExitCode)"
if ($svc.StartMode -eq 'Disabled') { 'state=disabled' }
elseif ($svc.State -eq 'Running') { 'state=running' }
elseif ($svc.State -match 'Pending') { "state=$($svc.State.ToLower() -replace ' ', '-')" }
else { 'state=stopped' }
if ($svc.State -ne 'Running') {
  # why, from the Service Control Manager in the last seven days:
  # 7000 failed to start, 7009 start timed out, 7011 a control timed
  # out, 7023/7024 terminated with an error, 7031/7034 terminated
  # unexpectedly. Told by ID and insertion strings (the service's
  # name, error codes), not by the localised message.
  $ev = Get-WinEvent -FilterHashtable @{ LogName = 'System'; ProviderName = 'Service Control Manager'; Id = 7000, 7009, 7011, 7023, 7024, 7031, 7034; StartTime = (Get-Date).AddDays(-7) } -MaxEvents 200 -ErrorAction SilentlyContinue
  $ev | ForEach-Object {
    $ins = @($_.Properties | ForEach-Object { [string]$_.Value })
    if (($ins -join ' ') -match 'ds_agent|Deep Security') {
      "detail=event $($_.Id) at $($_.TimeCreated.ToUniversalTime().ToString('s'))Z: $($ins -join '; ')"
    }
  } | Select-Object -First 3
}
