# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``postgresql_settings`` against the installed server's own catalogue of settings.

The catalogue comes from the role's probe (plugin_utils/_probes/postgresql.py): pg_settings
of the running server, or ``postgres --describe-config`` of the installed binaries when no
server answers (names, types, contexts and ranges, but no units - "unit" is "?" - and no
choices of an enum). ``catalogue_problems`` refuses, before any file is written, what the
server would refuse when it reads the file: a name it does not know (a name with a dot is an
extension's setting, which the server accepts as a placeholder), a setting only the server
itself sets (context "internal"), a value that is not a boolean, a number (with a unit of
the setting's kind: B kB MB GB TB, us ms s min h d), or one of an enum's choices, and a
number outside the setting's range once converted to its base unit - PostgreSQL's own rules
(guc.c: parse_bool, parse_int, parse_real, convert_to_base_unit).

``value_text`` is how the role writes a value (booleans as true/false), in one place.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_settings
"""

from __future__ import annotations

import math
import re

MEMORY_UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0, "h": 3600000.0, "d": 86400000.0}
# A base unit of pg_settings: "8kB" (blocks), "kB", "MB", "B", "ms", "s", "min".
BASE_UNIT = re.compile(r"([0-9]*)(B|kB|MB|GB|TB|us|ms|s|min|h|d)")
# strtol(..., 0): decimal, octal (a leading 0) or hexadecimal; or strtod's decimal form.
INTEGER = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# A number, optional spaces, an optional unit; nothing else (the value is written quoted).
NUMBER_AND_UNIT = re.compile(
    r" *([+-]?(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)) *([a-zA-Z]*) *"
)
BOOL_WORDS = ("true", "false", "yes", "no")


def value_text(value):
    """A setting's value as the role writes it: booleans as true/false, the rest as text."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def is_bool(text):
    """PostgreSQL's parse_bool: a prefix of true/false/yes/no, on/off (at least "on"/"of"), 1/0."""
    word = text.lower()
    if not word:
        return False
    if word in ("1", "0"):
        return True
    if word[0] == "o":
        return len(word) >= 2 and ("on".startswith(word) or "off".startswith(word))
    return any(full.startswith(word) for full in BOOL_WORDS)


def _unit_scale(unit):
    """(kind, multiplier) of a base unit of pg_settings ("8kB" -> memory, 8192), or None."""
    match = BASE_UNIT.fullmatch(unit or "")
    if not match:
        return None
    count = int(match.group(1) or 1)
    if match.group(2) in MEMORY_UNITS:
        return "memory", count * MEMORY_UNITS[match.group(2)]
    return "time", count * TIME_UNITS[match.group(2)]


def _number(text, integer):
    """The number of ``text`` as PostgreSQL reads it, or None."""
    text = text.strip(" ")
    if integer and INTEGER.fullmatch(text):
        digits = text.lstrip("+-")
        number = int(
            digits, 16 if digits[:2].lower() == "0x" else 8 if len(digits) > 1 and digits[0] == "0" else 10
        )
        return -number if text.startswith("-") else number
    if DECIMAL.fullmatch(text) and (not integer or re.search(r"[.eE]", text)):
        if integer and re.match(r"[+-]?0[0-9]", text) and not re.match(r"[+-]?0[0-7]*[.eE]", text):
            return None  # strtol stops at an 8 or 9 of an octal number: not a number
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def _numeric_problem(text, entry):
    integer = entry.get("type") == "integer"
    unit = entry.get("unit")
    match = NUMBER_AND_UNIT.fullmatch(text)
    number = _number(match.group(1), integer) if match else None
    if number is None:
        what = "a whole number" if integer else "a number"
        return f"is not {what}" + (" (with an optional unit)" if unit else "")
    given = match.group(2)
    if given:
        if unit == "?":  # the catalogue without units (describe-config): the syntax only
            if given in MEMORY_UNITS or given in TIME_UNITS:
                return None
            return f"has the unit {given!r}, which is none of {', '.join([*MEMORY_UNITS, *TIME_UNITS])}"
        scale = _unit_scale(unit)
        if scale is None:
            return f"has the unit {given!r}, but the setting takes a plain number"
        kind, base = scale
        units = MEMORY_UNITS if kind == "memory" else TIME_UNITS
        if given not in units:
            return (
                f"has the unit {given!r}, which is not a unit of {kind} (expected one of {', '.join(units)})"
            )
        number = number * units[given] / base
    if integer:
        number = round(number)  # rint: halves to even, like round()
    low, high = entry.get("min"), entry.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        base_unit = f" {unit}" if unit and unit != "?" else ""
        return f"is out of the server's range ({low} to {high}{base_unit})"
    return None


def value_problem(value, entry):
    """Why the server would refuse ``value`` of the setting ``entry``, or None."""
    text = value_text(value)
    kind = entry.get("type")
    if entry.get("context") == "internal":
        return "is a setting only the server itself sets (its context is internal)"
    if kind == "bool":
        return None if is_bool(text) else "is not a boolean (on, off, true, false, yes, no, 1, 0)"
    if kind in ("integer", "real"):
        return _numeric_problem(text, entry)
    if kind == "enum" and entry.get("enum") is not None:
        choices = [str(choice).lower() for choice in entry["enum"]]
        if text.lower() in choices:
            return None
        if "on" in choices and "off" in choices and is_bool(text):
            return None  # the hidden synonyms of on and off (true, yes, 1, ...)
        return f"is not one of {', '.join(entry['enum'])}"
    return None


def catalogue_problems(settings, catalogue):
    """The problems of ``postgresql_settings`` (name -> value) against the probe's catalogue."""
    known = (catalogue or {}).get("settings") or {}
    source = (catalogue or {}).get("source", "pg_settings")
    problems = []
    for name, value in (settings or {}).items():
        where = f"postgresql_settings.{name}"
        entry = known.get(name)
        if entry is None:
            if "." not in str(name):
                problems.append(
                    f"{where}: is not a setting of the installed server (its {source}; expected a name"
                    " it lists, or extension.name for an extension's setting)"
                )
            continue
        problem = value_problem(value, entry)
        if problem:
            problems.append(f"{where}: {value_text(value)!r} {problem}")
    return problems
