$drives = @($wo_dir, $wo_data) | ForEach-Object { ([IO.Path]::GetPathRoot($_)).TrimEnd('\') } | Select-Object -Unique
foreach ($d in $drives) {
  if ($d -notmatch '^[A-Za-z]:$') { continue }
  $ld = wo_wmi Win32_LogicalDisk "DeviceID='$d'"
  if ($ld -and $ld.Size -gt 0) { "fs=$([math]::Floor(100 - 100 * $ld.FreeSpace / $ld.Size)) $d\ ($d)" }
}
'checked=Win32_LogicalDisk'
