ifconfig -a 2>/dev/null | awk '
  /^[a-z]/ { if ($0 ~ /DHCP/) dhcp = 1 }
  $1 == "inet" { print "addr=" $2 }
  END { if (dhcp) print "dhcp=yes" }'
wo_rt() { [ "$1" = default ] && printf '%s\n' "route=default via $2"; }
set -f
wo_hr=`netstat -rn -f inet 2>/dev/null`
while wo_next; do wo_rt $wo_ln && break; done
set +f
