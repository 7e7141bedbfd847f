# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the basic-auth password hashes (plugin_utils/_site_htpasswd.py)."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._site_htpasswd import (
    htpasswd_file,
    sha512_crypt,
    site_htpasswd,
)


# Test vectors of Drepper's specification "Unix crypt using SHA-256 and SHA-512".
@pytest.mark.parametrize(
    ("password", "salt", "rounds", "expected"),
    [
        (
            "Hello world!",
            "saltstring",
            5000,
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        ),
        (
            "Hello world!",
            "saltstringsaltstring",
            10000,
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
            "YTBmSK6H9qs/y3RnOaw5v.",
        ),
        (
            "This is just a test",
            "toolongsaltstring",
            5000,
            "$6$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8"
            "audkUEm0",
        ),
        (
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "anotherlongsaltstring",
            1400,
            "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o"
            "7UmJEiDwGqd8p4ur1",
        ),
    ],
)
def test_sha512_crypt_matches_the_specification(password, salt, rounds, expected):
    assert sha512_crypt(password, salt, rounds) == expected


def test_same_seed_gives_the_same_hash_and_other_seeds_other_salts():
    first = site_htpasswd("secret", "host:site:alice")
    assert first == site_htpasswd("secret", "host:site:alice")
    assert first.startswith("$6$")
    assert first.split("$")[2] != site_htpasswd("secret", "host:site:bob").split("$")[2]
    assert first != site_htpasswd("other", "host:site:alice")
    assert "secret" not in first


@pytest.mark.parametrize(("password", "seed"), [("", "seed"), (None, "seed"), ("pw", ""), ("pw", None)])
def test_bad_arguments(password, seed):
    with pytest.raises(ValueError):
        site_htpasswd(password, seed)


@pytest.mark.parametrize(("salt", "rounds"), [("bad salt", 5000), ("", 5000), ("salt", 999)])
def test_bad_salt_or_rounds(salt, rounds):
    with pytest.raises(ValueError):
        sha512_crypt("pw", salt, rounds)


def test_a_file_has_one_line_per_user_salted_by_host_site_and_user():
    users = [{"name": "ops", "password": "pw"}, {"name": "dev", "password": "pw"}]
    content = htpasswd_file(users, "lb1:admin")
    assert (
        content == f"ops:{site_htpasswd('pw', 'lb1:admin:ops')}\ndev:{site_htpasswd('pw', 'lb1:admin:dev')}\n"
    )
    assert "pw\n" not in content
