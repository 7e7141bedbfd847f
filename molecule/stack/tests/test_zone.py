# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The internal zone in the stack: the application reaches its database by the database's
name in the zone, resolved by the application server's own resolver, and only the tiers that
resolve through the zone may ask its server."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

from conftest import APP1, DB_PORT, ZONE

APP = "demo"
DB_NAME = f"db.{ZONE}"

# One DNS query over UDP for the A records of a name (RD set or not), standard library only:
# prints {"rcode", "aa", "addresses"} as JSON, or exits 3 when no answer comes within 3 s.
QUERY = r"""
import json, socket, struct, sys
name, server, recursion = sys.argv[1], sys.argv[2], sys.argv[3] == "rd"
question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
packet = struct.pack(">HHHHHH", 0x4757, 0x0100 if recursion else 0, 1, 0, 0, 0) + question
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(3)
sock.sendto(packet, (server, 53))
try:
    data = sock.recv(4096)
except OSError:
    print("no answer"); sys.exit(3)

def skip_name(pos):
    while True:
        length = data[pos]
        if length >= 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length

flags, _qd, count = struct.unpack(">HHH", data[2:8])
pos = 12 + len(question)
addresses = []
for _ in range(count):
    pos = skip_name(pos)
    kind, _cls, _ttl, size = struct.unpack(">HHIH", data[pos:pos + 10])
    pos += 10
    if kind == 1 and size == 4:
        addresses.append(socket.inet_ntoa(data[pos:pos + 4]))
    pos += size
print(json.dumps({"rcode": flags & 15, "aa": bool(flags & 0x0400), "addresses": addresses}))
"""

# The established TCP connections of the sockets a user owns to address:port, from /proc/net/tcp
# (root in the container may not read another user's file descriptors): prints their number.
CONNECTIONS = r"""
import socket, sys
uid, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = socket.inet_aton(address)
peer = (raw[::-1] if sys.byteorder == "little" else raw).hex().upper() + f":{port:04X}"
rows = [line.split() for line in open("/proc/net/tcp").read().splitlines()[1:]]
print(sum(1 for row in rows if row[2] == peer and row[3] == "01" and row[7] == uid))
"""


def _python(host, program, *args):
    encoded = base64.b64encode(program.encode()).decode()
    quoted = " ".join(f"'{arg}'" for arg in args)
    return host.run(f"echo {encoded} | base64 -d | python3 - {quoted}")


def _query(host, name, server, recursion=False):
    """The answer of ``server`` to a query for the A records of ``name`` from ``host``, or None."""
    result = _python(host, QUERY, name, server, "rd" if recursion else "no-rd")
    if result.rc == 3:
        return None
    assert result.rc == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _address(host):
    return host.check_output("hostname -I").split()[0]


def _tcp(host, target, port):
    """rc of a TCP connect from host to target:port within 4 s (124: no answer at all)."""
    return host.run(f"timeout 4 bash -c 'exec 3<>/dev/tcp/{target}/{port}'").rc


def test_the_databases_name_resolves_through_the_app_servers_own_resolver_to_the_database(app1, db):
    address = _address(db)
    # the zone's server answers it with authority (the database server is the zone's DNS server)
    authoritative = _query(app1, DB_NAME, address)
    assert authoritative is not None, "the zone's server did not answer the application server"
    assert authoritative["aa"] and authoritative["addresses"] == [address], authoritative
    # the application server's own resolver (127.0.0.1) answers it, and the system's name
    # lookup goes through it
    local = _query(app1, DB_NAME, "127.0.0.1", recursion=True)
    assert local is not None and local["rcode"] == 0 and local["addresses"] == [address], local
    nameservers = [
        line.split()[1]
        for line in app1.file("/etc/resolv.conf").content_string.splitlines()
        if line.startswith("nameserver ")
    ]
    assert nameservers == ["127.0.0.1"], nameservers
    assert app1.check_output(f"getent ahostsv4 {DB_NAME}").split()[0] == address
    # Docker's DNS, which the server used before, has no address for it
    docker = _query(app1, DB_NAME, "127.0.0.11", recursion=True)
    assert docker is None or not docker["addresses"], docker


def test_the_application_connects_to_the_database_by_its_name_in_the_zone(app1, db):
    env = app1.file(f"/etc/{APP}/env").content_string
    line = next(line for line in env.splitlines() if line.startswith("DATABASE_URL="))
    assert urlsplit(line.split("=", 1)[1].strip().strip('"')).hostname == DB_NAME
    # the application answers from its database (which it reached by that name, with TLS
    # verified against the name: verify-full) ...
    url = "http://127.0.0.1:8000/"
    answer = app1.check_output(
        f"python3 -c \"import urllib.request as u; print(u.urlopen('{url}', timeout=10).read().decode())\""
    )
    assert answer.startswith(f"served by {APP1} "), answer
    # ... over a connection of the application's user that is established to the database
    # server's address
    pid = app1.check_output(f"systemctl show --property MainPID --value {APP}.service")
    uid = app1.check_output(f"stat -c %u /proc/{pid}")
    count = _python(app1, CONNECTIONS, uid, _address(db), str(DB_PORT))
    assert count.rc == 0 and int(count.stdout) >= 1, count.stdout + count.stderr


def test_only_the_flows_sources_may_ask_the_zones_server(client, app1, db):
    address = _address(db)
    # the client is in no group the flow "dns" allows: port 53 is closed to it, TCP and UDP
    assert _tcp(client, address, 53) == 124
    assert _query(client, DB_NAME, address) is None
    # an application server is: the same queries get through
    assert _tcp(app1, address, 53) == 0
    assert _query(app1, DB_NAME, address) is not None
