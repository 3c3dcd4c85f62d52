#!/usr/bin/env python3
"""Reads `ansible-inventory --list` JSON on stdin and prints, per host, the
connection settings Ansible itself would use, by Ansible's rules:

- variables are already merged by ansible-inventory (host over child group
  over parent, ansible_group_priority, later definitions winning);
- a connection option read from several variables takes the LAST one of its
  list that is defined (ansible_ssh_host over ansible_host, whatever level
  each came from) - the ssh/winrm plugins' documented variable lists;
- ssh arguments are split with shlex, as the ssh plugin does;
- "{{ }}" values are rendered with Jinja2 from the host's variables and
  inventory_hostname; one that needs more (lookups, facts) makes the host
  one whyoffline skips.

- a vaulted value ({"__ansible_vault": ...} in --list output) is opened
  with Ansible's own VaultLib and the password file given as argv[1]; with
  none, a host whose connection settings need one is one whyoffline skips;
- an ssh destination user@address (a host named so, no ansible_host) gives
  the user unless ansible_user sets one, as ssh(1) reads it.

Used by corpus_test.go to hold whyoffline's loader to Ansible; run with
the Python that runs ansible-inventory."""
import json, shlex, sys

VAULT = None
if len(sys.argv) > 1:
    from ansible.parsing.vault import VaultLib, VaultSecret
    with open(sys.argv[1], "rb") as f:
        VAULT = VaultLib([("default", VaultSecret(f.read().strip()))])

class Sealed(Exception):
    pass

def unvault(v):
    if isinstance(v, dict) and set(v) == {"__ansible_vault"}:
        if VAULT is None:
            raise Sealed()
        return VAULT.decrypt(v["__ansible_vault"]).decode()
    return v

try:
    import jinja2
except ImportError:  # ansible-core depends on it
    jinja2 = None

SSH = {"ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh"}
WINRM = {"winrm", "ansible.builtin.winrm", "psrp", "ansible.windows.psrp"}
TRUE = {"yes", "true", "1", "on", "y", "t"}

def groups_of(data):
    children = {g: v.get("children", []) for g, v in data.items() if g != "_meta"}
    direct = {g: v.get("hosts", []) for g, v in data.items() if g != "_meta"}
    memo = {}
    def members(g, seen=()):
        if g in memo:
            return memo[g]
        out = set(direct.get(g, []))
        for c in children.get(g, []):
            if c not in seen:
                out |= members(c, seen + (g,))
        memo[g] = out
        return out
    hosts = {}
    for g in direct:
        for h in members(g):
            hosts.setdefault(h, set())
            if g not in ("all", "ungrouped"):
                hosts[h].add(g)
    return hosts

class Unrenderable(Exception):
    pass

def render(v, hv, name):
    if not isinstance(v, str) or "{{" not in v:
        return v
    if jinja2 is None:
        raise Unrenderable("no jinja2")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    ctx = dict(hv)
    ctx["inventory_hostname"] = name
    try:
        out = env.from_string(v).render(ctx)
    except Exception as e:
        raise Unrenderable(str(e))
    if "{{" in out:
        return render(out, hv, name)
    return out

def last(hv, names):
    v = None
    for n in names:
        if n in hv and hv[n] is not None:
            v = hv[n]
    return v

def ssh_option(args, name):
    try:
        f = shlex.split(args)
    except ValueError:
        f = args.split()
    i = 0
    while i < len(f):
        a = f[i]
        if name == "ProxyJump" and a == "-J" and i + 1 < len(f):
            return f[i + 1]
        if name == "ProxyJump" and a.startswith("-J") and len(a) > 2:
            return a[2:]
        o = None
        if a == "-o" and i + 1 < len(f):
            i += 1
            o = f[i]
        elif a.startswith("-o"):
            o = a[2:]
        if o is not None:
            o = o.strip()
            for sep in ("=", " ", "\t"):
                if sep in o:
                    k, v = o.split(sep, 1)
                    if k.strip().lower() == name.lower():
                        return v.strip().lstrip("=").strip()
                    break
        i += 1
    return ""

