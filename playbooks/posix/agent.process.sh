# The agent is a process running the agent's own binary: any process
# may be called ds_agent (its init script, a wrapper, an impostor).
# Its executable is read from /proc (Linux exe, Solaris path/a.out)
# and, where /proc cannot say (AIX, no root), from its command line.
ps -e -o pid= -o comm= 2>/dev/null | awk '$2 == "ds_agent" || $2 ~ /\/ds_agent$/ { print $1 }' | while read -r wo_pid; do
  wo_exe=''
  for wo_l in "/proc/$wo_pid/exe" "/proc/$wo_pid/path/a.out"; do
    [ -h "$wo_l" ] || continue
    wo_exe=`ls -l "$wo_l" 2>/dev/null | sed -n 's/.* -> //p'`
    break
  done
  [ -n "$wo_exe" ] || wo_exe=`ps -p "$wo_pid" -o args= 2>/dev/null | awk '{ print $1 }'`
  case "$wo_exe" in
    /opt/ds_agent/*) printf '%s\n' "pid=$wo_pid" ;;
    *) printf '%s\n' "other=$wo_pid $wo_exe" ;;
  esac
done
echo "checked=ps"
