# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The password hashes MariaDB stores, computed on the host with the standard library only.

``ed25519_hash`` is what MariaDB's auth_ed25519 plugin stores: the password itself is the
Ed25519 seed, its SHA-512 is clamped into a scalar, the scalar multiplies the curve's base
point, and the encoded point (the public key) is stored in base64 without padding. Only the
public-key derivation of Ed25519 (RFC 8032, section 5.1.5) is needed; nothing is signed.
"""

from __future__ import annotations

import base64
import hashlib

# Curve25519 in twisted Edwards form: -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19).
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
BASE_Y = 4 * pow(5, P - 2, P) % P


def _recover_x(y, sign):
    """The x coordinate of the point with this y and sign (RFC 8032, 5.1.3)."""
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x & 1) != sign:
        x = P - x
    return x


def _add(a, b):
    """Sum of two points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e = (y1 - x1) * (y2 - x2) % P
    f = (y1 + x1) * (y2 + x2) % P
    g = 2 * D * t1 * t2 % P
    h = 2 * z1 * z2 % P
    e, f, g, h = f - e, h - g, h + g, f + e
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _multiply(scalar, point):
    result = (0, 1, 1, 0)  # the neutral element
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _encode(point):
    x, y, z, _t = point
    inverse = pow(z, P - 2, P)
    x, y = x * inverse % P, y * inverse % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


BASE_X = _recover_x(BASE_Y, 0)
BASE = (BASE_X, BASE_Y, 1, BASE_X * BASE_Y % P)


def public_key(seed):
    """The Ed25519 public key of a seed (any bytes: MariaDB passes the whole password)."""
    digest = bytearray(hashlib.sha512(seed).digest()[:32])
    digest[0] &= 248
    digest[31] &= 63
    digest[31] |= 64
    return _encode(_multiply(int.from_bytes(digest, "little"), BASE))


def ed25519_hash(password):
    """The authentication_string auth_ed25519 stores for ``password`` (43 base64 characters)."""
    key = public_key(str(password).encode("utf-8"))
    return base64.b64encode(key).decode("ascii").rstrip("=")


def native_hash(password):
    """The authentication_string mysql_native_password stores: '*' + upper hex SHA1(SHA1(pw))."""
    inner = hashlib.sha1(str(password).encode("utf-8")).digest()  # noqa: S324 - the server's format
    return "*" + hashlib.sha1(inner).hexdigest().upper()  # noqa: S324
