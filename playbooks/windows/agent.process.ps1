$svc = wo_wmi Win32_Service "Name='ds_agent'"
if ($svc -and $svc.ProcessId -gt 0) { "pid=$($svc.ProcessId)" }
'checked=Win32_Service'
