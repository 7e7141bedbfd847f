# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The source addresses of a host another host's decision needs: its default routes' source
addresses, in the report format plugin_utils/_flows.py reads (no packet is sent; iproute2 is
not needed). Run on that host by groundwork.server.host_info, as the program a role's
``step: validate`` returns (``routes_program``)."""

import json
import socket


def report():
    lines = []
    targets = ((socket.AF_INET, "route4", "192.0.2.1"), (socket.AF_INET6, "route6", "2001:db8::1"))
    for family, key, target in targets:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                lines.append(f"{key}=src {probe.getsockname()[0]}")
        except OSError:
            lines.append(f"{key}=")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(json.dumps({"report": report()}))
