$logs = Get-ChildItem -Path (Join-Path $wo_data 'diag') -Filter *.log -ErrorAction SilentlyContinue | Sort-Object LastWriteTime -Descending | Select-Object -First 4
if (-not $logs) { 'logs=none'; return }
$pat = '(ssl|tls|x509|certificate|handshake).*(error|fail|invalid|expired|revoked|verify|unknown ca|bad)|(error|fail).*(ssl|tls|x509|certificate|handshake)'
$logs | ForEach-Object { wo_tail $_.FullName 400 } | Where-Object { $_ -match $pat } | Select-Object -Last 10 | ForEach-Object { "line=$_" }
'logs=read'
