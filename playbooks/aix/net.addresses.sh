ifconfig -a 2>/dev/null | awk '$1 == "inet" { print "addr=" $2 }'
# the first default route, and whether dhcpcd is active, by the shell
wo_defroute
wo_hr=`lssrc -s dhcpcd 2>/dev/null`
while wo_next; do case " $wo_ln " in *" active "*) echo "dhcp=yes"; break ;; esac; done
