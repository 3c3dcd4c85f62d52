wo_hr=`psrinfo 2>/dev/null` wo_c=''
while wo_next; do case $wo_ln in *on-line*) wo_c=x$wo_c ;; esac; done
wo_c=${#wo_c}
[ "$wo_c" -gt 0 ] 2>/dev/null || wo_c=`getconf _NPROCESSORS_ONLN 2>/dev/null || getconf NPROCESSORS_ONLN 2>/dev/null`
printf '%s\n' "cpus=$wo_c"
wo_uptime
# free memory from vmstat (KB) plus the ZFS ARC, which gives memory
# back under pressure, against the physical memory prtconf reports
wo_tot=`prtconf 2>/dev/null | awk '/^Memory size:/ && !d { m = $3; if ($4 ~ /^G/) m *= 1024; print m * 1024; d = 1 }'`
wo_free='' wo_arc=''
if [ -n "$wo_tot" ]; then
  # vmstat's first line averages since boot: take the second sample
  wo_f5() { wo_free=$5; }
  set -f
  wo_hr=`vmstat 1 2 2>/dev/null` wo_last=''
  while wo_next; do wo_last=$wo_ln; done
  wo_f5 $wo_last
  set +f
  wo_arc=`kstat -p zfs:0:arcstats:size 2>/dev/null | awk '{ print int($2 / 1024) }'`
fi
printf '%s\n' "mem_total_kb=$wo_tot"
printf '%s\n' "mem_free_kb=$wo_free"
printf '%s\n' "arc_kb=$wo_arc"
if [ -n "$wo_tot" ] && [ -n "$wo_free" ]; then
  printf '%s\n' "$wo_tot $wo_free ${wo_arc:-0}" | awk '$1 > 0 { printf "mem_available_pct=%.1f\n", ($2 + $3) * 100 / $1 }'
fi
