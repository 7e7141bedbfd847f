# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal WebSocket client for the tests: ws_client.py HOST ADDRESS PATH MESSAGE.

Connects with TLS to ADDRESS:443 (SNI and Host: HOST, certificate not verified: the test
certificate is self-signed), upgrades PATH, sends MESSAGE, prints the status line and the reply.
"""

import base64
import os
import socket
import ssl
import sys

host, address, path, message = sys.argv[1:5]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
sock = context.wrap_socket(socket.create_connection((address, 443), timeout=10), server_hostname=host)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall(
    f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
)
response = b""
while b"\r\n\r\n" not in response:
    chunk = sock.recv(4096)
    if not chunk:
        break
    response += chunk
head, _sep, rest = response.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit(1)
data = message.encode()
mask = os.urandom(4)
sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
    chunk = sock.recv(4096)
    if not chunk:
        break
    rest += chunk
print(rest[2 : 2 + (rest[1] & 0x7F)].decode())
