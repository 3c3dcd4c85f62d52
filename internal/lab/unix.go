package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Fake Solaris and AIX hosts. A Linux namespace cannot be SunOS, but what
// the playbook sees of an OS is what its commands print: uname, svcs,
// pkginfo, pkg, lssrc, lslpp, AIX host, the Solaris/AIX ifconfig and
// netstat formats. Each fake is a shell script that answers the way the
// real command does for the states used here, bind-mounted into that
// host's own mount namespace only (over the real command when the lab
// machine has one, and on /usr/local/bin, which is on every PATH the
// scripts use). The rest — ps, perl, getent, openssl, df, the agent's
// files, the network — is real.

// Solaris describes a fake Solaris host.
type Solaris struct {
	Release string // "5.10" or "5.11"
	// SMF state of svc:/application/ds_agent:default: online, offline,
	// maintenance, disabled ("" = no such service). Anything but online
	// also stops the agent process, as SMF would.
	SMF string
	// Version of the installed ds-agent package ("" = not installed).
	Version string
	// History: agent versions in the IPS history (Solaris 11).
	History []string
	// NoDateEpoch: date(1) knows no %s, like Solaris 10's.
	NoDateEpoch bool
	// Profiles in /etc/user_attr for pfexec: user -> profile.
	Profiles map[string]string
	// SMFWedged: svcs never answers, as when svc.configd is stuck.
	SMFWedged bool
}

// AIX describes a fake AIX host.
type AIX struct {
	// SRC: lssrc status of ds_agent: active, inoperative ("" = not on file).
	// Anything but active also stops the agent process.
	SRC     string
	Version string // ds_agent fileset level ("" = not installed)
}

// FakeSolaris turns the host into a Solaris one.
func FakeSolaris(s Solaris) Fault {
	return func(h *Host, b *HostBuild) {
		ver := "Generic_150400-59"
		if s.Release == "5.11" {
			ver = "11.4.42.111.0"
		}
		shim(b, "uname", unameShim("SunOS", s.Release, ver, "i86pc"))
		// what the script's command looks for to run under ksh
		shim(b, "isainfo", "#!/bin/sh\necho amd64 i386\n")
		if s.SMF != "online" {
			b.Agent = false
		}
		if s.Version == "" {
			b.Install, b.Agent = false, false
		}
		b.Init = append(b.Init, "rm -f /etc/init.d/ds_agent") // SMF, not init.d
		svcs := svcsShim(s.SMF)
		if s.SMFWedged {
			// one process that never returns, like svcs waiting on a
			// wedged svc.configd
			svcs = "#!/bin/sh\nexec sleep 3600\n"
		}
		shim(b, "svcs", svcs)
		if s.Release == "5.10" {
			// Solaris 10 has no timeout(1): the playbook's own watchdog
			// must bound its commands (a character device is not a
			// command to sh's PATH search)
			b.Init = append(b.Init, "if [ -e /usr/bin/timeout ]; then mount --bind /dev/null /usr/bin/timeout; fi")
		}
		shim(b, "pkginfo", pkginfoShim(s.Version, s.Release))
		if s.Release == "5.11" {
			shim(b, "pkg", pkgShim(s.Version, s.History))
		}
		shim(b, "ifconfig", ifconfigShim(false))
		shim(b, "netstat", netstatShim("solaris"))
		shim(b, "psrinfo", "#!/bin/sh\ni=0; n=`nproc`; while [ $i -lt $n ]; do echo \"$i	on-line   since 11/24/2026 02:00:00\"; i=`expr $i + 1`; done\n")
		// memory as prtconf(1M), vmstat(1M) and kstat(1M) print it: 16 GiB,
		// 6 GiB free, a 2 GiB ZFS ARC
		shim(b, "prtconf", solarisPrtconf)
		shim(b, "vmstat", solarisVmstat)
		shim(b, "kstat", solarisKstat)
		if s.NoDateEpoch {
			// Solaris 10 date(1): no %s conversion, it prints the letter
			b.Init = append(b.Init, "cp /usr/bin/date "+b.Dir+"/date.real")
			shim(b, "date", "#!/bin/sh\ncase \"$*\" in *%s*) echo s; exit 0 ;; esac\nexec "+b.Dir+"/date.real \"$@\"\n")
		}
		if len(s.Profiles) > 0 {
			var attr strings.Builder
			for u, p := range s.Profiles {
				fmt.Fprintf(&attr, "%s::::profiles=%s\n", u, p)
			}
			_ = os.WriteFile(filepath.Join(b.Dir, "user_attr"), []byte(attr.String()), 0o644)
			shim(b, "pfexec", pfexecShim(filepath.Join(b.Dir, "user_attr")))
		}
	}
}

