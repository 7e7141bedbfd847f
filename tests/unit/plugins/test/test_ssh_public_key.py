# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the groundwork.server.ssh_public_key test plugin."""

from __future__ import annotations

import base64
import struct

import pytest
from ansible_collections.groundwork.server.plugins.test import ssh_public_key as plugin

# Real keys made with ssh-keygen for these tests (public halves only).
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxJ6HxcREdw3G0qekmiJR09jbeTf2oGEKYuTGhqUzel ed@test"
ECDSA256 = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBM1HZpCV"
    "8Di7DLx1reMuSe2CAmYw9NHg7ZMfUdDTqz+UKfMD2tWx9CLVL9EFqHcJrCY+iCNSDq8pwIOWYvdLTms="
    " ec256@test"
)
ECDSA384 = (
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBEIQPhw"
    "hO9ScXDo5s8N3lgkk0oFaIeyHvWizSWCtcD999enfT1TMEvWdWCMQlnsrIk62JeFERHXKCKD3W7tzlMK"
    "ZqDhZFAD7MLlmX3tsLBfdzVIBq4TwD0/owBoGJDCuA== ec384@test"
)
ECDSA521 = (
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGyBURJ"
    "eCoYDhHmxJKOreb+MlTtdXuXkRPaFbo/mUzQUFcxBVgf2w7yu7Xxs7fMpj4z5705cWW9wuTTDk9upckL"
    "kQHObzlrkIyAbS3IvC3pE0/bBMpvPkh65RBhyk3lJZGyiuMjrzA8iWu65Rltl2WmwExFskxU0vRjWbT3"
    "0uAM2uwkkg== ec521@test"
)
RSA2048 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDuqQNzAKUnrA4rIEvJ/fCxO74iYC8WMbrsdIXj5XRY"
    "SjPNFNKbv7PSVE3xRbadUOUCkrKJikBLBdO6NXUW7vvts7ywqIksj4FD1r0Anqz7qUeQgla/82tnOpoi"
    "sMZgW2fw4fk17D3ZV5+6ZmHvJktjAHPmCuf/wKa+JI7GKVhi99icsRBplepRxbX+XQioySSkU2bRRs0/"
    "RyZZzF+ylbxDoOCDBI6kUDU5qoYL9Rne2wVpw83hFwBh2KKie9ku9oa3AVnMWxVhCb7yhwqdFlkYqqMk"
    "gzLj+pyYYpxApW6m6uABX8AjSHANe4k8uUwOFxYZDpo28kQUpV6JtoaUTarJ rsa@test"
)
RSA1024 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7/NE0/lOjYzLyp8t5e+bRcf+5i64qmG08sde5iZRg"
    "SQDixnVIvbW/sAB5rb61jr8IDDFFlZTBpF+IzCTBTjO7AjzBzDNbcDK5GJ11oVf4QiraH1EDxpdgpbVl"
    "b2SD95mYMUl4ai4IevKYUR49pbKNZi7hFW8U9xOhSwHlbtzFeQ== small@test"
)
ECDSA256_CERT = (
    "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC1"
    "2MDFAb3BlbnNzaC5jb20AAAAgo1Mo1Izk8p+0I9vVUZSUMOh9q1gt8ZUX6nKvZJVwADkAAAAIbmlzdHA"
    "yNTYAAABBBM1HZpCV8Di7DLx1reMuSe2CAmYw9NHg7ZMfUdDTqz+UKfMD2tWx9CLVL9EFqHcJrCY+iCN"
    "SDq8pwIOWYvdLTmsAAAAAAAAAAAAAAAEAAAAGY2VydGlkAAAACQAAAAVhbGljZQAAAAAAAAAA///////"
    "///8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J"
    "3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAA"
    "AAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDcSeh8XERHcNxtKnp"
    "JoiUdPY23k39qBhCmLkxoalM3pQAAAFMAAAALc3NoLWVkMjU1MTkAAABAPDKAxV43+d8ZoasE0QtYmFp"
    "Pgj70M8ReSZN7GKRLhdCXHCzcVuZZecpOg4vFX+1VSxBFrcONrNoaDPs4C8e7DA== ec256@test"
)


