wo_any=no
for p in /opt/ds_agent/ds_agent /opt/ds_agent/dsa_query /opt/ds_agent/dsa_control; do
  if [ -f "$p" ]; then printf '%s\n' "path=$p"; wo_any=yes; fi
done
for t in $WO_PKG_TOOLS; do
  wo_have "$t" || continue
  v='' s=''
  case $t in
    rpm)
      v=`rpm -q --qf '%{VERSION}-%{RELEASE}\n' ds_agent 2>/dev/null`
      case $v in *"not installed"*) v='' ;; esac
      v=${v%%"$wo_nl"*} ;;
    dpkg-query)
      v=`dpkg-query -W -f '${Status} ${Version}\n' ds-agent 2>/dev/null`
      case $v in "install ok installed "*) v=${v#install ok installed }; v=${v%%"$wo_nl"*} ;; *) v='' ;; esac ;;
    pkginfo)
      # Solaris 10 agents are SVR4 packages
      wo_out=`pkginfo -l ds-agent 2>/dev/null`
      v=`printf '%s\n' "$wo_out" | sed -n 's/^[[:space:]]*VERSION:[[:space:]]*//p' | head -n 1`
      s=`printf '%s\n' "$wo_out" | sed -n 's/^[[:space:]]*STATUS:[[:space:]]*//p' | head -n 1` ;;
    pkg)
      # Solaris 11 agents are IPS packages
      wo_out=`$wo_T 30 pkg info ds-agent 2>/dev/null`
      v=`printf '%s\n' "$wo_out" | sed -n 's/^[[:space:]]*Version:[[:space:]]*//p' | head -n 1`
      [ -n "$v" ] || v=`printf '%s\n' "$wo_out" | sed -n 's/.*ds[-_]agent@\([0-9][0-9.-]*\).*/\1/p' | head -n 1` ;;
    lslpp)
      # AIX installp filesets; lslpp -Lqc: package:fileset:level:...
      v=`lslpp -Lqc 'ds_agent*' 2>/dev/null | awk -F: '$3 != "" && !n { print $3; n = 1 }'` ;;
  esac
  if [ -n "$v" ]; then
    printf '%s\n' "package=ds_agent ($t)"; printf '%s\n' "version=$v"; wo_any=yes
    [ -z "$s" ] || printf '%s\n' "pkg_status=$s"
  fi
done
printf '%s\n' "installed=$wo_any"
