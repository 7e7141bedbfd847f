# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generated bad input, one strategy per class of failure (the ``hypothesis`` package).

Every role's property tests draw from these classes, so that a class is closed in all roles
at once (issue 16): a value that carries a control character, a value that ends a token of
the file it is written to, a value of the wrong type, a path that escapes, a number out of
range, a package name outside Debian's syntax. Import as ``from bad_values import ...``
(tests/unit is on ``sys.path`` through pytest's rootdir conftest).

``refused(errors, field)`` is the assertion every property test makes: the validation
returned at least one message and one of them names the field.
"""

from __future__ import annotations

import math
import string

from hypothesis import strategies as st

# C0, DEL, C1 and the Unicode line/paragraph separators: what _model_check.CONTROL refuses.
CONTROL_CHARS = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + ["\u2028", "\u2029"]

PRINTABLE = string.ascii_letters + string.digits + "-_.@/:+ =,%~*!?#&'\"$`;<>|()[]{}\\^"


def with_one_of(chars, alphabet=string.ascii_letters + string.digits, min_size=0):
    """Strings of ``alphabet`` with at least one of ``chars`` inserted somewhere."""
    return st.builds(
        lambda head, bad, tail: head + bad + tail,
        st.text(alphabet, min_size=min_size, max_size=12),
        st.sampled_from(list(chars)),
        st.text(alphabet, max_size=12),
    )


def control_strings(alphabet=string.ascii_letters + string.digits + "-_."):
    """Otherwise plausible strings with one control character (NUL, CR, LF, TAB, ESC, ...)."""
    return with_one_of(CONTROL_CHARS, alphabet)


def any_text():
    """Arbitrary Unicode text, the printable punctuation of every file syntax included."""
    return st.one_of(st.text(max_size=40), st.text(PRINTABLE, max_size=40))


def non_strings():
    """Values a string field must refuse: numbers, booleans, lists, mappings."""
    return st.one_of(
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    )


def non_integers():
    """Values a number field must refuse: floats with a fraction, words, booleans, lists."""
    return st.one_of(
        st.floats().filter(lambda f: not (math.isfinite(f) and f.is_integer())),
        st.text(string.ascii_letters + " -.", min_size=1, max_size=8),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
    )


def out_of_range(low, high):
    """Whole numbers outside ``low``..``high`` (as int, and as a string of digits when >= 0)."""
    number = st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1))
    return st.one_of(number, number.filter(lambda n: n >= 0).map(str))


def bad_ports():
    """Port numbers TCP/UDP do not have."""
    return out_of_range(1, 65535)


def bad_paths():
    """Paths that are not absolute and normalised: relative, with '..' or '.', '//', a
    trailing '/', a control character, empty."""
    segment = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=8)
    parts = st.lists(segment, min_size=1, max_size=4)
    return st.one_of(
        parts.map("/".join),  # relative
        parts.map(lambda p: "/" + "/".join([*p[:-1], "..", p[-1]])),
        parts.map(lambda p: "/" + "/".join([p[0], ".", *p[1:]])),
        parts.map(lambda p: "//" + "/".join(p)),
        parts.map(lambda p: "/" + "/".join(p) + "/"),
        parts.map(lambda p: "/../" + "/".join(p)),
        st.builds(lambda p, c: "/" + "/".join(p) + c, parts, st.sampled_from(CONTROL_CHARS)),
        st.just(""),
    )


def escaping_names():
    """Names that would become a path outside their directory, or a hidden/odd file."""
    segment = st.text(string.ascii_lowercase, min_size=1, max_size=6)
    return st.one_of(
        st.just(".."),
        st.just("."),
        segment.map(lambda s: "../" + s),
        segment.map(lambda s: s + "/../../etc/passwd"),
        segment.map(lambda s: "/" + s),
        segment.map(lambda s: s + "/" + s),
        segment.map(lambda s: "." + s),
    )


def bad_package_names():
    """Strings outside Debian's package-name syntax (Policy 5.6.7)."""
    return st.one_of(
        st.text(string.ascii_lowercase, max_size=1),  # too short
        with_one_of(string.ascii_uppercase + " ;&|$`'\"/\\*?!<>(){}_", string.ascii_lowercase, min_size=2),
        st.text(string.ascii_lowercase, min_size=1, max_size=6).map(lambda s: "-" + s),
        st.text(string.ascii_lowercase, min_size=2, max_size=6).map(lambda s: s + " --allow-unauthenticated"),
        control_strings(string.ascii_lowercase),
    )


def refused(errors, field):
    """True when ``errors`` (the validation's messages) is not empty and names ``field``."""
    return bool(errors) and any(field in message for message in errors)
