# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply a set of configuration files to a service as one transaction.

Pure logic: what differs, in what order things happen, and how a failure is undone.
Every side effect goes through a ``host`` object (see ``host.py`` for the real one and
the unit tests for a fake), so each failure path can be tested without a machine.

The transaction: compare → (check mode stops here) → keep the old state in memory →
write → validate the whole candidate with the service's checker → activate → probe.
Any failure restores every file, re-activates the service with its previous
configuration when it was running, and reports the stage and the checker's own words.

A file is a regular file with content (``state="present"``), a symbolic link to ``src``
(``state="link"``; owner, group and mode do not apply to it) or nothing (``"absent"``).
Whatever was at a path before, file or link, is what a failure puts back.
"""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass, field

from ansible_collections.groundwork.server.plugins.module_utils._files.compare import (
    digest,
    file_action,
    octal_mode,
    stray_files,
)

HIDDEN_CONTENT = "[secret content hidden]\n"


@dataclass(frozen=True)
class FileState:
    """What is at a path now. ``link`` is set for a symbolic link (content is None)."""

    content: bytes | None = None
    uid: int = 0
    gid: int = 0
    mode: int = 0o644
    link: str | None = None


@dataclass(frozen=True)
class FileSpec:
    """What a path should be. ``src`` is a link's target, kept verbatim (it may be relative
    to the link's directory, like ``../mods-available/ssl.load``); owner, group and mode
    are ignored for a link."""

    path: str
    content: str | None = None
    state: str = "present"  # present | link | absent
    owner: str = "root"
    group: str = "root"
    mode: int = 0o644
    secret: bool = False
    src: str | None = None


@dataclass
class Change:
    path: str
    action: str  # create | update | attributes | remove
    before: FileState | None
    after: FileState | None
    secret: bool = False


@dataclass
class Result:
    changed: bool = False
    failed: bool = False
    msg: str = ""
    failed_stage: str | None = None
    restored: bool | None = None
    activated: bool = False
    restarted: bool = False
    validate_output: str = ""
    files_changed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    diff: list[dict] = field(default_factory=list)


class ServiceConfigError(Exception):
    """Invalid input found before anything was touched."""


def parse_mode(value: str | int) -> int:
    mode = octal_mode(value)
    if mode is None:
        raise ServiceConfigError(f"mode {value!r} is not an octal file mode such as '0644' (at most 07777)")
    return mode


def _describe(state: FileState | None) -> str:
    if state is None:
        return ""
    if state.link is not None:
        return f"symlink to {state.link}"
    return f"uid={state.uid} gid={state.gid} mode={state.mode:04o}"


def observed(state: FileState | None) -> dict:
    """A file as the shared comparison (module_utils/_files/compare.py) sees it."""
    if state is None:
        return {"state": "absent"}
    if state.link is not None:
        return {"state": "link", "target": state.link}
    return {
        "state": "file",
        "sha256": digest(state.content),
        "uid": state.uid,
        "gid": state.gid,
        "mode": state.mode,
    }


def plan(host, files: list[FileSpec], owned_dirs: list[str]) -> list[Change]:
    """The changes that bring the host to ``files``; empty when nothing differs."""
    changes: list[Change] = []
    managed = set()
    for spec in files:
        path = posixpath.normpath(spec.path)
        if not posixpath.isabs(path):
            raise ServiceConfigError(f"files: path {spec.path!r} is not absolute")
        if path in managed:
            raise ServiceConfigError(f"files: path {path!r} is listed twice")
        managed.add(path)
        if spec.state not in ("present", "link", "absent"):
            raise ServiceConfigError(f"files: {path} has state={spec.state}; use present, link or absent")
        if spec.state == "link":
            if spec.content is not None:
                raise ServiceConfigError(f"files: {path} has state=link and content; a link has only src")
            if not spec.src:
                raise ServiceConfigError(f"files: {path} has state=link but no src (the link's target)")
        elif spec.src is not None:
            raise ServiceConfigError(
                f"files: {path} has src but state={spec.state}; src is only for state=link"
            )
        before = host.stat(path)
        after = None
        wanted = {"path": path, "state": spec.state}
        if spec.state == "link":
            after = FileState(link=spec.src)
            wanted["src"] = spec.src
        elif spec.state != "absent":
            if spec.content is None:
                raise ServiceConfigError(f"files: {path} has state=present but no content")
            after = FileState(
                content=spec.content.encode("utf-8"),
                uid=host.uid(spec.owner),
                gid=host.gid(spec.group),
                mode=spec.mode,
            )
            wanted.update(content=after.content, owner=str(after.uid), group=str(after.gid), mode=after.mode)
        action = file_action(wanted, observed(before))
        if action:
            changes.append(Change(path, action, before, after, spec.secret))
    entries = {}
    for directory in owned_dirs:
        directory = posixpath.normpath(directory)
        # Directories (host.stat gives None) are not ours to remove.
        entries[directory] = {
            name: "file" for name in host.listdir(directory) if host.stat(posixpath.join(directory, name))
        }
    for path in stray_files(list(entries), entries, managed):
        changes.append(Change(path, "remove", host.stat(path), None))
    return changes


def _text(state: FileState | None, secret: bool) -> str:
    if state is None:
        return ""
    if state.link is not None:
        return f"-> {state.link}\n"
    if secret:
        return HIDDEN_CONTENT
    text = state.content.decode("utf-8", errors="replace")
    return text if text.endswith("\n") or not text else text + "\n"


def diffs(changes: list[Change]) -> list[dict]:
    """One entry per changed file, in the form Ansible's diff callback shows."""
    out = []
    for change in changes:
        entry = {
            "before_header": change.path if change.before is not None else "/dev/null",
            "after_header": change.path if change.after is not None else "/dev/null",
            "before": _text(change.before, change.secret),
            "after": _text(change.after, change.secret),
        }
        # Owner, group and mode where both sides are files; a link shows as "-> target".
        if change.action == "attributes" or (
            change.before is not None
            and change.after is not None
            and change.before.link is None
            and change.after.link is None
            and _describe(change.before) != _describe(change.after)
        ):
            entry["before"] += f"# {_describe(change.before)}\n"
            entry["after"] += f"# {_describe(change.after)}\n"
        out.append(entry)
    return out


