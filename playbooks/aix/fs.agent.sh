for d in /opt/ds_agent /var/opt/ds_agent /var/log/ds_agent; do
  [ -d "$d" ] || continue
  # AIX df -k: Filesystem 1024-blocks Free %Used Iused %Iused Mounted on;
  # find the first percentage column from the header
  df -k "$d" 2>/dev/null | awk -v d="$d" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /%|[Cc]apacity/) { c = i; break } next }
    c && NF >= c { p = $c; sub(/%/, "", p); print "fs=" p " " d " (" $NF ")"; exit }'
done
echo "checked=df"
