# a newline, for reading text line by line in the shell (the script's
# frame sets it too; setup does not depend on that)
wo_nl='
'
if [ -n "$WO_PATH" ]; then PATH=$WO_PATH:$PATH; export PATH; fi
# wo_have CMD: CMD is an executable file on PATH (or at the path
# CMD). PATH is walked by the shell itself: no process per question
# (the sweep asks a dozen), and no shell's own notion of found —
# ksh93's type names a file on PATH it cannot execute. An empty
# entry (the current directory) is not searched: this runs as root.
wo_have() {
  case $1 in */*) [ -f "$1" ] && [ -x "$1" ]; return ;; esac
  wo_ifs=$IFS; IFS=:
  for wo_d in $PATH; do
    [ -n "$wo_d" ] || continue
    if [ -f "$wo_d/$1" ] && [ -x "$wo_d/$1" ]; then IFS=$wo_ifs; return 0; fi
  done
  IFS=$wo_ifs
  return 1
}
# wo_t SECONDS CMD...: bound a command. Without timeout(1) (Solaris
# before 11.4, AIX) a watchdog kills it; a killed command returns 124
# like GNU timeout.
wo_t() {
  wo_s=$1; shift
  if [ -n "$wo_timeout" ]; then timeout "$wo_s" "$@"; return $?; fi
  "$@" &
  wo_p=$!
  ( sleep "$wo_s"; kill -TERM $wo_p; sleep 2; kill -KILL $wo_p ) >/dev/null 2>&1 </dev/null &
  wo_w=$!
  wait $wo_p; wo_rc=$?
  kill $wo_w >/dev/null 2>&1
  case $wo_rc in 137|143|265|271) return 124 ;; esac
  return $wo_rc
}
# wo_next: moves the first line of wo_hr into wo_ln; false when
# wo_hr is empty. A loop over a command's output in the shell:
#   wo_hr=`cmd`; while wo_next; do case $wo_ln in ...; done
wo_next() {
  [ -n "$wo_hr" ] && [ -n "$wo_nl" ] || return 1
  case $wo_hr in
    *"$wo_nl"*) wo_ln=${wo_hr%%"$wo_nl"*}; wo_hr=${wo_hr#*"$wo_nl"} ;;
    *) wo_ln=$wo_hr; wo_hr='' ;;
  esac
}
# wo_head N TEXT: TEXT's first N lines, as head -n N prints them,
# without its process
wo_head() {
  wo_hr=$2 wo_hc=''
  while [ ${#wo_hc} -lt "$1" ] && wo_next; do
    printf '%s\n' "$wo_ln"; wo_hc=x$wo_hc
  done
}
# wo_defroute: route= for the first default route of netstat -rn -f
# inet (AIX, Solaris), read by the shell
wo_defroute() {
  wo_hr=`netstat -rn -f inet 2>/dev/null`
  set -f
  while wo_next; do wo_rt $wo_ln && break; done
  set +f
}
# wo_rt FIELDS...: a netstat route line's gateway, if it is the default
wo_rt() { [ "$1" = default ] && printf '%s\n' "route=default via $2"; }
# wo_uptime: load1= and load5= from uptime's "load average: 1.20,
# 0.80, 0.50", read by the shell (AIX, Solaris)
wo_uptime() {
  wo_u=`uptime 2>/dev/null`
  case $wo_u in
    *"load average:"*,*,*)
      wo_u=${wo_u#*load average:}
      wo_l1=${wo_u%%,*}; wo_u=${wo_u#*,}; wo_l5=${wo_u%%,*}
      wo_l1=${wo_l1#"${wo_l1%%[! ]*}"}; wo_l5=${wo_l5#"${wo_l5%%[! ]*}"}
      case $wo_l1$wo_l5 in
        *[!0-9.]*) ;;
        *) printf '%s\n' "load1=$wo_l1" "load5=$wo_l5" ;;
      esac ;;
  esac
}
# wo_logscan: the last 400 lines of each of the agent's four newest
# logs, oldest first (the newest words last), read once for both
# log checks — they run in this shell one after the other — into
# wo_logscan_out: tls= lines (the last ten that tell of a TLS or
# certificate error), state= (where the last rule update got) and
# line= (the line that says so); "none" without a log.
wo_logscan_out=''
wo_logscan() {
  [ -z "$wo_logscan_out" ] || return 0
  wo_hr=`ls -t /var/log/ds_agent/*.log /var/opt/ds_agent/diag/*.log 2>/dev/null` wo_logs='' wo_hc=''
  while [ ${#wo_hc} -lt 4 ] && wo_next; do wo_logs="$wo_ln $wo_logs"; wo_hc=x$wo_hc; done
  if [ -z "$wo_logs" ]; then wo_logscan_out=none; return 0; fi
  wo_logscan_out=`for f in $wo_logs; do tail -n 400 "$f" 2>/dev/null; done | awk '
    { l = tolower($0) }
    l ~ /(ssl|tls|x509|certificate|handshake).*(error|fail|invalid|expired|revoked|verify|unknown ca|bad)|(error|fail).*(ssl|tls|x509|certificate|handshake)/ { t[n++ % 10] = $0 }
    l ~ /(rule|security|pattern) update.*(complete|finish|success|done|fail|abort)/ { s = "finished"; line = $0; next }
    l ~ /(rule|security|pattern) update.*(start|begin|progress|applying|running)/ || l ~ /(applying|updating) (rules|security)/ { s = "in-progress"; line = $0 }
    END {
      for (i = (n > 10 ? n - 10 : 0); i < n; i++) print "tls=" t[i % 10]
      if (s == "") s = "none"; print "state=" s; if (line != "") print "line=" line
    }'`
  [ -n "$wo_logscan_out" ] || wo_logscan_out="state=none"
}
# asked once. $wo_T SECONDS CMD... bounds a command: timeout(1)
# itself where the host has it — the last command of a command
# substitution or a pipeline stage, the shell execs it without a
# process of its own in between — else the watchdog of wo_t.
wo_timeout=''
if wo_have timeout; then wo_timeout=timeout; fi
wo_T=${wo_timeout:-wo_t}
# wo_initd SCRIPT: an init script's LSB status as tool=/state= lines
# (0 running, 1-3 not running, 4 unknown); no script: absent
wo_initd() {
  if [ ! -x "$1" ]; then echo "tool=none"; echo "state=absent"; return 0; fi
  echo "tool=init.d"
  wo_out=`$wo_T 10 "$1" status 2>&1`; wo_rc=$?
  wo_head 5 "$wo_out"
  case $wo_rc in 0) echo "state=running" ;; 1|2|3) echo "state=stopped" ;; *) echo "state=unknown" ;; esac
}
# id(1) shows euid= next to the login uid when they differ (pfexec
# with a root profile); Solaris 10's id has no -u. One id, read by
# the shell.
# Linux says the effective uid in /proc/self/status (Uid: real
# effective saved fs), read by the shell: no id process.
wo_uid=''
case $WO_UNAME in
  Linux\ *)
    while read -r wo_k wo_ru wo_eu wo_rest; do
      if [ "$wo_k" = Uid: ]; then wo_uid=$wo_eu; break; fi
    done 2>/dev/null </proc/self/status ;;
esac
case $wo_uid in ''|*[!0-9]*)
  wo_id=`id 2>/dev/null`
  case $wo_id in
    *" euid="*) wo_uid=${wo_id#* euid=} ;;
    *) wo_uid=${wo_id#uid=} ;;
  esac
  wo_uid=${wo_uid%%[!0-9]*} ;;
esac
if [ -n "$wo_uid" ] && [ "$wo_uid" = 0 ]; then WO_ROOT=yes; else WO_ROOT=no; fi
printf '%s\n' "root=$WO_ROOT"
# WO_UNAME is -s -n -r -v in that order; only -v may have spaces.
# A uname that printed fewer fields is asked field by field.
case $WO_UNAME in
  *" "*" "*" "*)
    wo_un=${WO_UNAME#* }
    echo "hostname=${wo_un%% *}"; wo_un=${wo_un#* }
    echo "release=${wo_un%% *}"
    echo "version=${wo_un#* }" ;;
  *)
    wo_un=`uname -n -r 2>/dev/null`
    echo "hostname=${wo_un%% *}"
    case $wo_un in *" "*) echo "release=${wo_un#* }" ;; *) echo "release=" ;; esac
    echo "version=`uname -v 2>/dev/null`" ;;
esac
WO_DSA=
if [ -x /opt/ds_agent/dsa_query ]; then
  WO_DSA=`$wo_T "$WO_DSA_TIMEOUT" /opt/ds_agent/dsa_query -c GetAgentStatus 2>&1 </dev/null | head -n 200`
fi
# wo_kv TEXT KEY: wo_v is the value of TEXT's first "KEY: value" (or
# "KEY = value") line, blanks around it trimmed; false when none. The
# shell reads it: no process per question, and no here-document, which
# bash before 5.1 (RHEL 7 and 8's /bin/sh) writes to a file in $TMPDIR.
wo_kv() {
  wo_v=
  wo_hr=$1
  while wo_next; do
    wo_l=${wo_ln#"${wo_ln%%[!	 ]*}"}
    case $wo_l in "$2"*) ;; *) continue ;; esac
    wo_l=${wo_l#"$2"}
    wo_l=${wo_l#"${wo_l%%[!	 ]*}"}
    case $wo_l in [:=]*) ;; *) continue ;; esac
    wo_l=${wo_l#?}
    wo_v=${wo_l#"${wo_l%%[!	 ]*}"}
    return 0
  done
  return 1
}
# The agent's own dsmUrl is the manager it really talks to: it
# overrides --manager for this host. Accept only host-name characters.
if wo_kv "$WO_DSA" AgentStatus.dsmUrl && [ -n "$wo_v" ]; then
  wo_url=$wo_v
  printf '%s\n' "dsm_url=$wo_url"
  wo_hp=${wo_url#*://}; wo_hp=${wo_hp%%/*}
  case "$wo_hp" in
    \[*\]:*) wo_h=${wo_hp#?}; wo_h=${wo_h%%]*}; wo_p=${wo_hp##*]:} ;;
    *:*) wo_h=${wo_hp%:*}; wo_p=${wo_hp##*:} ;;
    *) wo_h=$wo_hp; wo_p=$WO_PORT ;;
  esac
  case "$wo_h" in ''|-*|*[!A-Za-z0-9.:_-]*) ;; *) WO_MANAGER=$wo_h ;; esac
  case "$wo_p" in ''|*[!0-9]*) ;; *) WO_PORT=$wo_p ;; esac
fi
# whether the agent answered at all, and the state it reports (an
# agent never activated has no dsmUrl and no green/yellow/red state)
case "$WO_DSA" in
  *AgentStatus.*)
    echo "dsa=answered"
    if wo_kv "$WO_DSA" AgentStatus.agentState && [ -n "$wo_v" ]; then
      printf '%s\n' "agent_state=$wo_v"
    fi ;;
esac
printf '%s\n' "manager=$WO_MANAGER"
printf '%s\n' "port=$WO_PORT"
# The agent's proxies (dsa_control -x dsm_proxy://HOST:PORT/ for the
# manager, -y relay_proxy://HOST:PORT/ for relays) show as
# AgentStatus keys naming a proxy, their value the URL. Only scheme,
# host and port are kept: a user:password in it never leaves the host.
WO_PROXY_HOST='' WO_PROXY_PORT='' WO_RPROXY_HOST='' WO_RPROXY_PORT=''
wo_hr=$WO_DSA
while wo_next; do
  wo_l=$wo_ln
  wo_l=${wo_l#"${wo_l%%[!	 ]*}"}
  case $wo_l in AgentStatus.*[:=]*) ;; *) continue ;; esac
  wo_k=${wo_l%%[:=]*}
  wo_k=${wo_k%"${wo_k##*[!	 ]}"}
  case $wo_k in *[Pp]roxy*) ;; *) continue ;; esac
  case $wo_k in *[!A-Za-z0-9._]*) continue ;; esac
  wo_v=${wo_l#*[:=]}
  wo_v=${wo_v#"${wo_v%%[!	 ]*}"}
  wo_v=${wo_v%%[	 ]*}
  wo_sch=''
  case $wo_v in *://*) wo_sch=${wo_v%%://*}; wo_v=${wo_v#*://} ;; esac
  case $wo_sch in *[!A-Za-z0-9_+.-]*) continue ;; esac
  wo_hp=${wo_v%%/*}; wo_hp=${wo_hp##*@}
  case "$wo_hp" in
    \[*\]:*) wo_h=${wo_hp#?}; wo_h=${wo_h%%]*}; wo_p=${wo_hp##*]:} ;;
    *:*:*) continue ;;
    *:*) wo_h=${wo_hp%:*}; wo_p=${wo_hp##*:} ;;
    *) continue ;;
  esac
  case "$wo_h" in ''|-*|*[!A-Za-z0-9.:_-]*) continue ;; esac
  case "$wo_p" in ''|*[!0-9]*) continue ;; esac
  wo_kind=manager
  case "$wo_k$wo_sch" in *[Rr]elay*) wo_kind=relay ;; esac
  case $wo_h in *:*) wo_hp="[$wo_h]:$wo_p" ;; *) wo_hp="$wo_h:$wo_p" ;; esac
  if [ $wo_kind = relay ]; then
    [ -z "$WO_RPROXY_HOST" ] || continue
    WO_RPROXY_HOST=$wo_h WO_RPROXY_PORT=$wo_p
  else
    [ -z "$WO_PROXY_HOST" ] || continue
    WO_PROXY_HOST=$wo_h WO_PROXY_PORT=$wo_p
  fi
  printf '%s\n' "proxy=$wo_kind ${wo_sch:-http}://$wo_hp/"
done
