wo_logscan
if [ "$wo_logscan_out" = none ]; then echo "logs=none"; return 0; fi
wo_hr=$wo_logscan_out
while wo_next; do case $wo_ln in tls=*) printf '%s\n' "line=${wo_ln#tls=}" ;; esac; done
echo "logs=read"