def unified(entry: dict) -> str:
    """A unified diff of one entry (for messages and tests)."""
    return "".join(
        difflib.unified_diff(
            entry["before"].splitlines(True),
            entry["after"].splitlines(True),
            entry["before_header"],
            entry["after_header"],
        )
    )


def _write(host, change: Change) -> None:
    if change.after is None:
        host.remove(change.path)
    elif change.after.link is not None:
        host.symlink(change.path, change.after.link)
    elif change.action == "attributes":
        host.set_attributes(change.path, change.after)
    else:
        host.write(change.path, change.after)


def _restore(host, applied: list[Change]) -> list[str]:
    """Put back what was there before; returns the paths that could not be restored."""
    failures = []
    for change in reversed(applied):
        try:
            if change.before is None:
                host.remove(change.path)
            elif change.before.link is not None:
                host.symlink(change.path, change.before.link)
            elif change.action == "attributes":
                host.set_attributes(change.path, change.before)
            else:
                host.write(change.path, change.before)
        except OSError as exc:
            failures.append(f"{change.path} ({exc.strerror or exc})")
    return failures


def _output(rc: int, out: str, err: str) -> str:
    """What a command said, each line once (nginx repeats its errors on stderr)."""
    lines = [line for part in (err, out) for line in (part or "").strip().splitlines() if line.strip()]
    return "\n".join(dict.fromkeys(lines)) or f"exit code {rc}"


def _activate(host, service: str | None, activate: str) -> tuple[bool, str]:
    if not service or activate == "none":
        return True, ""
    verb = "reload-or-restart" if activate == "reload" else "restart"
    rc, out, err = host.run(["systemctl", verb, service])
    if rc != 0:
        return False, f"systemctl {verb} {service} failed: {_output(rc, out, err)}"
    return True, ""


def _daemon_reload(host, ok: bool = True, detail: str = "") -> tuple[bool, str]:
    """systemd reads the units again (the restored ones, when a unit was among the files)."""
    rc, out, err = host.run(["systemctl", "daemon-reload"])
    if rc != 0:
        return False, f"systemctl daemon-reload failed: {_output(rc, out, err)}"
    return ok, detail


def _return_to_old_files(host, service: str, verb: str, reloaded: bool) -> tuple[bool, str]:
    """Activate the restored files in a service that ran before the transaction."""
    if reloaded:
        ok, detail = _daemon_reload(host)
        if not ok:
            return ok, detail
    if verb == "restart":
        # A service that crashed on the new files may have run into its start limit, which
        # refuses every further start until the counter is reset; resetting changes nothing else.
        host.run(["systemctl", "reset-failed", service])
    return _activate(host, service, verb)


def _restart_if_pending(host, service: str, check: list[str]) -> tuple[bool | None, str]:
    """Run ``check`` after a reload; when it prints anything the service waits for a restart
    and gets it. Returns (None, what waited) after a restart, (True, "") when none was needed,
    (False, why) when the check or the restart failed."""
    rc, out, err = host.run(list(check))
    if rc != 0:
        return False, f"{' '.join(check)} failed: {_output(rc, out, err)}"
    waiting = ", ".join(line.strip() for line in out.splitlines() if line.strip())
    if not waiting:
        return True, ""
    ok, detail = _activate(host, service, "restart")
    if not ok:
        return False, f"{detail} (a restart was needed for {waiting})"
    return None, f"for {waiting}"


