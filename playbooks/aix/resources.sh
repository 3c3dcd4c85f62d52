# vmstat's header names the logical CPUs: "System configuration: lcpu=8 mem=16384MB"
wo_hr=`vmstat 1 1 2>/dev/null` wo_c=''
while [ -z "$wo_c" ] && wo_next; do
  case $wo_ln in *lcpu=[0-9]*) wo_c=${wo_ln#*lcpu=}; wo_c=${wo_c%%[!0-9]*} ;; esac
done
[ -n "$wo_c" ] || wo_c=`lsdev -Cc processor 2>/dev/null | grep -c Available`
printf '%s\n' "cpus=$wo_c"
wo_uptime
# AIX keeps free pages low on purpose and fills memory with file
# cache: available = free pages + file pages, out of memory pages
vmstat -v 2>/dev/null | awk '/ memory pages$/ { m = $1 } / free pages$/ { f = $1 } / file pages$/ { c = $1 }
  END { if (m > 0) printf "mem_available_pct=%.1f\n", (f + c) * 100 / m }'
