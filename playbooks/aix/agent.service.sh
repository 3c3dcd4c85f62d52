if wo_have lssrc; then
  echo "tool=lssrc"
  wo_out=`$wo_T 15 lssrc -s ds_agent 2>&1`
  wo_head 4 "$wo_out"
  # header "Subsystem Group PID Status", then the subsystem's line
  # (its last word the status); "0513-085 ... not on file" when it
  # is not defined. Read by the shell.
  wo_st=''
  wo_src() { [ "$1" = ds_agent ] || return 1; for wo_st do :; done; }
  set -f
  wo_hr=$wo_out
  while wo_next; do wo_src $wo_ln && break; done
  set +f
  case "$wo_st" in
    active) echo "state=running" ;;
    inoperative|stopping) printf '%s\n' "state=$wo_st" ;;
    '') case "$wo_out" in *"not on file"*) echo "state=absent" ;; *) echo "state=unknown" ;; esac ;;
    *) echo "state=unknown" ;;
  esac
else
  wo_initd /etc/rc.d/init.d/ds_agent
fi
