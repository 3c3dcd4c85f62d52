$epoch = New-Object DateTime 1970, 1, 1, 0, 0, 0, ([DateTimeKind]::Utc)
"epoch=$([int64][math]::Floor(([DateTime]::UtcNow - $epoch).TotalSeconds))"
[DateTime]::UtcNow.ToString('u')
