# one df for every directory there is; its lines come in their order
# (if df could not read one, the count is short: then one df each,
# which cannot mix them up)
wo_ds='' wo_want=''
for wo_dir in /opt/ds_agent /var/opt/ds_agent /var/log/ds_agent; do
  if [ -d "$wo_dir" ]; then wo_ds="$wo_ds $wo_dir"; wo_want=x$wo_want; fi
done
# wo_dfl DIR FIELDS...: one df -P line as fs=USED DIR (MOUNT)
wo_dfl() { wo_dir=$1; shift; [ $# -ge 6 ] && printf '%s\n' "fs=${5%\%} $wo_dir ($6)"; }
if [ -n "$wo_ds" ]; then
  set -f
  wo_hr=`df -P $wo_ds 2>/dev/null`
  wo_next # the header
  wo_rows=$wo_hr wo_got=''
  while wo_next; do wo_got=x$wo_got; done
  wo_hr=$wo_rows
  for wo_dir in $wo_ds; do
    if [ "$wo_got" = "$wo_want" ]; then
      wo_next && wo_dfl "$wo_dir" $wo_ln
    else
      wo_hr=`df -P "$wo_dir" 2>/dev/null`; wo_next; wo_next && wo_dfl "$wo_dir" $wo_ln
    fi
  done
  set +f
fi
echo "checked=df"
