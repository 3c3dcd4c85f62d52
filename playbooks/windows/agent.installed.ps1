$any = 'no'
foreach ($f in 'dsa.exe', 'dsa_query.cmd', 'dsa_control.cmd') {
  $p = Join-Path $wo_dir $f
  if (Test-Path -LiteralPath $p) { "path=$p"; $any = 'yes' }
}
if (Get-Service -Name ds_agent -ErrorAction SilentlyContinue) { 'service=present'; $any = 'yes' }
$exe = Join-Path $wo_dir 'dsa.exe'
if (Test-Path -LiteralPath $exe) { "version=$((Get-Item -LiteralPath $exe).VersionInfo.ProductVersion)" }
"installed=$any"
