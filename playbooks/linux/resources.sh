# the online CPUs as the kernel lists them ("0-3,6,8-9"), counted
# by the shell; getconf reads the same file
wo_n=''
if read -r wo_r 2>/dev/null </sys/devices/system/cpu/online; then
  wo_n=0
  while [ -n "$wo_r" ]; do
    wo_p=${wo_r%%,*}
    case $wo_r in *,*) wo_r=${wo_r#*,} ;; *) wo_r='' ;; esac
    case $wo_p in
      *[!0-9-]*|-*|*-|*-*-*|'') wo_n=''; break ;;
      *-*) wo_n=$((wo_n + ${wo_p#*-} - ${wo_p%-*} + 1)) ;;
      *) wo_n=$((wo_n + 1)) ;;
    esac
  done
fi
[ -n "$wo_n" ] || wo_n=`getconf _NPROCESSORS_ONLN 2>/dev/null`
[ -n "$wo_n" ] || wo_n=`nproc 2>/dev/null`
printf '%s\n' "cpus=$wo_n"
if [ -r /proc/loadavg ] && read wo_l1 wo_l5 wo_rest < /proc/loadavg; then
  echo "load1=$wo_l1"; echo "load5=$wo_l5"
fi
# MemAvailable (before Linux 3.14: free, buffers and cache) as a
# percentage of MemTotal, to a tenth, by the shell
if [ -r /proc/meminfo ]; then
  wo_mt=0 wo_ma='' wo_mf=0
  while read -r wo_k wo_v wo_rest; do
    case $wo_v in ''|*[!0-9]*) continue ;; esac
    case $wo_k in
      MemTotal:) wo_mt=$wo_v ;;
      MemAvailable:) wo_ma=$wo_v ;;
      MemFree:|Buffers:|Cached:) wo_mf=$((wo_mf + wo_v)) ;;
    esac
  done </proc/meminfo
  [ -n "$wo_ma" ] || wo_ma=$wo_mf
  if [ "$wo_mt" -gt 0 ]; then
    wo_pt=$(( (wo_ma * 1000 + wo_mt / 2) / wo_mt ))
    printf 'mem_available_pct=%d.%d\n' $((wo_pt / 10)) $((wo_pt % 10))
  fi
fi
