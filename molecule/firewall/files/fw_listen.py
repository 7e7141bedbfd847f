# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test listeners: on each TCP port answer "port N" and close; on each UDP port echo "port N".

Usage: fw_listen.py tcp:80 tcp:5432 udp:5353 ...
A port that answers is open for the firewall; one that times out is filtered by it.
"""

import selectors
import socket
import sys


def main():
    selector = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        proto, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET6, kind)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("::", int(port)))
        if proto == "tcp":
            sock.listen(16)
        selector.register(sock, selectors.EVENT_READ, (proto, int(port)))
    while True:
        for key, _events in selector.select():
            proto, port = key.data
            answer = f"port {port}\n".encode()
            if proto == "tcp":
                conn, _peer = key.fileobj.accept()
                try:
                    conn.sendall(answer)
                finally:
                    conn.close()
            else:
                _data, peer = key.fileobj.recvfrom(512)
                key.fileobj.sendto(answer, peer)


if __name__ == "__main__":
    main()
