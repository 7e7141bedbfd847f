# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared checks of the model filters (site_model, tls_model, firewall_model, ...).

A filter that validates role input never raises for bad input: it collects one message per
problem in a ``Checker`` and returns them. Every message names where the problem is (the
variable, the item's index and name), the key and the value:

    nginx_sites[0] (shop): port 0 is out of range (expected a whole number from 1 to 65535)

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
        Checker, named_items, quote)
"""

from __future__ import annotations

import posixpath
import re

# Control characters: C0 (NUL, line breaks, escape, ...), DEL, C1, and the Unicode line and
# paragraph separators. No value the collection writes into a file or a command may hold
# one: they end lines, truncate C strings or rewrite a terminal.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_WHAT = "control characters (line breaks, tabs, NUL, ...)"
TEXT_WHAT = "control characters (line breaks, tabs, ...) or braces"
PATH_WHAT = "a normalised absolute path (expected /like/this, without '..')"

# What a configuration file must not receive from a plain text value: a control character
# would end the line, a brace the block it stands in.
FORBIDDEN = re.compile(CONTROL.pattern[:-1] + "{}]")

# Debian's package name (Debian Policy 5.6.7): lower-case letters, digits and + - ., at
# least two characters, starting with a letter or digit; optionally ":arch" and "=version"
# (Policy 5.6.12: [epoch:]upstream[-revision]).
PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?(?:=[0-9A-Za-z.+~:-]+)?")
PACKAGE_WHAT = "a Debian package name (a-z, 0-9, '+', '-', '.'), optionally with ':arch' and '=version'"


def quote(value):
    """A value as it appears in messages: strings quoted, everything else as is."""
    return repr(value) if isinstance(value, str) else str(value)


def is_int(value):
    """A whole number, or a string of ASCII digits (how YAML and extra vars may hand one over;
    str.isdigit alone takes "²", which int() refuses)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isascii() and value.isdigit()
    )


class Checker:
    """Collects problems, each prefixed with where it was found.

    The helpers return the checked (normalised) value, or ``None`` (``default`` for
    ``boolean``) after a problem. By default ``None`` means "not given" and passes silently;
    ``optional=False`` checks it like any other value.
    """

    def __init__(self):
        self.errors = []
        self.warnings = []

    def add(self, where, key, value, problem):
        """``<where>: <key> <value> <problem>``; with ``key`` None: ``<where>: <value> <problem>``."""
        subject = quote(value) if key is None else f"{key} {quote(value)}"
        self.errors.append(f"{where}: {subject} {problem}")

    def line(self, where, text):
        """A message of its own wording: ``<where>: <text>``."""
        self.errors.append(f"{where}: {text}")

    def text(self, where, key, value, required=False):
        """A string that ends up in a configuration file: no line breaks, no braces."""
        if value is None:
            if required:
                self.line(where, f"{key} is required")
            return None
        if not isinstance(value, str) or (required and not value):
            self.add(where, key, value, "must be a non-empty string")
            return None
        if FORBIDDEN.search(value):
            self.add(
                where, key, value, "must not contain control characters (line breaks, tabs, ...) or braces"
            )
            return None
        return value

    def package(self, where, key, value):
        """A Debian package name, optionally with ``:arch`` and ``=version``."""
        return self.pattern(where, key, value, PACKAGE, PACKAGE_WHAT, optional=False)

    def path(self, where, key, value, under=None, optional=True):
        """An absolute, normalised path (no ``..``, ``.``, ``//``, trailing ``/``, control
        characters); inside the directory ``under`` (not ``under`` itself) when given."""
        if value is None and optional:
            return None
        if (
            not isinstance(value, str)
            or not value.startswith("/")
            or CONTROL.search(value)
            or posixpath.normpath(value) != value
            or value.startswith("//")
        ):
            self.add(
                where, key, value, "is not a normalised absolute path (expected /like/this, without '..')"
            )
            return None
        if under is not None and not value.startswith(under.rstrip("/") + "/"):
            self.add(where, key, value, f"is outside {under} (expected a path under it)")
            return None
        return value

    def pattern(self, where, key, value, regex, expected, optional=True, problem="is not valid"):
        """A string that matches ``regex`` as a whole: ``<problem> (expected <expected>)`` otherwise."""
        if value is None and optional:
            return None
        if not isinstance(value, str) or not regex.fullmatch(value):
            self.add(where, key, value, f"{problem} (expected {expected})")
            return None
        return value

    def integer(self, where, key, value, low, high, optional=True, strict=False):
        """A whole number from ``low`` to ``high``; a string of digits counts unless ``strict``."""
        if value is None and optional:
            return None
        whole = isinstance(value, int) and not isinstance(value, bool) if strict else is_int(value)
        if not whole or not low <= int(value) <= high:
            self.add(where, key, value, f"is out of range (expected a whole number from {low} to {high})")
            return None
        return int(value)

    def boolean(self, where, key, value, default):
        """true or false; ``default`` when not given or after a problem."""
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(where, key, value, "must be true or false")
            return default
        return value

    def one_of(self, where, key, value, choices, what=None, optional=True):
        """One of ``choices``: ``is not <what> (expected one of a, b)`` or ``is not one of a, b``."""
        if value is None and optional:
            return None
        try:
            known = value in choices
        except TypeError:  # an unhashable value (a list, a mapping) against a mapping's keys
            known = False
        if not known:
            listed = ", ".join(str(choice) for choice in choices)
            problem = f"is not {what} (expected one of {listed})" if what else f"is not one of {listed}"
            self.add(where, key, value, problem)
            return None
        return value

    def strings(self, where, key, value):
        """A list of ``text`` values (each required); the valid ones."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(where, key, value, "must be a list")
            return []
        return [v for i, v in enumerate(value) if self.text(where, f"{key}[{i}]", v, required=True)]


def named_items(check, var, items, name_regex, what, required=True, cite_name=True):
    """Walk a list of named mappings; yield ``(where, item)`` for every mapping.

    ``where`` is ``var[index] (name)`` (``var[index]`` when the name is not a string), the
    prefix of every message about the item. Reported here: ``var`` not a list (nothing is
    yielded), an item that is not a mapping (skipped), a name that does not match
    ``name_regex`` (``is not valid (expected <what>)``; a missing name too unless
    ``required`` is false) and a name used twice (``is already used by <where of the
    first>``, or ``var[index]`` of the first with ``cite_name`` false). Items with a bad or
    duplicate name are still yielded, so that all their other problems are reported too.

    A generator: the checks run as the caller iterates.
    """
    if not isinstance(items, list):
        check.line(var, "must be a list")
        return
    seen = {}
    for index, item in enumerate(items):
        at = f"{var}[{index}]"
        if not isinstance(item, dict):
            check.line(at, "must be a mapping")
            continue
        name = item.get("name")
        where = at + (f" ({name})" if isinstance(name, str) else "")
        if name is None and not required:
            pass
        elif not isinstance(name, str) or not name_regex.fullmatch(name):
            check.add(where, "name", name, f"is not valid (expected {what})")
        elif name in seen:
            check.add(where, "name", name, f"is already used by {seen[name]}")
        else:
            seen[name] = where if cite_name else at
        yield where, item