// FakeAIX turns the host into an AIX one.
func FakeAIX(a AIX) Fault {
	return func(h *Host, b *HostBuild) {
		shim(b, "uname", unameShim("AIX", "3", "7", "00F9C1964C00"))
		if a.SRC != "active" {
			b.Agent = false
		}
		if a.Version == "" {
			b.Install, b.Agent = false, false
		}
		b.Init = append(b.Init, "rm -f /etc/init.d/ds_agent") // SRC, not init.d
		shim(b, "lssrc", lssrcShim(a.SRC))
		shim(b, "lslpp", lslppShim(a.Version))
		shim(b, "host", aixHostShim)
		shim(b, "ifconfig", ifconfigShim(true))
		shim(b, "netstat", netstatShim("aix"))
		shim(b, "vmstat", aixVmstat)
	}
}

const solarisPrtconf = `#!/bin/sh
echo "System Configuration:  Oracle Corporation  i86pc"
echo "Memory size: 16384 Megabytes"
echo "System Peripherals (Software Nodes):"
`

// solarisVmstat: the first sample averages since boot; free is column 5, KB.
const solarisVmstat = `#!/bin/sh
echo " kthr      memory            page            disk          faults      cpu"
echo " r b w   swap  free  re  mf pi po fr de sr s0 s1 s2 s3   in   sy   cs us sy id"
echo " 0 0 0 9000000 5000000 3 20 0 0 0 0 0 1 0 0 0 420 310 260 2 1 97"
echo " 0 0 0 9000000 6291456 0 4 0 0 0 0 0 0 0 0 0 401 215 233 1 1 98"
`

const solarisKstat = `#!/bin/sh
case "$*" in
*zfs:0:arcstats:size*) printf 'zfs:0:arcstats:size\t2147483648\n' ;;
*) exit 1 ;;
esac
`

// aixVmstat: "vmstat -v" counts 4 KiB pages (16 GiB, 1 GiB free, 9 GiB of
// file cache); "vmstat 1 1" names the logical CPUs in its header.
const aixVmstat = `#!/bin/sh
case "$1" in
-v)
  echo "              4194304 memory pages"
  echo "              3915776 lruable pages"
  echo "               262144 free pages"
  echo "                    1 memory pools"
  echo "               581632 pinned pages"
  echo "                 90.0 maxpin percentage"
  echo "                  3.0 minperm percentage"
  echo "              2359296 file pages"
  ;;
*)
  echo
  echo "System configuration: lcpu=2 mem=16384MB ent=0.00"
  echo
  echo "kthr    memory              page              faults              cpu"
  echo "----- ----------- ------------------------ ------------ -----------------------"
  echo " r  b   avm   fre  re  pi  po  fr   sr  cy  in   sy  cs us sy id wa    pc    ec"
  echo " 1  0 1500000 262144   0   0   0   0    0   0  12  300 250  1  1 98  0  0.01   1.0"
  ;;
esac
`

// shim writes a fake command into the host's shim directory; initSh
// mounts the directory on /usr/local/bin and each fake over the real
// command of that name, if the lab machine has one.
func shim(b *HostBuild, name, body string) {
	dir := filepath.Join(b.Dir, "shims")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755)
	b.Shims = append(b.Shims, name)
}