def wire(*fields):
    """Encode byte strings in the SSH wire format."""
    return b"".join(struct.pack(">I", len(f)) + f for f in fields)


def line(key_type, blob, comment="test"):
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}"


SK_ED25519 = line("sk-ssh-ed25519@openssh.com", wire(b"sk-ssh-ed25519@openssh.com", b"\x01" * 32, b"ssh:"))
SK_ECDSA = line(
    "sk-ecdsa-sha2-nistp256@openssh.com",
    wire(b"sk-ecdsa-sha2-nistp256@openssh.com", b"nistp256", b"\x04" + b"\x02" * 64, b"ssh:"),
)


@pytest.mark.parametrize(
    "key",
    [
        ED25519,
        ECDSA256,
        ECDSA384,
        ECDSA521,
        RSA2048,
        ECDSA256_CERT,
        SK_ED25519,
        SK_ECDSA,
        ED25519.rsplit(" ", 1)[0],  # without comment
        ED25519 + " with a comment of several words",
        "  " + ED25519 + "  ",  # surrounding blanks
    ],
    ids=[
        "ed25519",
        "ecdsa256",
        "ecdsa384",
        "ecdsa521",
        "rsa2048",
        "ecdsa-cert",
        "sk-ed25519",
        "sk-ecdsa",
        "no-comment",
        "long-comment",
        "blanks",
    ],
)
def test_valid_keys(key):
    assert plugin.ssh_public_key_problem(key) is None
    assert plugin.ssh_public_key(key) is True


ED_TYPE, ED_DATA = ED25519.split()[:2]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "is not a string"),
        (42, "is not a string"),
        (["ssh-ed25519", "AAAA"], "is not a string"),
        ("", "must have the form"),
        ("ssh-ed25519", "must have the form"),
        ("ssh-rsa AAA", "not valid base64"),
        (ED25519 + "\n" + ED25519, "single line"),
        ("ssh-dss " + ED_DATA, "key type is not one of"),
        ('from="10.0.0.1" ' + ED25519, "key type is not one of"),
        ("ssh-rsa " + ED_DATA, "different key type"),
        ("ssh-ed25519 AAAA!!!!", "not valid base64"),
        ("ssh-ed25519 " + ED_DATA[:-12], "truncated or corrupt"),
        ("ssh-ed25519 " + ED_DATA[:-12] + "=", "not valid base64"),  # excess padding, on every Python
        ("ssh-ed25519 " + ED_DATA[:-1], "not valid base64"),  # not whole groups of 4 characters
        ("ssh-ed25519 " + base64.b64encode(wire(b"ssh-ed25519", b"\x01" * 16)).decode(), "wrong length"),
        ("ssh-ed25519 " + base64.b64encode(wire(b"ssh-ed25519")).decode(), "truncated or corrupt"),
        ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x01\x00ssh").decode(), "truncated or corrupt"),
        (
            line("ecdsa-sha2-nistp384", wire(b"ecdsa-sha2-nistp384", b"nistp256", b"\x04" * 65)),
            "different curve",
        ),
        (line("ecdsa-sha2-nistp256", wire(b"ecdsa-sha2-nistp256", b"nistp256", b"")), "holds no point"),
        (RSA1024, "1024 bits, at least 2048"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "PRIVATE key"),
    ],
)
def test_invalid_keys(key, reason):
    problem = plugin.ssh_public_key_problem(key)
    assert problem is not None
    assert reason in problem
    assert plugin.ssh_public_key(key) is False


def test_problem_never_repeats_the_input():
    pasted = "-----BEGIN OPENSSH PRIVATE KEY----- c2VjcmV0 -----END OPENSSH PRIVATE KEY-----"
    assert "c2VjcmV0" not in plugin.ssh_public_key_problem(pasted)


def test_min_rsa_bits_can_be_lowered():
    assert plugin.ssh_public_key(RSA1024, min_rsa_bits=1024) is True
    assert plugin.ssh_public_key(RSA2048, min_rsa_bits=4096) is False


def test_plugin_exports_the_test():
    assert plugin.TestModule().tests() == {"ssh_public_key": plugin.ssh_public_key}
