"""Make the working tree importable as ansible_collections.groundwork.server.

scripts/setup.sh links .collections/ansible_collections/groundwork/server to the
repository root; putting .collections on sys.path lets unit tests import plugins by
their collection path, exactly as Ansible loads them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Property tests (tests/unit/bad_values.py): many generated values per field, no time limit
# per example (the first one imports the plugin), no example database in the tree. CI draws
# the same values on every run (derandomize); GW_HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile(
    "groundwork",
    max_examples=500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "explore", parent=settings.get_profile("groundwork"), derandomize=False, max_examples=5000
)
# The extra ansible-cores (scripts/lib/cores.sh): every test runs, with at most 50 examples
# (500 bad values per field instead of 2000). The values a property test draws do not depend
# on the core: the full count runs under the main venv's core; under the others the tests
# check that the collection's code behaves the same on that core, which fewer examples show.
settings.register_profile("cores", parent=settings.get_profile("groundwork"), max_examples=50)
# Profiles whose max_examples also caps the counts tests set themselves (@settings(max_examples=...)).
CAPPED_PROFILES = {"cores"}
PROFILE = os.environ.get("GW_HYPOTHESIS_PROFILE", "groundwork")
settings.load_profile(PROFILE)


def pytest_collection_modifyitems(items):
    """Under a capped profile, lower each property test's own example count to the profile's."""
    if PROFILE not in CAPPED_PROFILES:
        return
    cap = settings.get_profile(PROFILE).max_examples
    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not getattr(test, "is_hypothesis_test", False):
            continue
        # hypothesis reads a test's settings from this attribute each time the test runs.
        own = test._hypothesis_internal_use_settings
        if own.max_examples > cap:
            test._hypothesis_internal_use_settings = settings(own, max_examples=cap)


COLLECTIONS = Path(__file__).resolve().parents[2] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
