ifconfig -a 2>/dev/null | awk '
  /^[a-z]/ { if ($0 ~ /DHCP/) dhcp = 1 }
  $1 == "inet" { print "addr=" $2 }
  END { if (dhcp) print "dhcp=yes" }'
wo_defroute
