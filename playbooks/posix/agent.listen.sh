if wo_have ss; then
  # the listening address is the fourth field
  wo_l4() { case $4 in *":$WO_AGENT_PORT") printf '%s\n' "listen=$4" ;; esac; }
  wo_hr=`ss -ltn 2>/dev/null`
  set -f
  while wo_next; do wo_l4 $wo_ln; done
  set +f
else
  netstat -an 2>/dev/null | awk -v p="[.:]$WO_AGENT_PORT\$" '/LISTEN/ && $4 ~ p { print "listen=" $4 }'
fi
echo "checked=yes"
