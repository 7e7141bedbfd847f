# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import binascii
import re
import struct

DOCUMENTATION = r"""
name: ssh_public_key
short_description: Is a string a well-formed OpenSSH public key line
version_added: 0.1.0
author: groundwork developers
description:
  - Checks a single C(authorized_keys) entry of the form C(<type> <base64> [comment]).
  - The key type must be one that current OpenSSH accepts for user authentication
    (V(ssh-ed25519), V(ecdsa-sha2-nistp256), V(ecdsa-sha2-nistp384), V(ecdsa-sha2-nistp521),
    V(ssh-rsa), V(sk-ssh-ed25519@openssh.com), V(sk-ecdsa-sha2-nistp256@openssh.com) and
    their C(-cert-v01@openssh.com) forms). DSA keys are refused.
  - The base64 blob must decode and must name the same key type, so truncated or
    mixed-up pastes are caught. Ed25519 keys must hold 32 bytes, ECDSA keys must use
    the curve their type names, RSA keys must have at least O(min_rsa_bits) bits.
  - C(authorized_keys) options in front of the key (C(from=...), C(command=...)) are not accepted.
options:
  _input:
    description: The public key line.
    type: raw
    required: true
  min_rsa_bits:
    description: Smallest accepted RSA modulus size in bits.
    type: int
    default: 2048
"""

EXAMPLES = r"""
- name: Check a key before it is installed
  ansible.builtin.assert:
    that: my_key is groundwork.server.ssh_public_key
    fail_msg: "my_key is not a valid OpenSSH public key"
"""

RETURN = r"""
_value:
  description: V(true) when the input is a well-formed public key of an accepted type.
  type: bool
"""

PLAIN_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
CERT_SUFFIX = "-cert-v01@openssh.com"


def _cert_type(key_type):
    if key_type.endswith("@openssh.com"):
        return key_type[: -len("@openssh.com")] + CERT_SUFFIX
    return key_type + CERT_SUFFIX


KEY_TYPES = PLAIN_KEY_TYPES + tuple(_cert_type(t) for t in PLAIN_KEY_TYPES)
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_CERT_TO_PLAIN = {_cert_type(t): t for t in PLAIN_KEY_TYPES}


class _Reader:
    """Reads the SSH wire format (RFC 4251 section 5) from a byte string."""

    def __init__(self, blob):
        self.blob = blob
        self.pos = 0

    def string(self):
        if self.pos + 4 > len(self.blob):
            raise ValueError("truncated key data")
        (length,) = struct.unpack(">I", self.blob[self.pos : self.pos + 4])
        start = self.pos + 4
        end = start + length
        if end > len(self.blob):
            raise ValueError("truncated key data")
        self.pos = end
        return self.blob[start:end]

    def mpint(self):
        return int.from_bytes(self.string(), "big", signed=True)


def ssh_public_key_problem(value, min_rsa_bits=2048):
    """Return why ``value`` is not an acceptable public key line, or None when it is.

    The reason never repeats the input, so it is safe to show even when somebody
    pasted a private key by mistake.
    """
    if not isinstance(value, str):
        return "is not a string"
    if "PRIVATE KEY" in value:
        return "looks like a PRIVATE key; only public keys belong here"
    if any(c in value for c in "\r\n\x00"):
        return "must be a single line"
    parts = value.strip().split(None, 2)
    if len(parts) < 2:
        return "must have the form '<type> <base64> [comment]'"
    key_type, data = parts[0], parts[1]
    if key_type not in KEY_TYPES:
        return "key type is not one of " + ", ".join(PLAIN_KEY_TYPES) + " (or their certificate forms)"
    # The canonical form only: b64decode(validate=True) refuses excess padding from Python 3.13
    # on and accepts it before; every controller Python must give the same answer.
    if not _BASE64.fullmatch(data):
        return "the key data is not valid base64"
    try:
        blob = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return "the key data is not valid base64"
    reader = _Reader(blob)
    try:
        embedded = reader.string().decode("ascii")
        if embedded != key_type:
            return "the key data says it is a different key type than the line"
        if key_type in _CERT_TO_PLAIN:
            reader.string()  # nonce
            key_type = _CERT_TO_PLAIN[key_type]
        if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
            if len(reader.string()) != 32:
                return "the Ed25519 key data has the wrong length"
        elif key_type.startswith(("ecdsa-", "sk-ecdsa-")):
            curve = reader.string().decode("ascii")
            if curve not in key_type:
                return "the ECDSA key data names a different curve than the key type"
            if not reader.string():
                return "the ECDSA key data holds no point"
        else:
            reader.mpint()  # public exponent
            bits = reader.mpint().bit_length()
            if bits < min_rsa_bits:
                return f"the RSA key has {bits} bits, at least {min_rsa_bits} are required"
    except (ValueError, UnicodeDecodeError):
        return "the key data is truncated or corrupt"
    return None


def ssh_public_key(value, min_rsa_bits=2048):
    """Test: is ``value`` a well-formed OpenSSH public key line of an accepted type."""
    return ssh_public_key_problem(value, min_rsa_bits=min_rsa_bits) is None


class TestModule:
    """Ansible test plugin: groundwork.server.ssh_public_key."""

    def tests(self):
        return {"ssh_public_key": ssh_public_key}
