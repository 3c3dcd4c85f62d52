if (-not $WO_MANAGER) { 'result=unavailable'; return }
'tool=SslStream'
# offer TLS 1.2 explicitly (and 1.3 on Server 2022, build 20348, and
# later): older .NET defaults offer SSL 3.0/TLS 1.0, which managers
# refuse — a failure of .NET's, not the agent's, which has its own TLS
$protos = 0
$names = @('Tls12')
if ([Environment]::OSVersion.Version.Build -ge 20348) { $names += 'Tls13' }
foreach ($n in $names) { try { $protos = $protos -bor [int][Enum]::Parse([Security.Authentication.SslProtocols], $n) } catch {} }
if ($protos -eq 0) { $protos = 3072 } # .NET 3.5 with the TLS 1.2 update knows it by number only
"offered=$protos"
$c = New-Object Net.Sockets.TcpClient
try {
  $ar = $c.BeginConnect($WO_MANAGER, [int]$WO_PORT, $null, $null)
  if (-not $ar.AsyncWaitHandle.WaitOne(6000)) { 'result=noconnect'; return }
  $c.EndConnect($ar)
  $c.ReceiveTimeout = 8000; $c.SendTimeout = 8000
  # only whether the handshake completes matters here, not whose
  # certificate it is: the agent pins the manager's itself
  $ssl = New-Object Net.Security.SslStream($c.GetStream(), $false, { $true })
  $ssl.ReadTimeout = 8000; $ssl.WriteTimeout = 8000
  $ssl.AuthenticateAsClient($WO_MANAGER, $null, [Security.Authentication.SslProtocols]$protos, $false)
  "protocol=$($ssl.SslProtocol)"
  'result=ok'
} catch {
  $e = $_.Exception; while ($e.InnerException) { $e = $e.InnerException }
  "error=$($e.Message)"
  "error_type=$($e.GetType().FullName)"
  if ($e -is [ArgumentException] -or $e -is [NotSupportedException]) {
    # this .NET cannot offer TLS 1.2 at all: nothing learned
    'result=unavailable'
  }
  elseif (-not $c.Connected) { 'result=noconnect' }
  elseif ($e -is [Net.Sockets.SocketException] -and $e.SocketErrorCode.ToString() -eq 'TimedOut') { 'result=timeout' }
  elseif ($e -is [IO.IOException] -and $e.HResult -eq -2146232800) { 'result=timeout' }
  else { 'result=fail' }
} finally { $c.Close() }
