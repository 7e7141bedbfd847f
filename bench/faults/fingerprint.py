# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run on a demo host (python3 fingerprint.py): the state of every service the collection
configures there, as one JSON object {service: {"active": bool, "files": sha, "live": sha}}.

``files`` digests the service's configuration on disk (paths and contents); ``live`` what the
running service uses where the service can tell: PostgreSQL's settings from pg_settings, the
table nftables holds, the application's environment from /proc/<MainPID>/environ. nginx,
sshd and journald do not expose the configuration they loaded: for them ``live`` is None and
the bench compares the files (each reload by the roles is part of the same transaction that
writes them).
"""

import hashlib
import json
import os
import subprocess

SERVICES = {
    "nginx": {"units": ["nginx.service"], "files": ["/etc/nginx"]},
    "ssh": {"units": ["ssh.service"], "files": ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d"]},
    "journald": {"units": ["systemd-journald.service"], "files": ["/etc/systemd/journald.conf.d"]},
    "firewall": {"units": [], "files": [], "live": ["nft", "list", "table", "inet", "groundwork"]},
    "postgresql": {
        "units": ["postgresql@*-main.service"],
        "files": ["/etc/postgresql"],
        "live": [
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-XAtc",
            "select name || '=' || setting from pg_settings where source not in ('default', 'override')"
            " and name not like 'lc_%' order by name",
        ],
    },
    "app": {
        "units": ["demo.service"],
        "files": ["/etc/systemd/system/demo.service", "/etc/demo"],
        "environ": "demo.service",
    },
}


def _digest_tree(paths):
    digest = hashlib.sha256()
    found = False
    for top in paths:
        entries = (
            [top]
            if os.path.isfile(top)
            else sorted(os.path.join(d, f) for d, _dirs, files in os.walk(top) for f in files)
        )
        for path in entries:
            if os.path.isfile(path):
                found = True
                digest.update(path.encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()[:16] if found else None


def _output(argv):
    try:
        result = subprocess.run(argv, capture_output=True, check=False, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return hashlib.sha256(result.stdout).hexdigest()[:16] if result.returncode == 0 else None


def _units(patterns):
    names = []
    for pattern in patterns:
        if "*" in pattern:
            listed = subprocess.run(
                ["systemctl", "list-units", "--all", "--plain", "--no-legend", pattern],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            names += [word for word in listed if word.endswith(".service")]
        elif subprocess.run(["systemctl", "cat", pattern], capture_output=True, check=False).returncode == 0:
            names.append(pattern)
    return names


def _environ(unit):
    pid = subprocess.run(
        ["systemctl", "show", "-p", "MainPID", "--value", unit], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            values = sorted(v for v in handle.read().split(b"\0") if v.startswith(b"GW_FAULTS"))
    except OSError:
        return None
    return hashlib.sha256(b"\0".join(values)).hexdigest()[:16]


def main():
    state = {}
    for name, spec in SERVICES.items():
        units = _units(spec["units"])
        files = _digest_tree(spec["files"])
        if spec["units"] and not units:
            continue
        if not spec["units"] and name == "firewall" and not os.path.exists("/usr/sbin/nft"):
            continue
        active = all(
            subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0
            for unit in units
        )
        live = _output(spec["live"]) if "live" in spec else None
        if "environ" in spec:
            live = _environ(spec["environ"])
        if name == "firewall":
            active = live is not None
        state[name] = {"active": active, "files": files, "live": live}
    print(json.dumps(state, sort_keys=True))


if __name__ == "__main__":
    main()
