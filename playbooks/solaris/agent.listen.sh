netstat -an -f inet -P tcp 2>/dev/null | awk -v p="[.:]$WO_AGENT_PORT\$" '/LISTEN/ && $1 ~ p { print "listen=" $1 }'
echo "checked=yes"
