if [ -z "$WO_MANAGER" ]; then echo "result=unavailable"; exit 0; fi
case "$WO_PORT_RESULT" in
  timeout|refused|unreachable|dns)
    # no connection to shake hands on: do not wait on a dropped port
    # a second time
    echo "result=noconnect"
    printf '%s\n' "reason=the heartbeat port check found $WO_PORT_RESULT"
    exit 0 ;;
esac
if wo_have openssl; then
  echo "tool=openssl"
  if [ "$WO_TLS_SNI" = yes ]; then
    wo_out=`$wo_T "$WO_TLS_TIMEOUT" openssl s_client -connect "$WO_MANAGER:$WO_PORT" -servername "$WO_MANAGER" </dev/null 2>&1`; wo_rc=$?
  else
    wo_out=`$wo_T "$WO_TLS_TIMEOUT" openssl s_client -connect "$WO_MANAGER:$WO_PORT" </dev/null 2>&1`; wo_rc=$?
  fi
  wo_hr=$wo_out wo_hc=''
  while [ ${#wo_hc} -lt 8 ] && wo_next; do
    case $wo_ln in
      CONNECTED*|New,*|"Verify return code"*|Protocol*|*errno*|*error*|*alert*) printf '%s\n' "$wo_ln"; wo_hc=x$wo_hc ;;
    esac
  done
  case "$wo_rc:$wo_out" in
    *"Cipher is"*|*SSL-Session*) echo "result=ok" ;;
    124:*) echo "result=timeout" ;;
    *CONNECTED*) echo "result=fail" ;;
    *) echo "result=noconnect" ;;
  esac
elif wo_have curl; then
  echo "tool=curl"
  wo_out=`curl -sS -k --connect-timeout "$WO_PORT_TIMEOUT" --max-time "$WO_TLS_TIMEOUT" -o /dev/null "https://$WO_MANAGER:$WO_PORT/" 2>&1`; wo_rc=$?
  printf '%s\n' "$wo_out" | head -n 3
  case $wo_rc in
    0|22|52|56) echo "result=ok" ;;
    28) echo "result=timeout" ;;
    35|58|59|60|80) echo "result=fail" ;;
    *) echo "result=noconnect" ;;
  esac
else
  echo "result=unavailable"
fi