def apply(
    host,
    files: list[FileSpec],
    owned_dirs: list[str] | None = None,
    validate: list[str] | None = None,
    service: str | None = None,
    activate: str = "reload",
    probe: dict | None = None,
    check_mode: bool = False,
    restart_check: list[str] | None = None,
    daemon_reload: bool = False,
) -> Result:
    """Run the whole transaction and describe what happened."""
    changes = plan(host, files, owned_dirs or [])
    result = Result(diff=diffs(changes))
    result.files_changed = [c.path for c in changes if c.after is not None]
    result.files_removed = [c.path for c in changes if c.after is None]
    if not changes:
        result.msg = "configuration unchanged"
        return result
    result.changed = True
    if check_mode:
        result.msg = f"{len(changes)} file(s) would change"
        return result

    was_active = bool(service) and activate != "none" and host.is_active(service)
    applied: list[Change] = []
    stage, detail = None, ""
    try:
        for change in changes:
            _write(host, change)
            applied.append(change)
    except OSError as exc:
        stage, detail = "write", f"writing {change.path} failed: {exc.strerror or exc}"

    if stage is None and validate:
        rc, out, err = host.run(list(validate))
        if rc != 0:
            stage, detail = "validate", _output(rc, out, err)
            result.validate_output = detail

    # A unit's drop-in written before this transaction (a sandbox), or a unit file among its
    # files, takes effect with the activation below once systemd has read it again.
    reloaded = False
    if stage is None and daemon_reload and service and activate != "none":
        rc, out, err = host.run(["systemctl", "daemon-reload"])
        if rc != 0:
            stage, detail = "activate", f"systemctl daemon-reload failed: {_output(rc, out, err)}"
        reloaded = rc == 0

    touched = stage is None
    if stage is None:
        ok, detail = _activate(host, service, activate)
        if ok:
            result.activated = bool(service) and activate != "none"
        else:
            stage = "activate"

    # Some settings take effect only at a restart (PostgreSQL's memory, max_connections):
    # the service says after the reload whether it still waits for one, and the restart is
    # part of this transaction - no run that stops after it leaves a service that applies
    # half of its new configuration.
    waited = ""
    if stage is None and result.activated and activate == "reload" and restart_check:
        ok, detail = _restart_if_pending(host, service, restart_check)
        if ok is None:
            result.restarted, waited = True, detail
        elif not ok:
            stage = "activate"

    if stage is None and probe:
        ok, detail = host.probe(probe)
        if not ok:
            stage = "probe"

    if stage is None:
        result.msg = (
            f"{len(changes)} file(s) changed"
            + (f", {service} {activate}ed" if result.activated else "")
            + (f" and restarted ({waited})" if result.restarted else "")
        )
        return result

    # Undo: files first, then bring the service back to the configuration it ran.
    result.failed = True
    result.failed_stage = stage
    failures = _restore(host, applied)
    reactivated, reactivate_detail = True, ""
    if not failures and touched and stage in ("activate", "probe"):
        if was_active:
            # After a restart the old files need one too: a reload would keep the new
            # restart-only settings running.
            verb = "restart" if result.restarted else activate
            reactivated, reactivate_detail = _return_to_old_files(host, service, verb, reloaded)
        elif service and activate != "none":
            # It was not running before: leave it as it was rather than on the new files (a
            # failed start may have left it restarting by itself).
            rc, out, err = host.run(["systemctl", "stop", service])
            reactivated, reactivate_detail = rc == 0, _output(rc, out, err)
            if reloaded:
                reactivated, reactivate_detail = _daemon_reload(host, reactivated, reactivate_detail)
    result.restored = not failures and reactivated
    # Fully undone, the host is as it was before the run.
    result.changed = not result.restored
    what = {
        "write": "Writing the new configuration failed",
        "validate": "The service's checker rejected the new configuration",
        "activate": f"Activating the new configuration of {service} failed",
        "probe": f"{service or 'The service'} failed its health probe with the new configuration",
    }[stage]
    if failures:
        outcome = (
            "RESTORING THE PREVIOUS FILES FAILED for "
            + ", ".join(failures)
            + "; the host may hold a mix of old and new files: fix them by hand"
        )
    elif not reactivated:
        outcome = f"the previous files are back, but returning {service} to them failed: {reactivate_detail}"
    elif not touched:
        outcome = "the previous files are back; the running service was not touched"
    elif was_active:
        outcome = "the previous files are back and the service runs them again"
    else:
        outcome = f"the previous files are back; {service} was not running before and is stopped again"
    result.msg = f"{what}: {detail}\n({outcome})"
    return result
