if (wo_has 'Get-NetIPAddress') {
  Get-NetIPAddress -AddressFamily IPv4 -ErrorAction SilentlyContinue | ForEach-Object { "addr=$($_.IPAddress)/$($_.PrefixLength)" }
  Get-NetRoute -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Select-Object -First 3 | ForEach-Object { "route=default via $($_.NextHop) ($($_.InterfaceAlias))" }
  if (Get-NetIPInterface -AddressFamily IPv4 -Dhcp Enabled -ConnectionState Connected -ErrorAction SilentlyContinue) { 'dhcp=yes' }
} else {
  # 2008 R2: the adapters' configuration from WMI; a mask's bits are
  # the prefix length
  $dhcp = $false
  wo_wmi Win32_NetworkAdapterConfiguration 'IPEnabled=TRUE' | ForEach-Object {
    $ips = @($_.IPAddress); $masks = @($_.IPSubnet)
    for ($i = 0; $i -lt $ips.Count; $i++) {
      if ($ips[$i] -notmatch '^\d+\.\d+\.\d+\.\d+$') { continue }
      $bits = 0
      foreach ($o in ([string]$masks[$i]).Split('.')) { $v = [int]$o; while ($v -gt 0) { $bits += $v % 2; $v = [math]::Floor($v / 2) } }
      "addr=$($ips[$i])/$bits"
    }
    foreach ($g in @($_.DefaultIPGateway)) { if ($g -match '^\d+\.\d+\.\d+\.\d+$') { "route=default via $g ($($_.Description))" } }
    if ($_.DHCPEnabled) { $dhcp = $true }
  }
  if ($dhcp) { 'dhcp=yes' }
}
