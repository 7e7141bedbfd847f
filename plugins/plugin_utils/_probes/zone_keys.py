# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-signing keys BIND made for a zone: the DNSKEY data (flags 257) of the public key
files ``K<zone>.+<algorithm>+<id>.key`` in BIND's key directory, which the resolvers of
groundwork.server.dns trust. Run on the primary by groundwork.server.host_info with the zone
as its argument; read-only, standard library only. The private keys are never read."""

import glob
import json
import os
import sys

KEY_DIRECTORY = "/var/cache/bind"
KSK_FLAGS = "257"


def key_data(text):
    """The DNSKEY rows of a public key file with the KSK flag: ``257 3 <algorithm> <base64>``."""
    found = []
    for line in text.splitlines():
        fields = line.split(";", 1)[0].split()
        if "DNSKEY" not in fields:
            continue
        data = fields[fields.index("DNSKEY") + 1 :]
        if len(data) >= 4 and data[0] == KSK_FLAGS:
            found.append(" ".join(data[:3]) + " " + "".join(data[3:]))
    return found


def zone_keys(zone, directory=KEY_DIRECTORY):
    found = []
    # the zone is a validated DNS name (letters, digits, hyphens, dots): no glob characters
    for path in sorted(glob.glob(os.path.join(directory, f"K{zone}.+*.key"))):
        try:
            with open(path, encoding="ascii") as handle:
                found += key_data(handle.read())
        except (OSError, UnicodeDecodeError):
            continue
    return sorted(set(found))


if __name__ == "__main__":
    print(json.dumps({"keys": zone_keys(sys.argv[1])}))
