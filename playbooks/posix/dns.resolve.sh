printf '%s\n' "name=$WO_MANAGER"
if [ -z "$WO_MANAGER" ]; then echo "result=unavailable"; echo "reason=no manager known"; exit 0; fi
wo_hc=''
while [ ${#wo_hc} -lt 4 ] && read -r wo_k wo_v wo_rest; do
  [ "$wo_k" = nameserver ] || continue
  printf '%s\n' "server=$wo_v"; wo_hc=x$wo_hc
done 2>/dev/null </etc/resolv.conf
case "$WO_MANAGER" in
  *[!0-9.]*) ;;
  *) echo "result=literal"; printf '%s\n' "address=$WO_MANAGER"; exit 0 ;;
esac
wo_tool=
for t in $WO_DNS_TOOLS; do
  if wo_have "$t"; then wo_tool=$t; break; fi
done
if [ -z "$wo_tool" ]; then echo "result=unavailable"; printf '%s\n' "reason=none of: $WO_DNS_TOOLS"; exit 0; fi
printf '%s\n' "tool=$wo_tool"
case $wo_tool in
  getent)
    # getent goes through nsswitch.conf (files, dns) like the agent
    # does; its exit 2 is "not found" whether the name does not exist
    # or no server answered: it cannot tell them apart
    wo_out=`$wo_T "$WO_DNS_TIMEOUT" getent "$WO_GETENT_DB" "$WO_MANAGER" 2>&1`; wo_rc=$?
    # each address once, in the resolver's order
    wo_addrs='' wo_hr=$wo_out
    while wo_next; do
      wo_a=${wo_ln%%[	 ]*}
      case $wo_a in ''|*[!0-9a-fA-F.:]*) continue ;; esac
      case "$wo_nl$wo_addrs$wo_nl" in
        *"${wo_nl}address=$wo_a$wo_nl"*) ;;
        *) wo_addrs=$wo_addrs${wo_addrs:+$wo_nl}address=$wo_a ;;
      esac
    done
    case $wo_rc in 124) wo_r=timeout ;; *) wo_r=fail ;; esac ;;
  host)
    # AIX host(1) resolves through /etc/netsvc.conf (local, bind)
    # like the agent does
    wo_out=`$wo_T "$WO_DNS_TIMEOUT" host "$WO_MANAGER" 2>&1`; wo_rc=$?
    printf '%s\n' "$wo_out" | head -n 5
    wo_addrs=`printf '%s\n' "$wo_out" | awk '/ is [0-9]/ { a = $3; sub(/,$/, "", a); print "address=" a } / has (IPv6 )?address / { print "address=" $NF }' | sort -u`
    case "$wo_rc:$wo_out" in
      124:*) wo_r=timeout ;;
      *NXDOMAIN*|*"not found"*) wo_r=notfound ;;
      *) wo_r=fail ;;
    esac ;;
  nslookup)
    # nslookup asks DNS only, but the agent resolves through NSS: a
    # name in /etc/hosts resolves for it whatever DNS says
    wo_addrs=`awk -v n="$WO_MANAGER" 'BEGIN { n = tolower(n) } $1 !~ /^#/ { for (i = 2; i <= NF && $i !~ /^#/; i++) if (tolower($i) == n) { print "address=" $1; break } }' /etc/hosts 2>/dev/null | sort -u`
    if [ -n "$wo_addrs" ]; then
      echo "source=/etc/hosts (nslookup would ask DNS only)"
      wo_rc=0
    else
      wo_out=`$wo_T "$WO_DNS_TIMEOUT" nslookup "$WO_MANAGER" 2>&1`; wo_rc=$?
      printf '%s\n' "$wo_out" | head -n 20
      wo_addrs=`printf '%s\n' "$wo_out" | awk '/^Name:/ { n = 1 } n && /^Address/ { sub(/^Address(es)?:?[ \t]*/, ""); print "address=" $1 }' | sort -u`
    fi
    case "$wo_rc:$wo_out" in
      124:*) wo_r=timeout ;;
      *NXDOMAIN*|*"Can't find"*) wo_r=notfound ;;
      *) wo_r=fail ;;
    esac ;;
  *) wo_rc=''; wo_r=unavailable; printf '%s\n' "reason=unknown tool $wo_tool" ;;
esac
# An answer with addresses is a resolution whatever the exit status:
# a resolver may answer A and refuse AAAA, and host(1) then exits 1.
if [ -n "$wo_addrs" ]; then
  printf '%s\n' "$wo_addrs"
  [ "$wo_rc" = 0 ] || printf '%s\n' "partial=exit $wo_rc: some record types failed"
  wo_r=ok
fi
printf '%s\n' "result=$wo_r"
printf '%s\n' "rc=$wo_rc"
