$logs = Get-ChildItem -Path (Join-Path $wo_data 'diag') -Filter *.log -ErrorAction SilentlyContinue | Sort-Object LastWriteTime | Select-Object -Last 4
if (-not $logs) { 'state=unknown'; return }
$s = ''; $line = ''
foreach ($l in ($logs | ForEach-Object { wo_tail $_.FullName 400 })) {
  if ($l -match '(rule|security|pattern) update.*(complete|finish|success|done|fail|abort)') { $s = 'finished'; $line = $l; continue }
  if ($l -match '(rule|security|pattern) update.*(start|begin|progress|applying|running)' -or $l -match '(applying|updating) (rules|security)') { $s = 'in-progress'; $line = $l }
}
if (-not $s) { $s = 'none' }
"state=$s"
if ($line) { "line=$line" }
