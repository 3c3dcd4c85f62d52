wo_logscan
if [ "$wo_logscan_out" = none ]; then echo "state=unknown"; return 0; fi
wo_hr=$wo_logscan_out
while wo_next; do case $wo_ln in state=*|line=*) printf '%s\n' "$wo_ln" ;; esac; done
