# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every role's plan is made of: changes with their reasons, and the questions all
plans ask of an inspection (which packages are missing, which files differ, which units
are not running, whether the release is supported). Each question has this one answer;
the file comparison is the one service_config applies (module_utils/_files/compare.py).

A plan is ``plan(model, inspection) -> Plan``: pure, tested with pytest tables.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
        Change, Plan, missing_packages, package_changes, file_changes, unit_changes, release_problem)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.groundwork.server.plugins.module_utils._files.compare import files_plan

SUPPORTED_RELEASES = ("12", "13")

REASONS = {
    "create": "does not exist",
    "update": "content differs",
    "attributes": "owner, group or mode differs",
    "remove": "not part of the configuration",
    "unknown": "could not be read",
}


@dataclass(frozen=True)
class Change:
    """One thing a run changes: a kind (package, file, service, ...), what, and why."""

    kind: str
    target: str
    reason: str

    def as_dict(self):
        return {"kind": self.kind, "target": self.target, "reason": self.reason}

    def __str__(self):
        return f"{self.kind} {self.target}: {self.reason}"


@dataclass
class Plan:
    """The changes of one role on one host, and what the applying tasks need to make them
    (``data``: plain values, shown; ``secret``: values never shown, such as file contents
    that hold passwords)."""

    changes: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    data: dict = field(default_factory=dict)
    secret: bool = False

    def add(self, kind, target, reason):
        self.changes.append(Change(kind, target, reason))

    def extend(self, changes):
        self.changes.extend(changes)

    def kinds(self):
        return sorted({change.kind for change in self.changes})

    def result(self):
        """The action's result: the changes (as dicts and as lines), the problems and the data."""
        return {
            "changes": [change.as_dict() for change in self.changes],
            "summary": [str(change) for change in self.changes],
            "kinds": self.kinds(),
            "problems": list(self.problems),
            **self.data,
        }


def missing_packages(wanted, states):
    """The wanted packages dpkg does not report as installed. A name with a version or an
    architecture (``name=1.2``, ``name:amd64``) always counts as missing: apt decides."""
    return [name for name in wanted if (states or {}).get(name) != "installed"]


def package_changes(wanted, states):
    return [Change("package", name, "not installed") for name in missing_packages(wanted, states)]


def file_changes(specs, observed, owned_dirs=None, entries=None):
    """A change per file that differs (module_utils/_files/compare.py decides)."""
    return [
        Change("file", path, REASONS[action])
        for path, action in files_plan(specs, observed, owned_dirs, entries)
    ]


def unit_changes(unit, state, enabled=True, active=True):
    """Starting (and enabling) a unit that is not running (or not enabled)."""
    state = state or {}
    reasons = []
    if enabled and state.get("enabled") != "enabled":
        reasons.append(f"not enabled ({state.get('enabled', 'unknown')})")
    if active and state.get("active") != "active":
        reasons.append(f"not running ({state.get('active', 'unknown')})")
    return [Change("service", unit, ", ".join(reasons))] if reasons else []


def start_needed(unit, state, activated):
    """Whether a unit still needs a task of its own that enables and starts it after the
    transaction of its configuration: it is not enabled, or it is not running and that
    transaction does not start it. ``activated``: the transaction changes files, and
    service_config's activation (reload-or-restart, restart) starts a stopped service."""
    return bool(unit_changes(unit, state, active=not activated))


def release_problem(role, os_release, supported=SUPPORTED_RELEASES):
    """A problem when the host does not run a supported Debian release, else None."""
    if os_release.get("id") == "debian" and os_release.get("version_id") in supported:
        return None
    running = f"{os_release.get('name') or os_release.get('id') or '?'} {os_release.get('version') or '?'}"
    return f"groundwork.server.{role} supports Debian {' and '.join(supported)}; this host runs {running}."
