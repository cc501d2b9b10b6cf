#!/usr/bin/env python3
"""unit_sandbox.py UNIT CMD [ARG...] -- run CMD under the sandbox of a
systemd unit file, the way systemd would start it, without systemd as PID 1
(tests/integration/test_ops_systemd.sh).

Applied from UNIT's [Service] section: NoNewPrivileges=,
CapabilityBoundingSet= (every other capability dropped from the bounding
set) and SystemCallFilter= / SystemCallErrorNumber= (a seccomp filter
through libseccomp: the allow list, minus the "~" deny lists, groups
expanded by `systemd-analyze syscall-filter`, plus the calls systemd always
allows). Not applied: settings that need the service manager (namespaces,
device cgroups, RestrictAddressFamilies=, MemoryDenyWriteExecute=).
"""
import ctypes
import errno
import os
import re
import subprocess
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
SCMP_ACT_ALLOW = 0x7FFF0000
# What systemd adds to every allow list (seccomp-util.c: the calls needed
# to exec, exit and sleep).
ALWAYS = "execve exit exit_group getrlimit rt_sigreturn sigreturn @default".split()


def service_settings(path):
    """The [Service] settings of the unit at path: name -> list of values."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def expand(names, seen=None):
    """System call names of names (groups like @system-service expanded)."""
    seen = set() if seen is None else seen
    calls = set()
    for n in names:
        if not n.startswith("@"):
            calls.add(n)
            continue
        if n in seen:
            continue
        seen.add(n)
        text = subprocess.run(["systemd-analyze", "syscall-filter", n], check=True,
                              capture_output=True, text=True).stdout
        members = [l.strip() for l in text.splitlines()[1:]
                   if l.strip() and not l.strip().startswith("#")]
        calls |= expand(members, seen)
    return calls


def syscalls(settings):
    """The allowed set of SystemCallFilter= lines, or None without any."""
    allow, deny = None, set()
    for v in settings.get("SystemCallFilter", []):
        words = v.split()
        if v.startswith("~"):
            deny |= expand([w.lstrip("~").split(":")[0] for w in words])
        else:
            allow = (allow or set()) | expand(words)
    if allow is None:
        return None
    return (allow | expand(ALWAYS)) - deny


def drop_caps(settings, libc):
    keep = set()
    for v in settings.get("CapabilityBoundingSet", []):
        keep |= {c.lower() for c in v.split()}
    if not keep:
        return
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    names = capability_names()
    for cap in range(last + 1):
        if names.get(cap, "") not in keep and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            sys.exit("unit_sandbox: cannot drop capability %d" % cap)


def capability_names():
    """Capability number -> "cap_name" (from the kernel's header)."""
    names = {}
    with open("/usr/include/linux/capability.h") as f:
        for m in re.finditer(r"#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", f.read(), re.M):
            names[int(m.group(2))] = m.group(1).lower()
    return names


def load_filter(allowed, action):
    """Allow the calls in allowed; the others get action (kill, errno)."""
    sc = ctypes.CDLL("libseccomp.so.2")
    sc.seccomp_init.restype = ctypes.c_void_p
    sc.seccomp_init.argtypes = [ctypes.c_uint32]
    sc.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    sc.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    sc.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = sc.seccomp_init(action)
    if not ctx:
        sys.exit("unit_sandbox: seccomp_init failed")
    for name in sorted(allowed):
        nr = sc.seccomp_syscall_resolve_name(name.encode())
        if nr >= 0 and sc.seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0:
            sys.exit("unit_sandbox: seccomp_rule_add %s failed" % name)
    if sc.seccomp_load(ctx) != 0:
        sys.exit("unit_sandbox: seccomp_load failed")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: unit_sandbox.py UNIT CMD [ARG...]")
    settings = service_settings(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    drop_caps(settings, libc)
    if settings.get("NoNewPrivileges", ["no"])[-1] in ("yes", "true", "1"):
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    allowed = syscalls(settings)
    if allowed is not None:
        err = settings.get("SystemCallErrorNumber", [None])[-1]
        load_filter(allowed, 0x80000000 if err is None else 0x00050000 | getattr(errno, err))
    os.execvp(sys.argv[2], sys.argv[2:])


main()
