for d in /opt/ds_agent /var/opt/ds_agent /var/log/ds_agent; do
  [ -d "$d" ] || continue
  # a long device name wraps df's line: read the last line's fields
  df -k "$d" 2>/dev/null | awk -v d="$d" 'NR > 1 { l = $0 } END { n = split(l, a, " "); if (n >= 5) { c = a[n-1]; sub(/%/, "", c); print "fs=" c " " d " (" a[n] ")" } }'
done
echo "checked=df"
