WO_PORT_RESULT=''
if [ -z "$WO_MANAGER" ]; then
  echo "result=unavailable"
else
  # wo_probe HOST: the first tool of WO_TCP_TOOLS the host has; sets
  # wo_tool, wo_out and wo_rc (124: timed out)
  wo_probe() {
    wo_tool=
    for t in $WO_TCP_TOOLS; do
      wo_have "$t" || continue
      wo_tool=$t
      case $t in
        bash)
          # no startup files: a slow or chatty ~/.bashrc must not
          # decide whether the port is open
          wo_out=`$wo_T "$WO_PORT_TIMEOUT" env BASH_ENV= ENV= bash --norc --noprofile -c 'exec 3<>"/dev/tcp/$1/$2"' wo "$1" "$WO_PORT" 2>&1`; wo_rc=$? ;;
        nc)
          wo_out=`$wo_T "$WO_PORT_TIMEOUT" nc -z -v -w "$WO_PORT_TIMEOUT" "$1" "$WO_PORT" 2>&1`; wo_rc=$? ;;
        curl)
          wo_out=`curl -sS --connect-timeout "$WO_PORT_TIMEOUT" --max-time "$WO_PORT_TIMEOUT" -o /dev/null "telnet://$1:$WO_PORT" </dev/null 2>&1`; wo_rc=$?
          case $wo_rc in 28) wo_rc=124 ;; esac ;;
        perl)
          # IO::Socket::INET bounds the connect itself and names the errno
          wo_out=`$wo_T "$WO_PORT_TIMEOUT" perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => "tcp", Timeout => $ARGV[2]); if ($s) { print "connected\n"; exit 0 } print "error: $! $@\n"; exit 1' "$1" "$WO_PORT" "$WO_PORT_TIMEOUT" 2>&1`; wo_rc=$? ;;
        *) wo_tool=; continue ;;
      esac
      return 0
    done
  }
  # wo_result: wo_r is what the probe's status and words say
  wo_result() {
    case "$wo_rc:$wo_out" in
      0:*) wo_r=open ;;
      *[Rr]efused*) wo_r=refused ;;
      *[Nn]ame\ or\ service*|*[Tt]emporary\ failure*|*resolve*|*[Uu]nknown\ host*|*[Bb]ad\ hostname*|*[Nn]o\ address\ associated*) wo_r=dns ;;
      124:*|*[Tt]imed\ out*|*[Tt]imeout*|*"in progress"*) wo_r=timeout ;;
      *[Nn]o\ route*|*[Uu]nreachable*) wo_r=unreachable ;;
      *) wo_r=error ;;
    esac
  }
  wo_probe "$WO_MANAGER"
  if [ -z "$wo_tool" ]; then
    echo "result=unavailable"; echo "reason=no tool to open a TCP connection"
  else
    printf '%s\n' "tool=$wo_tool"
    printf '%s\n' "target=$WO_MANAGER:$WO_PORT"
    wo_head 5 "$wo_out"
    wo_result
    wo_dst=$WO_MANAGER
    if [ "$wo_r" = dns ] && [ -n "$WO_BASTION_ADDR" ] && [ "$WO_MANAGER" = "$WO_BASTION_NAME" ]; then
      # The host cannot resolve the name: try the address the bastion
      # got for it, so a blocked port is found even while DNS is broken.
      wo_probe "$WO_BASTION_ADDR"
      wo_dst=$WO_BASTION_ADDR
      echo "via=address"
      printf '%s\n' "address_target=$WO_BASTION_ADDR:$WO_PORT"
      wo_head 5 "$wo_out"
      wo_result
    fi
    WO_PORT_RESULT=$wo_r
    printf '%s\n' "result=$wo_r"
    case "$wo_r" in
      open|dns) ;;
      *)
        # where the path stops: the last hop that answers
        if wo_have traceroute; then
          $wo_T "$WO_TRACE_TIMEOUT" traceroute -n -q 1 -w 1 -m 12 "$wo_dst" 2>/dev/null | sed -n 's/^ *\([0-9][0-9]*\) *\([0-9][0-9.:a-f]*\) .*/hop=\1 \2/p'
        elif wo_have tracepath; then
          $wo_T "$WO_TRACE_TIMEOUT" tracepath -n -m 12 "$wo_dst" 2>/dev/null | sed -n 's/^ *\([0-9][0-9]*\): *\([0-9][0-9.:a-f]*\) .*/hop=\1 \2/p' | uniq
        fi ;;
    esac
  fi
fi
