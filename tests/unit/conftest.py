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
settings.load_profile(os.environ.get("GW_HYPOTHESIS_PROFILE", "groundwork"))

COLLECTIONS = Path(__file__).resolve().parents[2] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
