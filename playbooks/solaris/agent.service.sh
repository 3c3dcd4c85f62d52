wo_fmri=svc:/application/ds_agent:default
if wo_have svcs; then
  echo "tool=svcs"
  # svcs asks svc.configd, which can wedge (a locked or damaged
  # repository): bounded, and a silent svcs is "unknown", never
  # "no such service"
  wo_out=`$wo_T 15 svcs -H -o state "$wo_fmri" 2>/dev/null`; wo_rc=$?
  wo_st=${wo_out%%"$wo_nl"*}
  if [ $wo_rc -eq 124 ]; then
    wo_st=no-answer
    echo "detail=svcs did not answer within 15s (svc.configd busy or its repository locked)"
  fi
  printf '%s\n' "smf=$wo_st"
  case "$wo_st" in
    online|degraded|legacy_run) echo "state=running" ;;
    offline) echo "state=offline" ;;
    maintenance) echo "state=maintenance" ;;
    disabled) echo "state=disabled" ;;
    uninitialized) echo "state=stopped" ;;
    '') echo "state=absent" ;;
    *) echo "state=unknown" ;;
  esac
  case "$wo_st" in
    ''|online|legacy_run|no-answer) ;;
    *)
      # why it is not running: the restarter's reason and the
      # dependencies it waits for
      $wo_T 15 svcs -x "$wo_fmri" 2>/dev/null | grep -E '^ *Reason:' | head -n 2 | sed -e 's/^ *//' -e 's/^/detail=/'
      $wo_T 15 svcs -l "$wo_fmri" 2>/dev/null | awk '$1 == "enabled" && $2 == "false" { print "detail=enabled false" }
        $1 == "dependency" && $0 !~ /\((online|degraded)\)$/ { sub(/^dependency */, ""); print "detail=waits for " $0 }' | head -n 4
      ;;
  esac
else
  wo_initd /etc/init.d/ds_agent
fi
