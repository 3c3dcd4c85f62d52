if (-not $WO_MANAGER) { 'result=unavailable'; return }
function wo_probe($target) {
  $c = New-Object Net.Sockets.TcpClient
  try {
    $ar = $c.BeginConnect($target, [int]$WO_PORT, $null, $null)
    if (-not $ar.AsyncWaitHandle.WaitOne(6000)) { return 'timeout' }
    $c.EndConnect($ar)
    return 'open'
  } catch {
    $se = $_.Exception
    while ($se -and -not ($se -is [Net.Sockets.SocketException])) { $se = $se.InnerException }
    if (-not $se) { return 'error' }
    switch ($se.SocketErrorCode.ToString()) {
      'ConnectionRefused' { 'refused' }
      'TimedOut' { 'timeout' }
      { 'HostUnreachable', 'NetworkUnreachable' -contains $_ } { 'unreachable' }
      { 'HostNotFound', 'TryAgain', 'NoData' -contains $_ } { 'dns' }
      default { 'error' }
    }
  } finally { $c.Close() }
}
'tool=TcpClient'
"target=$($WO_MANAGER):$WO_PORT"
$r = wo_probe $WO_MANAGER
$dst = $WO_MANAGER
if ($r -eq 'dns' -and $WO_BASTION_ADDR -and $WO_MANAGER -eq $WO_BASTION_NAME) {
  # the host cannot resolve the name: try the bastion's address for it
  $r = wo_probe $WO_BASTION_ADDR
  $dst = $WO_BASTION_ADDR
  'via=address'
  "address_target=$($WO_BASTION_ADDR):$WO_PORT"
}
"result=$r"
if ($r -ne 'open' -and $r -ne 'dns') {
  # where the path stops: the last hop that answers
  $t = wo_exec 'tracert.exe' ('-d -h 10 -w 500 "' + $dst + '"') 20
  $t -split "`r?`n" | ForEach-Object {
    if ($_ -match '^\s*(\d+)\s.*?\s(\d+\.\d+\.\d+\.\d+)\s*$') { "hop=$($Matches[1]) $($Matches[2])" }
  }
}
