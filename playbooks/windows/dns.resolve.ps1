"name=$WO_MANAGER"
if (-not $WO_MANAGER) { 'result=unavailable'; 'reason=no manager known'; return }
if ($WO_MANAGER -match '^[0-9.]+$') { 'result=literal'; "address=$WO_MANAGER"; return }
if (wo_has 'Get-DnsClientServerAddress') {
  $wo_srv = Get-DnsClientServerAddress -AddressFamily IPv4 -ErrorAction SilentlyContinue | ForEach-Object { $_.ServerAddresses }
} else {
  $wo_srv = wo_wmi Win32_NetworkAdapterConfiguration 'IPEnabled=TRUE' | ForEach-Object { $_.DNSServerSearchOrder }
}
$wo_srv | Where-Object { $_ } | Select-Object -Unique -First 4 | ForEach-Object { "server=$_" }
if (wo_has 'Resolve-DnsName') {
  'tool=Resolve-DnsName'
  try {
    $r = Resolve-DnsName -Name $WO_MANAGER -QuickTimeout -ErrorAction Stop
    $r | Where-Object { $_.IPAddress } | ForEach-Object { "address=$($_.IPAddress)" }
    'result=ok'
  } catch {
    # the Win32 DNS status: 9003 name error (NXDOMAIN), 9501 no
    # records, 1460 timeout; the error ID carries the same name
    $code = 0
    if ($_.Exception.PSObject.Properties['NativeErrorCode']) { $code = [int]$_.Exception.NativeErrorCode }
    $id = [string]$_.FullyQualifiedErrorId
    "error_code=$code"
    "error=$($_.Exception.Message)"
    if ($code -eq 9003 -or $code -eq 9501 -or $id -match '^(DNS_ERROR_RCODE_NAME_ERROR|DNS_INFO_NO_RECORDS)') { 'result=notfound' }
    elseif ($code -eq 1460 -or $id -match '^ERROR_TIMEOUT') { 'result=timeout' }
    else { 'result=fail' }
  }
} else {
  # 2008 R2: the system resolver, as the agent uses it (DNS, and the
  # hosts file in %SystemRoot%\System32\drivers\etc)
  'tool=Dns'
  try {
    [Net.Dns]::GetHostAddresses($WO_MANAGER) | ForEach-Object { "address=$($_.IPAddressToString)" }
    'result=ok'
  } catch {
    $se = $_.Exception
    while ($se -and -not ($se -is [Net.Sockets.SocketException])) { $se = $se.InnerException }
    "error=$($_.Exception.Message)"
    # WSAHOST_NOT_FOUND 11001 and WSANO_DATA 11004: no such name;
    # WSATRY_AGAIN 11002: no answer from a server
    if (-not $se) { 'result=fail' }
    else {
      "error_code=$($se.ErrorCode)"
      if ($se.ErrorCode -eq 11001 -or $se.ErrorCode -eq 11004) { 'result=notfound' }
      elseif ($se.ErrorCode -eq 11002) { 'result=timeout' }
      else { 'result=fail' }
    }
  }
}
