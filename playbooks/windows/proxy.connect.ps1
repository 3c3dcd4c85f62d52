if (-not $WO_PROXY -and -not $WO_RPROXY) {
  if ($WO_DSA -match 'AgentStatus\.') { 'result=none' }
  else { 'result=unknown'; "reason=dsa_query did not answer, so the agent's proxy setting is not known" }
  return
}
# wo_ask PROXY TARGET: TCP to the proxy and, given TARGET, a CONNECT
# to it: the result, and the proxy's status line in $script:wo_status
function wo_ask($p, $target) {
  $script:wo_status = ''
  $c = New-Object Net.Sockets.TcpClient
  try {
    $ar = $c.BeginConnect($p.Host, $p.Port, $null, $null)
    if (-not $ar.AsyncWaitHandle.WaitOne(6000)) { return 'timeout' }
    $c.EndConnect($ar)
    if (-not $target) { return 'ok' }
    $s = $c.GetStream(); $s.ReadTimeout = 6000
    $req = [Text.Encoding]::ASCII.GetBytes("CONNECT $target HTTP/1.1`r`nHost: $target`r`n`r`n")
    $s.Write($req, 0, $req.Length)
    $buf = New-Object byte[] 512
    $n = $s.Read($buf, 0, $buf.Length)
    $line = ([Text.Encoding]::ASCII.GetString($buf, 0, $n) -split "`r?`n")[0]
    if ($line -notmatch '^HTTP/[0-9.]+ (\d)\d\d') { return 'noanswer' }
    $script:wo_status = $line
    $k = $Matches[1]
    if ($k -eq '2') { 'ok' } elseif ($k -eq '4') { 'denied' } elseif ($k -eq '5') { 'upstream' } else { 'error' }
  } catch {
    $se = $_.Exception
    while ($se -and -not ($se -is [Net.Sockets.SocketException]) -and -not ($se -is [IO.IOException])) { $se = $se.InnerException }
    if (-not $se) { return 'error' }
    if ($se -is [IO.IOException]) { return 'noanswer' }
    switch ($se.SocketErrorCode.ToString()) {
      'ConnectionRefused' { 'refused' }
      'TimedOut' { 'timeout' }
      { 'HostUnreachable', 'NetworkUnreachable' -contains $_ } { 'unreachable' }
      { 'HostNotFound', 'TryAgain', 'NoData' -contains $_ } { 'dns' }
      default { 'error' }
    }
  } finally { $c.Close() }
}
$wo_m = "$($WO_MANAGER):$WO_PORT"
if ($WO_MANAGER -match ':') { $wo_m = "[$WO_MANAGER]:$WO_PORT" }
if ($WO_PROXY) {
  'tool=TcpClient'
  "target=$($WO_PROXY.Host):$($WO_PROXY.Port)"
  "tunnel=$wo_m"
  $r = wo_ask $WO_PROXY $wo_m
  if ($script:wo_status) { "status=$($script:wo_status)" }
  "result=$r"
} else { 'result=none' }
if ($WO_RPROXY) {
  "relay_target=$($WO_RPROXY.Host):$($WO_RPROXY.Port)"
  "relay_result=$(wo_ask $WO_RPROXY '')"
}