func unameShim(sys, release, version, machine string) string {
	return `#!/bin/sh
[ $# -eq 0 ] && set -- -s
out=
for a in "$@"; do
  case "$a" in
    -a) out="$out ` + sys + ` $(hostname) ` + release + ` ` + version + ` ` + machine + `" ;;
    -s) out="$out ` + sys + `" ;;
    -n) out="$out $(hostname)" ;;
    -r) out="$out ` + release + `" ;;
    -v) out="$out ` + version + `" ;;
    -m|-p) out="$out ` + machine + `" ;;
    *) echo "uname: illegal option $a" >&2; exit 1 ;;
  esac
done
echo ${out# }
`
}

// svcsShim answers svcs -H -o state FMRI, svcs -l FMRI and svcs -x FMRI.
func svcsShim(state string) string {
	return `#!/bin/sh
STATE='` + state + `'
FMRI=svc:/application/ds_agent:default
last=; for a in "$@"; do last=$a; done
case "$last" in svc:/application/ds_agent:default|ds_agent|application/ds_agent) ;; *) STATE= ;; esac
if [ -z "$STATE" ]; then echo "svcs: Pattern '$last' doesn't match any instances" >&2; exit 1; fi
enabled=true; [ "$STATE" = disabled ] && enabled=false
case "$1" in
  -H) echo "$STATE" ;;
  -l)
    echo "fmri         $FMRI"
    echo "name         Trend Micro Deep Security Agent"
    echo "enabled      $enabled"
    echo "state        $STATE"
    echo "next_state   none"
    echo "state_time   November 24, 2026 02:00:00 AM UTC"
    echo "logfile      /var/svc/log/application-ds_agent:default.log"
    echo "restarter    svc:/system/svc/restarter:default"
    if [ "$STATE" = offline ]; then
      echo "dependency   require_all/none svc:/milestone/network:default (offline)"
    else
      echo "dependency   require_all/none svc:/milestone/network:default (online)"
    fi ;;
  -x)
    echo "$FMRI (Trend Micro Deep Security Agent)"
    echo " State: $STATE since November 24, 2026 02:00:00 AM UTC"
    case "$STATE" in
      maintenance) echo "Reason: Start method failed repeatedly, last exited with status 1." ;;
      disabled) echo "Reason: Disabled by an administrator." ;;
      offline) echo "Reason: Service svc:/milestone/network:default is not running because a method failed." ;;
    esac
    echo "   See: /var/svc/log/application-ds_agent:default.log"
    [ "$STATE" = online ] || echo "Impact: This service is not running." ;;
  *) echo "$STATE" ;;
esac
`
}

func pkginfoShim(version, release string) string {
	return `#!/bin/sh
V='` + version + `'
last=; for a in "$@"; do last=$a; done
if [ -z "$V" ] || [ "$last" != ds-agent ]; then echo "ERROR: information for \"$last\" was not found" >&2; exit 1; fi
cat <<EOF
   PKGINST:  ds-agent
      NAME:  Trend Micro Deep Security Agent
  CATEGORY:  application
      ARCH:  i386
   VERSION:  $V
   BASEDIR:  /
    VENDOR:  Trend Micro Inc.
    PSTAMP:  ` + release + `
  INSTDATE:  Nov 20 2026 03:14
    STATUS:  completely installed
EOF
`
}

// pkgShim answers IPS "pkg info ds-agent" and "pkg history -l".
func pkgShim(version string, history []string) string {
	var hist strings.Builder
	prev := "None"
	for _, v := range history {
		fmt.Fprintf(&hist, `    Operation: install
      Outcome: Succeeded
       Client: pkg
      Version: 0.5.11
         User: root (0)
   Start Time: 2026-01-01T00:00:00
      Command: /usr/bin/pkg install -g /var/tmp/Agent-Solaris_5.11-%s.x86_64.p5p ds-agent
Changed Packages:
  trend
    application/ds-agent
      %s -> pkg://trend/ds-agent@%s,5.11:20260101T000000Z

`, v, prev, v)
		prev = "pkg://trend/ds-agent@" + v + ",5.11:20260101T000000Z"
	}
	return `#!/bin/sh
V='` + version + `'
case "$1" in
  info)
    if [ -z "$V" ]; then echo "pkg: info: no packages matching the following patterns you specified are installed on the system." >&2; exit 1; fi
    cat <<EOF
          Name: application/ds-agent
       Summary: Trend Micro Deep Security Agent
         State: Installed
     Publisher: trend
       Version: $V
        Branch: 5.11
          FMRI: pkg://trend/ds-agent@$V,5.11:20260101T000000Z
EOF
    ;;
  history)
    cat <<'EOF'
` + hist.String() + `EOF
    ;;
  *) echo "pkg: lab fake knows only info and history" >&2; exit 2 ;;
esac
`
}

