# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Source addresses of a client of groundwork.server.postgresql: its default routes' source
addresses, in the report format plugin_utils/_firewall_model.py reads (no packet is sent;
iproute2 not needed). Run on the client by groundwork.server.host_info (tasks/decide.yml)."""

import json
import socket

lines = []
TARGETS = ((socket.AF_INET, "route4", "192.0.2.1"), (socket.AF_INET6, "route6", "2001:db8::1"))
for family, key, target in TARGETS:
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            lines.append(f"{key}=src {probe.getsockname()[0]}")
    except OSError:
        lines.append(f"{key}=")
print(json.dumps({"report": "\n".join(lines) + "\n"}))
