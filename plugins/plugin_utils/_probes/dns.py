# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.dns: ``inspect(args, core)`` runs on the host inside the
shared probe library (plugin_utils/_host_probe.py). Standard library only, read-only.

``args``: {"zone_file": the zone file the role writes on the primary, or None}. The answer:
the ``serial`` of that file's SOA record (None when there is no file or no SOA the role
wrote), whether BIND has ever signed it (``signed``: its signed copy exists), whether
/etc/resolv.conf is a mount point (a container's: it is written in place), the name servers
it names now, and the CPUs (the resolver's threads). Packages, units and the digests of the
role's files are the generic part of the same inspection.
"""

from __future__ import annotations

import os

RESOLV_CONF = "/etc/resolv.conf"


def zone_serial(text):
    """The serial of the SOA row the role writes (``@ <ttl> SOA <mname> <rname> <serial> ...``
    on one line), or None."""
    for line in (text or "").splitlines():
        fields = line.split(";", 1)[0].split()
        if len(fields) == 10 and fields[0] == "@" and fields[2] == "SOA" and fields[5].isdigit():
            return int(fields[5])
    return None


def inspect(args, core):
    path = (args or {}).get("zone_file")
    return {
        "serial": zone_serial(core.read(path)) if path else None,
        # BIND signed the zone once (inline signing keeps the signed copy beside the file)
        "signed": bool(path) and os.path.exists(f"{path}.signed"),
        "resolv_conf_mount": os.path.ismount(RESOLV_CONF),
        "resolvers": core.resolvers(),
        "cpus": core.cpus(),
    }
