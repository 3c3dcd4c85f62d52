# Solaris 10 date(1) has no %s: perl, then the awk srand() trick
# (srand returns the previous seed, which srand() set to the time).
# one date for the seconds and the human line
wo_d=`date -u '+%s %a %b %d %H:%M:%S UTC %Y' 2>/dev/null`
wo_e=${wo_d%% *}
case "$wo_e" in ''|*[!0-9]*) wo_e=`perl -e 'print time, "\n"' 2>/dev/null` ;; esac
case "$wo_e" in ''|*[!0-9]*) wo_e=`nawk 'BEGIN { srand(); print srand() }' 2>/dev/null` ;; esac
printf '%s\n' "epoch=$wo_e"
printf '%s\n' "${wo_d#* }"
