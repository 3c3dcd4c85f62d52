if wo_have systemctl && [ -d /run/systemd/system ]; then
  echo "tool=systemctl"
  # one systemctl: its properties as KEY=value lines, in its order
  wo_hr=`systemctl show -p LoadState -p ActiveState -p SubState -p Result -p ExecMainStatus -p UnitFileState ds_agent 2>/dev/null`
  wo_load='' wo_act='' wo_det=''
  while wo_next; do
    case $wo_ln in
      LoadState=*) wo_load=${wo_ln#*=} ;;
      ActiveState=*) wo_act=${wo_ln#*=} ;;
      SubState=*|Result=*|ExecMainStatus=*|UnitFileState=*) wo_det="$wo_det${wo_nl}detail=$wo_ln" ;;
    esac
  done
  printf '%s\n' "load=$wo_load"
  printf '%s\n' "active=$wo_act"
  [ -z "$wo_det" ] || printf '%s\n' "${wo_det#"$wo_nl"}"
  case "$wo_load:$wo_act" in
    not-found:*) echo "state=absent" ;;
    *:active|*:reloading|*:activating) echo "state=running" ;;
    *:failed) echo "state=failed" ;;
    *:inactive|*:deactivating) echo "state=stopped" ;;
    *) echo "state=unknown" ;;
  esac
else
  wo_initd /etc/init.d/ds_agent
fi
