"""Make the working tree importable as ansible_collections.groundwork.server.

scripts/setup.sh links .collections/ansible_collections/groundwork/server to the
repository root; putting .collections on sys.path lets unit tests import plugins by
their collection path, exactly as Ansible loads them.
"""

from __future__ import annotations

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[2] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