CONN = ("ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port",
        "ansible_user", "ansible_ssh_user", "ansible_password", "ansible_ssh_pass",
        "ansible_ssh_password", "ansible_become", "ansible_become_user", "ansible_become_method",
        "ansible_connection", "ansible_private_key_file", "ansible_ssh_private_key_file")

def expect(name, hv, groups):
    e = {"groups": sorted(groups)}
    opened = {}
    for k, v in hv.items():
        try:
            opened[k] = unvault(v)
        except Sealed:
            if k in CONN or k.startswith(("ansible_winrm_", "ansible_psrp_")) or any(
                    isinstance(t, str) and k in t for t in hv.values()):
                e["skip"] = "vault: " + k
                return e
            opened[k] = None
    hv = opened
    try:
        hv = {k: render(v, hv, name) for k, v in hv.items()}
    except Unrenderable as x:
        e["skip"] = "template: " + str(x)[:100]
        return e
    conn = str(hv.get("ansible_connection") or "ssh")
    if conn in SSH:
        e["transport"] = "ssh"
        addr = last(hv, ["ansible_host", "ansible_ssh_host"])
        port = last(hv, ["ansible_port", "ansible_ssh_port"])
        user = last(hv, ["ansible_user", "ansible_ssh_user"])
        pw = last(hv, ["ansible_password", "ansible_ssh_pass", "ansible_ssh_password"])
        key = last(hv, ["ansible_private_key_file", "ansible_ssh_private_key_file"])
        args = " ".join(str(hv.get(k) or "") for k in ("ansible_ssh_common_args", "ansible_ssh_extra_args"))
        e["jump"] = ssh_option(args, "ProxyJump")
        e["proxy_command"] = "" if e["jump"] else ssh_option(args, "ProxyCommand")
        e["key_file"] = str(key or "")
    elif conn in WINRM:
        e["transport"] = "winrm"
        pre = "ansible_psrp_" if "psrp" in conn else "ansible_winrm_"
        addr = last(hv, ["ansible_host", pre + "host"])
        port = last(hv, ["ansible_port", pre + "port"])
        user = last(hv, ["ansible_user", pre + "user"])
        pw = last(hv, ["ansible_password", pre + "pass", pre + "password"])
        transport = str(hv.get(pre + "transport") or hv.get(pre + "auth") or "")
        if transport.lower() == "credssp":
            e["skip"] = "credssp"
            return e
        scheme = str(hv.get(pre + "scheme") or hv.get(pre + "protocol") or "")
        if not scheme:
            scheme = "http" if str(port) == "5985" else "https"
        e["scheme"] = scheme
    else:
        e["skip"] = "connection " + conn
        return e
    e["address"] = str(addr) if addr is not None else name
    e["port"] = int(port) if port not in (None, "") else 0
    e["user"] = str(user or "")
    if e["transport"] == "ssh" and "@" in e["address"]:
        # ssh(1): the destination's user unless -o User (ansible_user) is given
        dest_user, e["address"] = e["address"].split("@", 1)
        e["user"] = e["user"] or dest_user
    e["password"] = str(pw or "")
    become = str(hv.get("ansible_become", False)).lower() in TRUE
    e["become"] = become
    method = str(hv.get("ansible_become_method") or "sudo")
    for prefix in ("ansible.builtin.", "community.general."):
        if method.startswith(prefix):
            method = method[len(prefix):]
    if become and method not in ("sudo", "pfexec", "doas", "dzdo"):
        e["skip"] = "become_method " + method
        return e
    e["become_user"] = str(hv.get("ansible_become_user") or "root") if become else ""
    e["become_method"] = method if become else ""
    return e

data = json.load(sys.stdin)
hostvars = data.get("_meta", {}).get("hostvars", {})
out = {h: expect(h, hostvars.get(h, {}), g) for h, g in groups_of(data).items()}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
