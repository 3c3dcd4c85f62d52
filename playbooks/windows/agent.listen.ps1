if (wo_has 'Get-NetTCPConnection') {
  Get-NetTCPConnection -State Listen -LocalPort ([int]$WO_AGENT_PORT) -ErrorAction SilentlyContinue | ForEach-Object { "listen=$($_.LocalAddress):$($_.LocalPort)" }
} else {
  # 2008 R2: netstat, read by its columns — a listener is the local
  # port with a foreign address of 0.0.0.0:0 or [::]:0 (the state's
  # name is localised)
  (wo_exec 'netstat.exe' '-an -p TCP' 10) -split "`r?`n" | ForEach-Object {
    $f = @(($_.Trim()) -split '\s+')
    if ($f.Count -ge 3 -and $f[0] -eq 'TCP' -and $f[1] -match (':' + $WO_AGENT_PORT + '$') -and ($f[2] -eq '0.0.0.0:0' -or $f[2] -eq '[::]:0')) { "listen=$($f[1])" }
  }
}
