# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the shared checks of the model filters (plugin_utils/_model_check.py)."""

from __future__ import annotations

import re

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    Checker,
    is_int,
    named_items,
    quote,
)

W = "things[0] (a)"
NAME = re.compile(r"[a-z][a-z0-9-]*")
WHAT = "a-z, 0-9 and '-', starting with a-z"


def test_quote_quotes_strings_only():
    assert quote("x") == "'x'"
    assert quote(5) == "5"
    assert quote(None) == "None"
    assert quote(["a"]) == "['a']"


@pytest.mark.parametrize(
    ("value", "expected"), [(1, True), ("12", True), (True, False), ("1.5", False), (None, False)]
)
def test_is_int(value, expected):
    assert is_int(value) is expected


def test_add_names_where_key_and_value_and_line_is_free_text():
    check = Checker()
    check.add(W, "port", 0, "is wrong")
    check.add("some_var", None, "x", "is wrong")
    check.line(W, "port is required")
    assert check.errors == [
        "things[0] (a): port 0 is wrong",
        "some_var: 'x' is wrong",
        "things[0] (a): port is required",
    ]
    assert check.warnings == []


def test_text():
    check = Checker()
    assert check.text(W, "k", "ok") == "ok"
    assert check.text(W, "k", None) is None
    assert check.errors == []
    assert check.text(W, "k", None, required=True) is None
    assert check.text(W, "k", "", required=True) is None
    assert check.text(W, "k", 5) is None
    assert check.text(W, "k", "a\nb") is None
    assert check.text(W, "k", "}") is None
    assert check.errors == [
        f"{W}: k is required",
        f"{W}: k '' must be a non-empty string",
        f"{W}: k 5 must be a non-empty string",
        f"{W}: k 'a\\nb' must not contain control characters (line breaks, tabs, ...) or braces",
        f"{W}: k '}}' must not contain control characters (line breaks, tabs, ...) or braces",
    ]


def test_pattern():
    check = Checker()
    assert check.pattern(W, "k", "abc", NAME, "a name") == "abc"
    assert check.pattern(W, "k", None, NAME, "a name") is None
    assert check.errors == []
    assert check.pattern(W, "k", "A", NAME, "a name") is None
    assert check.pattern(W, "k", 5, NAME, "a name") is None
    assert check.pattern("v", None, None, NAME, "a name", optional=False, problem="is not a name") is None
    assert check.errors == [
        f"{W}: k 'A' is not valid (expected a name)",
        f"{W}: k 5 is not valid (expected a name)",
        "v: None is not a name (expected a name)",
    ]


def test_integer():
    check = Checker()
    assert check.integer(W, "k", 5, 1, 10) == 5
    assert check.integer(W, "k", "7", 1, 10) == 7
    assert check.integer(W, "k", None, 1, 10) is None
    assert check.errors == []
    assert check.integer(W, "k", 0, 1, 10) is None
    assert check.integer(W, "k", True, 1, 10) is None
    assert check.integer(W, "k", "7", 1, 10, strict=True) is None
    assert check.integer("v", None, None, 1, 10, optional=False) is None
    expected = "is out of range (expected a whole number from 1 to 10)"
    assert check.errors == [
        f"{W}: k 0 {expected}",
        f"{W}: k True {expected}",
        f"{W}: k '7' {expected}",
        f"v: None {expected}",
    ]


def test_boolean():
    check = Checker()
    assert check.boolean(W, "k", None, True) is True
    assert check.boolean(W, "k", False, True) is False
    assert check.boolean(W, "k", "yes", False) is False
    assert check.errors == [f"{W}: k 'yes' must be true or false"]


def test_one_of():
    check = Checker()
    assert check.one_of(W, "k", "a", ("a", "b")) == "a"
    assert check.one_of(W, "k", None, ("a", "b")) is None
    assert check.errors == []
    assert check.one_of(W, "k", "c", ("a", "b")) is None
    assert check.one_of(W, "k", "c", {"a": 1, "b": 2}, what="a letter") is None
    assert check.one_of(W, "k", None, (1, 2), optional=False) is None
    assert check.one_of(W, "k", ["a"], {"a": 1}) is None
    assert check.errors == [
        f"{W}: k 'c' is not one of a, b",
        f"{W}: k 'c' is not a letter (expected one of a, b)",
        f"{W}: k None is not one of 1, 2",
        f"{W}: k ['a'] is not one of a",
    ]


def test_strings():
    check = Checker()
    assert check.strings(W, "k", None) == []
    assert check.strings(W, "k", ["a", "", "b{"]) == ["a"]
    assert check.strings(W, "k", "a") == []
    assert check.errors == [
        f"{W}: k[1] '' must be a non-empty string",
        f"{W}: k[2] 'b{{' must not contain control characters (line breaks, tabs, ...) or braces",
        f"{W}: k 'a' must be a list",
    ]


def walk(items, **kwargs):
    check = Checker()
    found = list(named_items(check, "things", items, NAME, WHAT, **kwargs))
    return found, check.errors


def test_named_items_yields_every_mapping_with_where():
    items = [{"name": "a"}, {"name": "b", "x": 1}]
    found, errors = walk(items)
    assert found == [("things[0] (a)", items[0]), ("things[1] (b)", items[1])]
    assert errors == []


def test_named_items_reports_the_shape():
    assert walk("a") == ([], ["things: must be a list"])
    found, errors = walk(["a", {"name": "b"}])
    assert found == [("things[1] (b)", {"name": "b"})]
    assert errors == ["things[0]: must be a mapping"]


def test_named_items_reports_bad_and_missing_names_and_still_yields_the_item():
    found, errors = walk([{"name": "B"}, {}, {"name": 5}])
    assert [where for where, _item in found] == ["things[0] (B)", "things[1]", "things[2]"]
    assert errors == [
        f"things[0] (B): name 'B' is not valid (expected {WHAT})",
        f"things[1]: name None is not valid (expected {WHAT})",
        f"things[2]: name 5 is not valid (expected {WHAT})",
    ]


def test_named_items_names_may_be_optional():
    found, errors = walk([{}, {"port": 1}], required=False)
    assert [where for where, _item in found] == ["things[0]", "things[1]"]
    assert errors == []


def test_named_items_reports_duplicates_citing_the_first():
    items = [{"name": "a"}, {"name": "a"}, {"name": "a"}]
    found, errors = walk(items)
    assert len(found) == 3
    assert errors == [
        "things[1] (a): name 'a' is already used by things[0] (a)",
        "things[2] (a): name 'a' is already used by things[0] (a)",
    ]
    _found, errors = walk(items, cite_name=False)
    assert errors[0] == "things[1] (a): name 'a' is already used by things[0]"


def test_named_items_checks_as_it_is_iterated():
    check = Checker()
    walker = named_items(check, "things", "a", NAME, WHAT)
    assert check.errors == []
    assert list(walker) == []
    assert check.errors == ["things: must be a list"]
