if [ -z "$WO_PROXY_HOST$WO_RPROXY_HOST" ]; then
  case "$WO_DSA" in
    *AgentStatus.*) echo "result=none" ;;
    *) echo "result=unknown"; echo "reason=dsa_query did not answer, so the agent's proxy setting is not known" ;;
  esac
  exit 0
fi
# wo_ask HOST PORT [TARGET]: TCP to HOST:PORT with the first tool of
# WO_TCP_TOOLS the host has and, given TARGET, a CONNECT to it; sets
# wo_tool, wo_rc and wo_out ("connected" once the TCP connection is
# up, then the proxy's status line)
wo_ask() {
  wo_tool='' wo_out='' wo_rc=1
  case $1 in *:*) wo_u="[$1]:$2" ;; *) wo_u="$1:$2" ;; esac
  for t in $WO_TCP_TOOLS; do
    wo_have "$t" || continue
    wo_tool=$t
    case $t in
      bash)
        wo_out=`$wo_T "$WO_PORT_TIMEOUT" env BASH_ENV= ENV= bash --norc --noprofile -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; echo connected; [ -n "$3" ] || exit 0; printf "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" "$3" "$3" >&3; IFS= read -r l <&3 && printf "%s\n" "$l"' wo "$1" "$2" "$3" 2>&1`; wo_rc=$? ;;
      curl)
        if [ -n "$3" ]; then
          # -w prints the proxy's answer to the CONNECT (000: none)
          wo_out=`curl -sS -k -p -x "http://$wo_u" --connect-timeout "$WO_PORT_TIMEOUT" --max-time "$WO_PORT_TIMEOUT" -o /dev/null -w 'HTTP/1.1 %{http_connect} (the proxy)\n' "https://$3/" </dev/null 2>&1`; wo_rc=$?
        else
          wo_out=`curl -sS --connect-timeout "$WO_PORT_TIMEOUT" --max-time "$WO_PORT_TIMEOUT" -o /dev/null "telnet://$wo_u" </dev/null 2>&1`; wo_rc=$?
          [ $wo_rc != 0 ] || wo_out=connected
        fi
        case $wo_rc in 28) wo_rc=124 ;; esac ;;
      perl)
        wo_out=`$wo_T "$WO_PORT_TIMEOUT" perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => "tcp", Timeout => $ARGV[3]) or do { print "error: $! $@\n"; exit 1 }; print "connected\n"; exit 0 if $ARGV[2] eq ""; $| = 1; print $s "CONNECT $ARGV[2] HTTP/1.1\r\nHost: $ARGV[2]\r\n\r\n"; $l = <$s>; print $l if defined $l; exit 0' "$1" "$2" "$3" "$WO_PORT_TIMEOUT" 2>&1`; wo_rc=$? ;;
      *) wo_tool=''; continue ;;
    esac
    return 0
  done
}
# wo_verdict WANT_TUNNEL: wo_r is what wo_ask saw, wo_status the
# proxy's status line (if it answered one)
wo_verdict() {
  wo_status=`printf '%s\n' "$wo_out" | tr -d '\015' | sed -n 's/^.*\(HTTP\/[0-9][.0-9]* [0-9][0-9][0-9].*\)$/\1/p' | head -n 1`
  wo_c=${wo_status#* }; wo_c=${wo_c%"${wo_c#???}"}
  case $wo_c in
    2??) wo_r=ok; return ;;
    4??) wo_r=denied; return ;;
    5??) wo_r=upstream; return ;;
    [0-9][0-9][0-9]) wo_status='' ;; # curl's 000: no answer to the CONNECT
  esac
  case "$wo_rc:$wo_out" in
    *connected*)
      if [ "$1" = yes ]; then wo_r=noanswer; else wo_r=ok; fi ;;
    *[Rr]efused*) wo_r=refused ;;
    *[Nn]ame\ or\ service*|*[Tt]emporary\ failure*|*resolve*|*[Uu]nknown\ host*|*[Bb]ad\ hostname*|*[Nn]o\ address\ associated*) wo_r=dns ;;
    124:*|*[Tt]imed\ out*|*[Tt]imeout*|*"in progress"*) wo_r=timeout ;;
    *[Nn]o\ route*|*[Uu]nreachable*) wo_r=unreachable ;;
    *) wo_r=error ;;
  esac
  # connected, then no answer in time: the proxy took the
  # connection and never answered the CONNECT
  case "$1:$wo_r:$wo_out" in yes:timeout:*connected*) wo_r=noanswer ;; esac
}
case $WO_MANAGER in *:*) wo_m="[$WO_MANAGER]:$WO_PORT" ;; *) wo_m="$WO_MANAGER:$WO_PORT" ;; esac
if [ -n "$WO_PROXY_HOST" ]; then
  wo_ask "$WO_PROXY_HOST" "$WO_PROXY_PORT" "$wo_m"
  if [ -z "$wo_tool" ]; then
    echo "result=unavailable"; echo "reason=no tool to open a TCP connection"
  else
    printf '%s\n' "tool=$wo_tool"
    printf '%s\n' "target=$WO_PROXY_HOST:$WO_PROXY_PORT"
    printf '%s\n' "tunnel=$wo_m"
    # the tool's words, indented: a proxy's answer never starts a
    # line of ours
    printf '%s\n' "$wo_out" | head -n 4 | sed 's/^/  /'
    wo_verdict yes
    [ -z "$wo_status" ] || printf '%s\n' "status=$wo_status"
    printf '%s\n' "result=$wo_r"
  fi
else
  echo "result=none"
fi
if [ -n "$WO_RPROXY_HOST" ]; then
  # relays are the manager's to name: the relay proxy is tested for
  # TCP only
  wo_ask "$WO_RPROXY_HOST" "$WO_RPROXY_PORT" ''
  printf '%s\n' "relay_target=$WO_RPROXY_HOST:$WO_RPROXY_PORT"
  if [ -z "$wo_tool" ]; then
    echo "relay_result=unavailable"
  else
    printf '%s\n' "$wo_out" | head -n 2 | sed 's/^/  /'
    wo_verdict no
    printf '%s\n' "relay_result=$wo_r"
  fi
fi