func lssrcShim(status string) string {
	return `#!/bin/sh
S='` + status + `'
[ "$1" = -s ] || { echo "lssrc: lab fake knows only -s" >&2; exit 1; }
if [ "$2" != ds_agent ] || [ -z "$S" ]; then echo "0513-085 The $2 Subsystem is not on file."; exit 1; fi
echo "Subsystem         Group            PID          Status"
if [ "$S" = active ]; then
  echo " ds_agent                          $(pidof ds_agent | cut -d' ' -f1)       active"
else
  echo " ds_agent                                           $S"
fi
`
}

func lslppShim(version string) string {
	return `#!/bin/sh
V='` + version + `'
[ -n "$V" ] || { echo "lslpp: 0504-132  Fileset ds_agent* not installed." >&2; exit 1; }
echo "#Package Name:Fileset:Level:State:PTF Id:Fix State:Type:Description:Destination Dir.:Uninstaller:Message Catalog:Message Set:Message Number:Parent:Automatic:EFIX Locked:Install Path:Build Date"
echo "ds_agent:ds_agent.rte:$V: : :C:F:Trend Micro Deep Security Agent: : : : : : :0:0:/:"
`
}

// aixHostShim is AIX host(1): "name is address", or 0827-803.
const aixHostShim = `#!/bin/sh
a=$(getent hosts "$1" | awk '{ print $1; exit }')
if [ -z "$a" ]; then echo "host: 0827-803 Cannot find address $1." >&2; exit 1; fi
echo "$1 is $a"
`

// ifconfigShim prints "ifconfig -a" the Solaris/AIX way from the
// namespace's real addresses.
func ifconfigShim(aix bool) string {
	mask := `printf "%08x" $(( 0xffffffff << (32 - ${cidr#*/}) & 0xffffffff ))`
	prefix := ""
	if aix {
		prefix = "0x"
	}
	return `#!/bin/bash
ip -o -4 addr show | while read -r _ dev _ cidr _; do
  echo "$dev: flags=1000843<UP,BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index 2"
  echo "	inet ${cidr%/*} netmask ` + prefix + `$(` + mask + `)"
done
`
}

// netstatShim answers "netstat -rn -f inet" and the listening sockets of
// "netstat -an" in the Solaris or AIX layout.
func netstatShim(flavour string) string {
	listen := `ss -Hltn | awk '{ split($4, a, ":"); p = a[length(a)]; print "*." p "               *.*                0      0 128000      0 LISTEN" }'`
	if flavour == "aix" {
		listen = `ss -Hltn | awk '{ split($4, a, ":"); p = a[length(a)]; print "tcp4       0      0  *." p "             *.*                    LISTEN" }'`
	}
	return `#!/bin/sh
case "$*" in
  *-rn*) ip -4 route show default | awk '{ print "default              " $3 "            UG        1          0 eth0" }' ;;
  *-an*) ` + listen + ` ;;
  *) echo "netstat: lab fake knows only -rn and -an" >&2; exit 1 ;;
esac
`
}

// pfexecShim is RBAC's pfexec: a user whose profile grants root runs the
// command as root (the lab grants it through sudo); anyone else runs it
// with their own rights, silently, like the real pfexec.
func pfexecShim(userAttr string) string {
	return `#!/bin/sh
u=$(id -un)
if grep -E "^$u::::.*profiles=(Primary Administrator|System Administrator)" ` + userAttr + ` >/dev/null 2>&1; then
  exec sudo -n -- "$@"
fi
exec "$@"
`
}
