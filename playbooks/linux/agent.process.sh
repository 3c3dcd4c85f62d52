# One pass over /proc by the shell, no process per question: the
# agent is a process named ds_agent running the agent's own binary
# (any process may be called ds_agent: its init script, a wrapper,
# an impostor). -ef compares the executable with the binary by
# device and inode; only another executable (a replaced binary
# shows as "(deleted)") is named, by ls.
for wo_d in /proc/[0-9]*; do
  wo_c=''
  read -r wo_c 2>/dev/null <"$wo_d/comm" || continue
  [ "$wo_c" = ds_agent ] || continue
  wo_pid=${wo_d#/proc/}
  # -ef is in dash, bash, busybox, ksh and mksh, not in POSIX: a
  # shell without it falls through to ls
  # shellcheck disable=SC3013
  if [ "$wo_d/exe" -ef /opt/ds_agent/ds_agent ]; then printf '%s\n' "pid=$wo_pid"; continue; fi
  wo_exe=`ls -l "$wo_d/exe" 2>/dev/null`
  case $wo_exe in *" -> "*) wo_exe=${wo_exe#* -> } ;; *) wo_exe='' ;; esac
  case "$wo_exe" in
    /opt/ds_agent/*) printf '%s\n' "pid=$wo_pid" ;;
    *) printf '%s\n' "other=$wo_pid $wo_exe" ;;
  esac
done
echo "checked=proc"
