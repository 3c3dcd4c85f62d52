if [ "$WO_ROOT" != yes ]; then echo "result=unavailable"; echo "reason=needs root (become)"; return 0; fi
for t in $WO_FW_TOOLS; do
  wo_have "$t" || continue
  case $t in
    iptables)
      # the OUTPUT and FORWARD rules on the port, or that drop; ten
      iptables -S 2>/dev/null | awk -v p="$WO_PORT" '
        ($0 ~ ("--dports? ([0-9]+[:,])*" p "([,: ]|$)") || /-j (DROP|REJECT)/) && /-A (OUTPUT|FORWARD)/ && n < 10 { print "rule=" $0; n++ }' ;;
    nft)
      # rules that drop or reject the port, as a word; ten
      nft list ruleset 2>/dev/null | awk -v p="$WO_PORT" '
        $0 ~ ("dport.*[^0-9A-Za-z_]" p "([^0-9A-Za-z_].*)?(drop|reject)") && n < 10 { l = $0; sub(/^[ \t]+/, "", l); print "rule=nft " l; n++ }' ;;
    ipfstat)
      ipfstat -o 2>/dev/null | grep -E "block.*port = (${WO_PORT}|${WO_PORT}[^0-9])" | head -n 10 | sed 's/^/rule=ipf /' ;;
    pfctl)
      pfctl -s rules 2>/dev/null | grep -E "block.*port( =)? $WO_PORT([^0-9]|$)" | head -n 10 | sed 's/^/rule=pf /' ;;
    lsfilt)
      lsfilt -v 4 -O 2>/dev/null | grep -i deny | grep -E "(^|[^0-9])$WO_PORT([^0-9]|$)" | head -n 10 | sed 's/^/rule=lsfilt /' ;;
  esac
done
echo "result=read"
