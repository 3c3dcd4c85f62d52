if wo_have ip; then
  # ip -o: one address a line, the address the fourth field
  wo_a4() { [ $# -ge 4 ] && printf '%s\n' "addr=$4"; }
  set -f
  wo_hr=`ip -o addr show 2>/dev/null`
  while wo_next; do wo_a4 $wo_ln; done
  set +f
  # the first default routes, and whether DHCP set one (those hosts
  # may need "Force Allow DHCP DNS" in the policy)
  wo_hr=`ip route show default 2>/dev/null` wo_hc='' wo_dhcp=''
  while wo_next; do
    [ ${#wo_hc} -ge 3 ] || printf '%s\n' "route=$wo_ln"
    wo_hc=x$wo_hc
    case $wo_ln in *" proto dhcp"*) wo_dhcp=yes ;; esac
  done
  [ -z "$wo_dhcp" ] || echo "dhcp=yes"
elif wo_have ifconfig; then
  ifconfig -a 2>/dev/null | awk '$1 == "inet" { a = $2; sub(/^addr:/, "", a); print "addr=" a }'
fi
