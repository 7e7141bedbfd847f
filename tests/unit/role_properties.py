# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the property tests of several roles share beyond tests/unit/bad_values.py's classes
(issue 16): a valid value with a control character in it, a strategy without some values, the
cases of a role's ``<prefix>_packages``, and the settings of tests that a class shares with
its subclasses (site_properties.py, database_properties.py), and how many bad values
each field gets. Import as
``from role_properties import ...`` (tests/unit is on ``sys.path``)."""

from __future__ import annotations

from bad_values import CONTROL_CHARS, bad_package_names, non_strings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def plus_control(valid):
    """A valid value with one control character inserted somewhere (a trailing line break included)."""
    return st.builds(
        lambda at, char: valid[:at] + char + valid[at:],
        st.integers(0, len(valid)),
        st.sampled_from(CONTROL_CHARS),
    )


def not_in(strategy, allowed):
    """The values of ``strategy`` that are not in ``allowed`` (one that cannot be compared with
    them, a list in a set, is not)."""
    return strategy.filter(lambda value: not _member(value, allowed))


def _member(value, allowed):
    try:
        return value in allowed
    except TypeError:
        return False


def package_cases(prefix, example):
    """The cases of ``<prefix>_packages``: an entry outside Debian's syntax, not a string or
    ``example`` (a package the role may install) with a control character; a list that is none."""
    return {
        "package": (
            f"{prefix}_packages[0]",
            lambda v: {f"{prefix}_packages": [v]},
            st.one_of(bad_package_names(), non_strings(), plus_control(example)),
        ),
        "package list": (
            f"{prefix}_packages",
            lambda v: {f"{prefix}_packages": v},
            st.one_of(
                st.text(min_size=1), st.integers(), st.dictionaries(st.text(max_size=3), st.text(max_size=3))
            ),
        ),
    }


# pytest runs each case of a class's test on a new instance, and a subclass in each role's file:
# hypothesis calls that a change of executor. The instances hold no state (a role's inputs are
# class attributes) and the profile (conftest.py) keeps no example database to replay, so the
# check does not apply to these tests.
SHARED = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.differing_executors]
)

# Bad values per field: EXAMPLES examples of PER_EXAMPLE values each, 2000 in all. Hypothesis'
# cost is per example, so a test of bad values draws them in batches (``bad_values_of``).
EXAMPLES, PER_EXAMPLE = 200, 10
BAD_VALUES = settings(SHARED, max_examples=EXAMPLES)


def bad_values_of(data, strategy, label="value"):
    """PER_EXAMPLE values of ``strategy`` drawn in one example of a ``BAD_VALUES`` test."""
    return data.draw(st.lists(strategy, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE), label=label)
