# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What groundwork.server.firewall needs to know about the host (runs on the host, read-only).

``inspect(args, core)`` with args {"table", "family", "state_dir", "persist", "unit",
"packages"} (the paths from module_utils/_nftables/core.py observed_paths) returns
{"report": text, "table": {...}}.

"report" is the text plugin_utils/_flows.py parse_report reads (published as
firewall_host_report): the management connection (SSH_CONNECTION, or the older
SSH_CLIENT, of this process or of the login session it runs in: become starts the probe
with a fresh environment, but the session's processes above it still carry the
variables), the source addresses of the default IPv4 and IPv6 routes (a UDP socket
connected to a documentation address: the kernel picks the source, no packet is sent),
and the dpkg state of the role's packages.

"table" is what groundwork.server.nftables_table compares (digests only): nft's listing
of the live table, the record of the last confirmed listing, whether a change waits for
confirmation, the persisted file and the boot unit.
"""

import hashlib
import os
import socket

NFT_PATHS = ("/usr/sbin/nft", "/sbin/nft")
ROUTES = {"route4": (socket.AF_INET, "192.0.2.1"), "route6": (socket.AF_INET6, "2001:db8::1")}


def session_variable(name):
    """The variable from this process, or from the nearest process above it that has it."""
    if os.environ.get(name):
        return os.environ[name]
    pid = os.getppid()
    for _level in range(16):
        if pid <= 1:
            break
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                entries = handle.read().split(b"\0")
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        for entry in entries:
            key, _sep, value = entry.partition(b"=")
            if key.decode("ascii", "replace") == name and value:
                return value.decode("utf-8", "replace")
        pid = parent
    return ""


def route_source(family, destination):
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((destination, 9))
            return probe.getsockname()[0]
    except OSError:
        return None


def report(core, packages):
    lines = [
        f"ssh={session_variable('SSH_CONNECTION')}",
        f"sshclient={session_variable('SSH_CLIENT')}",
    ]
    for key, (family, destination) in ROUTES.items():
        source = route_source(family, destination)
        lines.append(f"{key}=src {source}" if source else f"{key}=")
    states = core.packages(list(packages))
    lines += [f"pkg={name} {state}" for name, state in states.items() if state != "not-installed"]
    return "\n".join(lines) + "\n"


def normalize(listing):
    """As groundwork.server.nftables_table compares listings (module_utils/_nftables/core.py)."""
    lines = [line.rstrip() for line in listing.strip("\n").splitlines()]
    return "\n".join(lines) + "\n" if lines else ""


def digest(text):
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


class Unreadable(Exception):
    """A file exists but cannot be read (the probe does not run as root)."""


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(path) from exc


def table(args, core):
    nft = next((path for path in NFT_PATHS if os.path.exists(path)), None)
    paths = {key: args[key] for key in ("state_dir", "persist", "unit")}
    state = {"nft": nft, "live": None, "readable": True, "paths": paths}
    if nft is not None:
        done = core.run([nft, "list", "table", args["family"], args["table"]])
        if done is not None and done.returncode == 0:
            state["live"] = digest(normalize(done.stdout))
        elif done is None or "No such file or directory" not in done.stderr:
            state["readable"] = False
    base = f"{args['state_dir']}/{args['table']}"
    try:
        applied = read(f"{base}.applied")
        state["applied"] = None if applied is None else digest(normalize(applied))
        state["pending"] = read(f"{base}.pending") is not None
        state["persist"] = digest(read(args["persist"]))
        state["unit"] = digest(read(args["unit"]))
    except Unreadable:
        state["readable"] = False
    enabled = core.run(["/usr/bin/systemctl", "is-enabled", os.path.basename(args["unit"])])
    state["unit_enabled"] = enabled.stdout.strip() if enabled else ""
    return state


def inspect(args, core):
    return {"report": report(core, args.get("packages") or ()), "table": table(args, core)}
