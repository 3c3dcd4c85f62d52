ifconfig -a 2>/dev/null | awk '$1 == "inet" { a = $2; sub(/^addr:/, "", a); print "addr=" a }'
netstat -rn 2>/dev/null | awk '($1 == "default" || $1 == "0.0.0.0") && !n { print "route=default via " $2; n = 1 }'
