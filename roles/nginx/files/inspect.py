# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what groundwork.server.nginx needs to know about the host, as JSON.

Argument: one JSON object {"certificate_dir", "hook_dir", "names", "packages", "unit"}.
Read-only, standard library only: the nginx version, CPUs, memory and open-file limit,
the OCSP responders of the certificates, the name servers, the renewal hooks nginx
registered, the ACME certificates still waiting for their real certificate, the dpkg
state of the role's packages and the state of nginx's unit.
"""

import glob
import json
import os
import subprocess
import sys

RENEW_SERVICE = "/etc/systemd/system/groundwork-tls-renew.service"
ACME_SPECS = "/etc/groundwork/tls/certificates"


def run(argv):
    try:
        # Fixed programs by absolute path; the only argument from outside is a file path.
        return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return None


def hard_nofile(pid):
    """The hard open-file limit of a process, or None."""
    try:
        with open(f"/proc/{pid}/limits", encoding="ascii") as limits:
            for line in limits:
                if line.startswith("Max open files"):
                    value = line.split()[4]
                    return None if value == "unlimited" else int(value)
    except (OSError, ValueError, IndexError):
        return None
    return None


def acme_pending(certificate_dir, name):
    if os.path.exists(os.path.join(certificate_dir, name, ".placeholder")):
        return True
    try:
        with open(os.path.join(ACME_SPECS, f"{name}.json"), encoding="utf-8") as spec:
            domains = {domain.lower() for domain in json.load(spec)["domains"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # not an ACME certificate
    path = os.path.join(certificate_dir, name, "cert.pem")
    san = run(["/usr/bin/openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", path])
    if san is None or san.returncode != 0:
        return True
    names = {
        entry.strip()[4:].lower()
        for entry in san.stdout.replace("\n", ",").split(",")
        if entry.strip().startswith("DNS:")
    }
    return names != domains


def packages(names):
    states = dict.fromkeys(names, "not-installed")
    done = run(["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names])
    for line in done.stdout.splitlines() if done else []:
        name, _sep, state = line.partition(" ")
        if name in states:
            states[name] = state
    return states


def unit_state(unit):
    done = run(["/usr/bin/systemctl", "show", "--property=ActiveState,UnitFileState", "--", unit])
    values = dict(line.split("=", 1) for line in (done.stdout if done else "").splitlines() if "=" in line)
    return {
        "active": values.get("ActiveState") or "unknown",
        "enabled": values.get("UnitFileState") or "unknown",
    }


def main():
    args = json.loads(sys.argv[1])
    certificate_dir, hook_dir, names = args["certificate_dir"], args["hook_dir"], args["names"]
    result = {"version": None, "cpus": len(os.sched_getaffinity(0)), "memory_kb": None}
    nginx = run(["/usr/sbin/nginx", "-v"])
    if nginx is not None and nginx.returncode == 0:
        result["version"] = nginx.stderr.strip().rsplit("/", 1)[-1]
    # Workers may raise their soft limit up to the hard one: that of the running master, or
    # else what systemd gives a service (its default 524288, capped by its own limit).
    master = None
    if os.path.exists("/run/nginx.pid"):
        with open("/run/nginx.pid", encoding="ascii") as pidfile:
            master = pidfile.read().strip()
    limit = hard_nofile(master) if master else None
    if limit is None:
        limit = min(524288, hard_nofile(1) or 524288)
    result["nofile_limit"] = limit
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                result["memory_kb"] = int(line.split()[1])
    result["ocsp"] = {}
    for name in names:
        path = os.path.join(certificate_dir, name, "fullchain.pem")
        uri = (
            run(["/usr/bin/openssl", "x509", "-noout", "-ocsp_uri", "-in", path])
            if os.path.exists(path)
            else None
        )
        result["ocsp"][name] = uri.stdout.strip() if uri is not None and uri.returncode == 0 else ""
    result["resolvers"] = []
    if os.path.exists("/etc/resolv.conf"):
        with open("/etc/resolv.conf", encoding="utf-8") as resolv:
            for line in resolv:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    result["resolvers"].append(fields[1])
    result["hooks"] = sorted(glob.glob(os.path.join(hook_dir, "*.d", "nginx")))
    # ACME certificates of groundwork.server.tls still waiting for their real certificate
    # (a self-signed placeholder, or names that differ from the renewal spec: new names can
    # only be validated once nginx serves them), and whether the renewal service is installed.
    result["acme_pending"] = [name for name in names if acme_pending(certificate_dir, name)]
    result["renew_service"] = os.path.exists(RENEW_SERVICE)
    result["packages"] = packages(args["packages"])
    result["unit"] = unit_state(args["unit"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
