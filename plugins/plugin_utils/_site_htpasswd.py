# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Password hashes for the basic-auth files of the web-server roles: SHA-512 crypt
(``$6$``), which nginx (through the C library's crypt) and Apache both verify.

The salt comes from a seed (host, site and user), so the same password gives the same
line on every run: the file only changes when a password does.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._site_htpasswd import (
        sha512_crypt, site_htpasswd, htpasswd_file)
"""

from __future__ import annotations

import hashlib
import re

ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Byte order of the final hash in the crypt alphabet (Drepper, "Unix crypt using SHA-256 and SHA-512").
ORDER = [
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
    (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
]  # fmt: skip
SALT = re.compile(r"[./0-9A-Za-z]{1,16}")


def _b64(b2, b1, b0, count):
    value = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _digit in range(count):
        out.append(ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(out)


def _repeat(digest, length):
    return (digest * (length // len(digest) + 1))[:length]


def sha512_crypt(password: str, salt: str, rounds: int = 5000) -> str:
    """SHA-512 crypt ($6$) of ``password`` with ``salt`` (at most 16 characters used)."""
    if not SALT.fullmatch(salt[:16]):
        raise ValueError("salt must be 1 to 16 characters of [./0-9A-Za-z]")
    if not 1000 <= rounds <= 999_999_999:
        raise ValueError("rounds must be from 1000 to 999999999")
    key, salt_b = password.encode("utf-8"), salt[:16].encode("ascii")
    alternate = hashlib.sha512(key + salt_b + key).digest()
    ctx = hashlib.sha512(key + salt_b + _repeat(alternate, len(key)))
    length = len(key)
    while length:
        ctx.update(alternate if length & 1 else key)
        length >>= 1
    digest_a = ctx.digest()
    p_bytes = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    s_bytes = _repeat(hashlib.sha512(salt_b * (16 + digest_a[0])).digest(), len(salt_b))
    digest = digest_a
    for i in range(rounds):
        ctx = hashlib.sha512()
        ctx.update(p_bytes if i & 1 else digest)
        if i % 3:
            ctx.update(s_bytes)
        if i % 7:
            ctx.update(p_bytes)
        ctx.update(digest if i & 1 else p_bytes)
        digest = ctx.digest()
    encoded = "".join(_b64(digest[a], digest[b], digest[c], 4) for a, b, c in ORDER) + _b64(
        0, 0, digest[63], 2
    )
    prefix = "$6$" if rounds == 5000 else f"$6$rounds={rounds}$"
    return f"{prefix}{salt[:16]}${encoded}"


def site_htpasswd(password, seed, rounds=5000):
    """Deterministic SHA-512 crypt hash of ``password``, salted from ``seed``; ValueError
    for an empty password or seed."""
    if not isinstance(password, str) or not password:
        raise ValueError("site_htpasswd: the password must be a non-empty string")
    if not isinstance(seed, str) or not seed:
        raise ValueError("site_htpasswd: the seed must be a non-empty string")
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    salt = "".join(ALPHABET[b & 0x3F] for b in digest[:16])
    return sha512_crypt(password, salt, int(rounds))


def htpasswd_file(users, seed):
    """The content of a basic-auth file: one ``name:hash`` line per user ({name, password}),
    each salted from ``<seed>:<name>``."""
    lines = []
    for user in users:
        name = user["name"]
        lines.append(f"{name}:{site_htpasswd(user['password'], f'{seed}:{name}')}\n")
    return "".join(lines)
