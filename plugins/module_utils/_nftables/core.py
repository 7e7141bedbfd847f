# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Own exactly one nftables table: replace it atomically, with commit-confirm.

Pure logic: the texts of the files (candidate, persisted file, rollback, boot unit), the
decision unchanged/changed, the order of the steps and what each failure leaves behind.
Every side effect goes through a ``host`` object (``host.py`` is the real one, the unit
tests have a fake), so every path can be tested without a machine.

state=present: read the live table → ``nft -c`` the candidate → get nft's own listing of
the candidate in a throw-away network namespace → compare (check mode stops here) →
save the previous table → arm a transient systemd timer that restores it → apply the
candidate (one nft transaction that touches no other table). state=confirmed disarms the
timer (or reports that it already fired), then persists the file loaded at boot.

Files, for table NAME (``STATE_DIR`` is private to root):
  STATE_DIR/NAME.previous     nft script restoring the table as it was before the change
  STATE_DIR/NAME.rollback     sh script the timer runs: loads .previous, writes .rolled-back
  STATE_DIR/NAME.pending      JSON: the change waiting for confirmation
  STATE_DIR/NAME.applied      listing of the last confirmed table (fallback comparison)
  STATE_DIR/NAME.rolled-back  "<time> <change id> restored|deleted", written by the rollback
  persist_path                the table file loaded at boot by the boot unit
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
import time
from dataclasses import dataclass, field

DEFAULT_NAME = "groundwork"
STATE_DIR = "/var/lib/groundwork/firewall"
PERSIST_DIR = "/etc/groundwork/firewall"
UNIT_DIR = "/etc/systemd/system"
SH = "/bin/sh"
MAX_TIMEOUT = 86400
FIRING_WAIT = 30.0  # seconds state=confirmed waits for a rollback that is running right now
HEADER_LINES = 3  # lines of the candidate file before the content

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
# Characters a path may not contain because it goes into a systemd unit unquoted.
UNSAFE_PATH_RE = re.compile(r"[\s\"'\\%$;`]")
ABSENT_TABLE = "No such file or directory"


class NftablesError(Exception):
    """A failure; ``changed`` tells whether the host was changed before it (the message
    then says what was left)."""

    def __init__(self, msg: str, changed: bool = False):
        super().__init__(msg)
        self.changed = changed


@dataclass(frozen=True)
class TableSpec:
    name: str = DEFAULT_NAME
    family: str = "inet"
    content: str | None = None
    confirm_timeout: int = 60
    persist_path: str | None = None

    @property
    def table(self) -> str:
        return f"{self.family} {self.name}"


@dataclass(frozen=True)
class Paths:
    persist: str
    previous: str
    rollback: str
    pending: str
    applied: str
    marker: str
    boot_unit: str
    unit_file: str
    rollback_unit: str


@dataclass
class Result:
    changed: bool = False
    failed: bool = False
    msg: str = ""
    armed: bool = False
    rolled_back: bool = False
    restored: bool | None = None
    comparison: str | None = None
    diff: dict | None = None
    previous_digest: str | None = None
    applied_digest: str | None = None
    warnings: list[str] = field(default_factory=list)


# --- names, paths and validation -------------------------------------------------------


def paths_for(spec: TableSpec) -> Paths:
    """Where everything of one table lives; the default table gets the plain unit names."""
    suffix = "" if spec.name == DEFAULT_NAME else f"-{spec.name}"
    base = f"{STATE_DIR}/{spec.name}"
    boot_unit = f"groundwork-firewall{suffix}.service"
    return Paths(
        persist=spec.persist_path or f"{PERSIST_DIR}/{spec.name}.nft",
        previous=f"{base}.previous",
        rollback=f"{base}.rollback",
        pending=f"{base}.pending",
        applied=f"{base}.applied",
        marker=f"{base}.rolled-back",
        boot_unit=boot_unit,
        unit_file=f"{UNIT_DIR}/{boot_unit}",
        rollback_unit=f"groundwork-firewall-rollback{suffix}",
    )


def check_body(content: str, table: str) -> None:
    """The content must stay inside the table's braces: it cannot close the block early
    and go on to touch another table (``} table ip nat { ... }``)."""
    depth = 0
    for lineno, line in enumerate(content.splitlines(), 1):
        quoted = False  # nft strings do not span lines and have no escapes
        for char in line:
            if quoted:
                quoted = char != '"'
            elif char == '"':
                quoted = True
            elif char == "#":
                break
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth < 0:
                    raise NftablesError(
                        f"content line {lineno} ({line.strip()!r}) closes the block of table {table}: "
                        "content is only the body of the table (its chains, sets and rules)"
                    )


def validate(spec: TableSpec, state: str) -> None:
    if not NAME_RE.match(spec.name) or spec.name.startswith("rollback"):
        raise NftablesError(
            f"name {spec.name!r} is not allowed: letters, digits, '_' and '-', starting with a "
            "letter, at most 63 characters, and not starting with 'rollback'"
        )
    if not 0 <= spec.confirm_timeout <= MAX_TIMEOUT:
        raise NftablesError(
            f"confirm_timeout {spec.confirm_timeout} is out of range: 0 (no commit-confirm) "
            f"to {MAX_TIMEOUT} seconds"
        )
    if spec.persist_path is not None and (
        not posixpath.isabs(spec.persist_path) or UNSAFE_PATH_RE.search(spec.persist_path)
    ):
        raise NftablesError(
            f"persist_path {spec.persist_path!r} must be an absolute path without blanks, quotes, "
            "backslashes, backticks, '%', '$' or ';' (it goes into a systemd unit)"
        )
    if state == "present" and spec.content is None:
        raise NftablesError("content is required with state=present")
    if spec.content is not None:
        check_body(spec.content, spec.table)


# --- texts ------------------------------------------------------------------------------


def normalize(listing: str | None) -> str | None:
    """A listing without trailing blanks and with exactly one final newline."""
    if listing is None:
        return None
    lines = [line.rstrip() for line in listing.strip("\n").splitlines()]
    return "\n".join(lines) + "\n" if lines else ""


def digest(listing: str | None) -> str | None:
    if listing is None:
        return None
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def candidate_text(spec: TableSpec) -> str:
    """One nft transaction that replaces only this table.

    The first line creates an empty table when there is none, so that the delete never
    fails; nft applies the whole file atomically or not at all.
    """
    body = (spec.content or "").strip("\n")
    table = spec.table
    return f"table {table}\ndelete table {table}\ntable {table} {{\n{body}\n}}\n"


def persist_text(spec: TableSpec, paths: Paths) -> str:
    return (
        f"# Table {spec.table}, managed by groundwork.server.nftables_table: do not edit.\n"
        f"# Loaded at boot by {paths.boot_unit}; it replaces this table only.\n" + candidate_text(spec)
    )


def desired_block(spec: TableSpec) -> str:
    """The table as written (shown in the diff when nft's own listing is not available)."""
    return normalize(candidate_text(spec).split("\n", 2)[2])


def previous_text(spec: TableSpec, listing: str | None, armed_at: float) -> str:
    table = spec.table
    head = (
        f"# Table {table} as it was before the change armed at {iso(armed_at)}\n"
        f"table {table}\ndelete table {table}\n"
    )
    return head + (listing if listing else f"# (there was no table {table})\n")


def rollback_script(spec: TableSpec, paths: Paths, nft: str, change_id: str, armed_at: float) -> str:
    """What the timer runs: restore the previous table atomically and leave a marker.

    If the previous table cannot be loaded (it always could when it was saved), the
    table is deleted instead, so that it cannot keep a host cut off.
    """
    marker = shlex.quote(paths.marker)
    return "\n".join(
        [
            "#!/bin/sh",
            f"# Rollback of table {spec.table}, armed at {iso(armed_at)} by groundwork.server.nftables_table",
            f"# (change {change_id}); run by {paths.rollback_unit}.timer unless the change is confirmed.",
            f"if {shlex.quote(nft)} -f {shlex.quote(paths.previous)}; then",
            "    outcome=restored",
            "else",
            f"    {shlex.quote(nft)} delete table {spec.table}",
            "    outcome=deleted",
            "fi",
            f'printf \'%s %s %s\\n\' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" {change_id} "$outcome" > {marker}.tmp',
            f"mv -f {marker}.tmp {marker}",
            f'echo "groundwork firewall: table {spec.table} $outcome by the rollback of change {change_id}"',
            "",
        ]
    )


def unit_text(spec: TableSpec, paths: Paths, nft: str) -> str:
    """The boot unit: loads only our table, never `flush ruleset` (Debian's nftables.conf)."""
    return "\n".join(
        [
            "# Managed by groundwork.server.nftables_table: do not edit.",
            "[Unit]",
            f"Description=Firewall table {spec.table} (groundwork.server)",
            "DefaultDependencies=no",
            "Wants=network-pre.target",
            "Before=network-pre.target shutdown.target",
            "# Debian's nftables.service flushes the whole ruleset: load after it if it is enabled.",
            "After=nftables.service",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            "StandardInput=null",
            f"ExecStart={nft} -f {paths.persist}",
            f"ExecReload={nft} -f {paths.persist}",
            "",
            "[Install]",
            "WantedBy=sysinit.target",
            "",
        ]
    )


def table_diff(spec: TableSpec, before: str | None, after: str | None, after_label: str) -> dict:
    return {
        "before_header": f"table {spec.table} (live)",
        "after_header": f"table {spec.table} ({after_label})",
        "before": before or "",
        "after": after or "",
    }


def said(rc: int, out: str, err: str) -> str:
    """What a command said, each line once."""
    lines = [line for part in (err, out) for line in (part or "").strip().splitlines() if line.strip()]
    return "\n".join(dict.fromkeys(lines)) or f"exit code {rc}"


def readable(text: str, path: str) -> str:
    """nft's message about the temporary candidate file, with lines of the content."""

    def where(match):
        line = int(match.group(1)) - HEADER_LINES
        return f"content line {line}:" if line >= 1 else "table header:"

    return re.sub(re.escape(path) + r":(\d+):", where, text)


def observed_paths(spec: TableSpec) -> dict:
    """The files a read-only inspection looks at to tell whether the table is unchanged."""
    paths = paths_for(spec)
    return {"state_dir": STATE_DIR, "persist": paths.persist, "unit": paths.unit_file}


def unchanged_by_record(spec: TableSpec, nft: str | None, observed: dict) -> bool:
    """Whether state=present would change nothing, from an inspection's digests alone.

    ``observed`` (what the role's inspection read, all digests SHA-256 of the texts):
    ``live`` (nft's listing of the live table, normalized; None without a table),
    ``applied`` (the record of the last confirmed listing, normalized), ``pending``,
    ``persist`` and ``unit`` (the files), ``unit_enabled``, ``readable`` and ``paths``
    (the files it looked at, observed_paths()).

    True only when no change waits for confirmation, the boot file and unit are exactly
    what the module writes and the unit is enabled, and the live table is the one the
    last confirmation recorded, which the persisted file, unchanged since, produced.
    Anything else (including an inspection that could not read everything) is False, and
    the module itself decides.
    """
    if not observed.get("readable") or observed.get("paths") != observed_paths(spec) or not nft:
        return False
    paths = paths_for(spec)
    return (
        observed.get("pending") is False
        and observed.get("live") is not None
        and observed.get("live") == observed.get("applied")
        and observed.get("persist") == digest(persist_text(spec, paths))
        and observed.get("unit") == digest(unit_text(spec, paths, nft))
        and observed.get("unit_enabled") == "enabled"
    )


# --- reading the host -------------------------------------------------------------------


def read_live(host, spec: TableSpec) -> str | None:
    """nft's listing of the live table; None when there is no such table."""
    rc, out, err = host.run([host.nft, "list", "table", spec.family, spec.name])
    if rc == 0:
        return normalize(out)
    if ABSENT_TABLE in (err or ""):
        return None
    raise NftablesError(f"reading table {spec.table} failed: {said(rc, out, err)}")


def canonical_listing(host, spec: TableSpec, candidate: str) -> tuple[str | None, str]:
    """nft's own listing of the candidate, from a throw-away network namespace.

    Returns (listing, "") or (None, why unshare cannot be used). A candidate that does
    not load in an empty namespace would not load at boot either: that is an error.
    """
    rc, out, err = host.run(["unshare", "--net", "true"])
    if rc != 0:
        return None, said(rc, out, err)
    rc, out, err = host.run(
        [
            "unshare",
            "--net",
            SH,
            "-c",
            '"$1" -f "$2" && "$1" list table "$3" "$4"',
            "sh",
            host.nft,
            candidate,
            spec.family,
            spec.name,
        ]
    )
    if rc != 0:
        raise NftablesError(
            f"table {spec.table} passes nft -c here but does not load in an empty network namespace, "
            "as it must at boot before the interfaces exist (match interfaces by name with "
            f"iifname/oifname, not by index with iif/oif): {readable(said(rc, out, err), candidate)}"
        )
    return normalize(out), ""


def rollback_state(host, paths: Paths) -> str:
    """``armed`` (timer waiting), ``firing`` (the rollback runs now) or ``idle``."""
    timer = _unit_props(host, f"{paths.rollback_unit}.timer")
    service = _unit_props(host, f"{paths.rollback_unit}.service")
    if timer.get("SubState") == "running" or service.get("ActiveState") in (
        "active",
        "activating",
        "deactivating",
        "reloading",
    ):
        return "firing"
    if timer.get("ActiveState") == "active":
        return "armed"
    return "idle"


def _unit_props(host, unit: str) -> dict:
    rc, out, _err = host.run(["systemctl", "show", "-p", "ActiveState", "-p", "SubState", unit])
    if rc != 0:
        return {}
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def load_pending(host, paths: Paths) -> dict | None:
    text = host.read(paths.pending)
    if text is None:
        return None
    try:
        pending = json.loads(text)
    except ValueError:
        return None
    return pending if isinstance(pending, dict) and "id" in pending else None


def read_marker(host, paths: Paths) -> dict | None:
    text = host.read(paths.marker)
    if not text:
        return None
    parts = text.split()
    if len(parts) < 3:
        return None
    return {"at": parts[0], "id": parts[1], "outcome": parts[2]}


def fired_marker(host, paths: Paths, pending: dict) -> dict | None:
    """The marker of this change's rollback, when it has fired."""
    marker = read_marker(host, paths)
    return marker if marker and marker["id"] == pending["id"] else None


def unit_ok(host, paths: Paths, text: str) -> bool:
    if host.read(paths.unit_file) != text:
        return False
    _rc, out, _err = host.run(["systemctl", "is-enabled", paths.boot_unit])
    return out.strip() == "enabled"


# --- side effects -----------------------------------------------------------------------


def disarm(host, paths: Paths) -> None:
    """Stop the rollback timer; a rollback already running is left to finish."""
    unit = paths.rollback_unit
    host.run(["systemctl", "stop", f"{unit}.timer"])
    deadline = host.clock() + FIRING_WAIT
    while rollback_state(host, paths) == "firing" and host.clock() < deadline:
        host.sleep(0.5)
    host.run(["systemctl", "stop", f"{unit}.service"])
    host.run(["systemctl", "reset-failed", f"{unit}.timer", f"{unit}.service"])


def arm(host, spec: TableSpec, paths: Paths) -> tuple[int, str, str]:
    unit = paths.rollback_unit
    # A finished or failed unit of the same name would make systemd-run refuse.
    host.run(["systemctl", "stop", f"{unit}.timer", f"{unit}.service"])
    host.run(["systemctl", "reset-failed", f"{unit}.timer", f"{unit}.service"])
    return host.run(
        [
            "systemd-run",
            f"--unit={unit}",
            f"--description=Restore the previous firewall table {spec.table} (groundwork.server)",
            f"--on-active={spec.confirm_timeout}s",
            "--timer-property=AccuracySec=1s",
            "--collect",
            SH,
            paths.rollback,
        ]
    )


def forget_change(host, paths: Paths) -> None:
    for path in (paths.pending, paths.rollback, paths.previous):
        host.remove(path)


def persist(host, spec: TableSpec, paths: Paths, text: str, listing: str | None) -> None:
    """Make the table load at boot: the persisted file, the boot unit, the record."""
    if host.read(paths.persist) != text:
        host.write(paths.persist, text, 0o644, 0o755)
    unit = unit_text(spec, paths, host.nft)
    unit_changed = host.read(paths.unit_file) != unit
    if unit_changed:
        host.write(paths.unit_file, unit, 0o644, 0o755)
    _rc, out, _err = host.run(["systemctl", "is-enabled", paths.boot_unit])
    if out.strip() != "enabled":
        # enable reloads systemd's configuration itself (the new unit with it)
        _must(host, ["systemctl", "enable", paths.boot_unit], f"enabling {paths.boot_unit}")
    elif unit_changed:
        _must(host, ["systemctl", "daemon-reload"], "reloading systemd")
    host.write(paths.applied, listing or "", 0o600, 0o700)


def _must(host, argv: list[str], what: str) -> None:
    rc, out, err = host.run(argv)
    if rc != 0:
        raise NftablesError(f"{what} failed: {said(rc, out, err)}")


# --- the three states -------------------------------------------------------------------


def present(host, spec: TableSpec, check_mode: bool = False) -> Result:
    validate(spec, "present")
    paths = paths_for(spec)
    candidate = candidate_text(spec)
    desired_file = persist_text(spec, paths)
    live = read_live(host, spec)
    with host.temporary(candidate) as cand:
        rc, out, err = host.run([host.nft, "-c", "-f", cand])
        if rc != 0:
            raise NftablesError(
                f"nft rejected table {spec.table} (nothing was changed): {readable(said(rc, out, err), cand)}"
            )
        canonical, why = canonical_listing(host, spec, cand)
        result = Result(comparison="namespace" if canonical is not None else "record")
        if canonical is None:
            result.warnings.append(
                f"unshare --net cannot be used on this host ({why}): the table is compared with the "
                f"record of the last applied listing in {paths.applied} instead of nft's own "
                "listing of the content"
            )
        persisted = host.read(paths.persist)

        def table_same(current: str | None) -> bool:
            if current is None:
                return False
            if canonical is not None:
                return current == canonical
            return persisted == desired_file and normalize(host.read(paths.applied)) == current

        pending = load_pending(host, paths)
        same = table_same(live)
        result.diff = table_diff(
            spec, live, canonical if canonical is not None else desired_block(spec), "desired"
        )
        result.previous_digest = digest(live)
        result.applied_digest = digest(canonical if canonical is not None else live if same else None)
        boot_ok = persisted == desired_file and unit_ok(host, paths, unit_text(spec, paths, host.nft))
        if pending is None and same and boot_ok:
            result.msg = f"table {spec.table} unchanged"
            # The record lets an inspection see that nothing changed (unchanged_by_record);
            # nft of another version lists the same table differently. The record is the
            # module's own bookkeeping, not the table or its boot files: no change to report.
            if not check_mode and normalize(host.read(paths.applied)) != live:
                host.write(paths.applied, live, 0o600, 0o700)
            return result
        result.changed = True
        if check_mode:
            result.msg = (
                f"table {spec.table} would be replaced"
                if not same or pending is not None
                else f"table {spec.table} is live; its boot file or unit would be updated"
            )
            return result

        keep_previous = False
        if pending is not None:
            keep_previous, live = settle_pending(host, spec, paths, pending, live)
            same = table_same(live)
            result.previous_digest = digest(live)
        if same and not keep_previous:
            # The live table is already the desired one: only the boot files differ.
            persist(host, spec, paths, desired_file, live)
            forget_change(host, paths)
            result.applied_digest = digest(live)
            result.msg = f"table {spec.table} is live; its boot file and unit are updated"
            return result
        if spec.confirm_timeout == 0:
            return _apply_directly(host, spec, paths, cand, desired_file, result)
        return _apply_armed(host, spec, paths, cand, desired_file, live, canonical, keep_previous, result)


def settle_pending(host, spec: TableSpec, paths: Paths, pending: dict, live: str | None):
    """An earlier run applied a change and never confirmed it.

    Its rollback still armed and its table live: disarm it, and keep its saved previous
    table (the last confirmed one) as what the new change rolls back to. Its rollback
    already fired, the host restarted or someone stopped it: that change is over.
    Otherwise (the table changed since, or the rollback runs right now) refuse.
    Returns (keep_previous, live listing).
    """
    state = rollback_state(host, paths)
    applied = normalize(pending.get("listing"))
    if state == "firing" or (state == "armed" and (applied is None or live != applied)):
        doing = "running now" if state == "firing" else "still armed"
        raise NftablesError(
            f"the rollback {paths.rollback_unit}.timer armed at {iso(pending.get('armed_at', 0))} by an "
            f"earlier run that was never confirmed is {doing}, "
            f"and the live table {spec.table} is not the one that run applied: refusing to change the "
            f"table. Wait until the rollback has fired (timeout {pending.get('timeout')} s), or run "
            "state=confirmed if that run's table is to stay"
        )
    if state == "armed":
        disarm(host, paths)
        if fired_marker(host, paths, pending) is None:
            host.remove(paths.pending)
            return host.read(paths.previous) is not None, live
        live = read_live(host, spec)  # it fired while being disarmed
    host.remove(paths.pending)
    return False, live


def _apply_directly(host, spec, paths, cand, desired_file, result: Result) -> Result:
    rc, out, err = host.run([host.nft, "-f", cand])
    if rc != 0:
        raise NftablesError(
            f"applying table {spec.table} failed (nft applies the file as one transaction, "
            f"the table is as it was): {readable(said(rc, out, err), cand)}"
        )
    try:
        live = read_live(host, spec)
        persist(host, spec, paths, desired_file, live)
    except NftablesError as exc:
        raise NftablesError(f"table {spec.table} was applied, but {exc}", changed=True) from exc
    forget_change(host, paths)
    result.applied_digest = digest(live)
    result.msg = f"table {spec.table} replaced and persisted (no commit-confirm: confirm_timeout=0)"
    return result


def _apply_armed(host, spec, paths, cand, desired_file, live, canonical, keep_previous, result: Result):
    armed_at = host.now()
    change_id = host.new_id()
    if not keep_previous:
        host.write(paths.previous, previous_text(spec, live, armed_at), 0o600, 0o700)
    host.write(paths.rollback, rollback_script(spec, paths, host.nft, change_id, armed_at), 0o600, 0o700)
    host.remove(paths.marker)
    pending = {
        "id": change_id,
        "armed_at": armed_at,
        "timeout": spec.confirm_timeout,
        "table": spec.table,
        "listing": canonical,
        "persist_path": paths.persist,
        "persist": desired_file,
    }
    host.write(paths.pending, json.dumps(pending), 0o600, 0o700)
    rc, out, err = arm(host, spec, paths)
    if rc != 0:
        forget_change(host, paths)
        raise NftablesError(
            f"arming the rollback {paths.rollback_unit} failed, so table {spec.table} was not changed "
            f"(commit-confirm needs systemd; confirm_timeout=0 applies without it): {said(rc, out, err)}"
        )

    rc, out, err = host.run([host.nft, "-f", cand])
    if rc != 0:
        detail = readable(said(rc, out, err), cand)
        disarm(host, paths)
        rrc, rout, rerr = host.run([SH, paths.rollback])
        marker = fired_marker(host, paths, pending)
        host.remove(paths.marker)
        forget_change(host, paths)
        result.failed = True
        result.restored = rrc == 0 and marker is not None and marker["outcome"] == "restored"
        result.changed = not result.restored
        if result.restored:
            outcome = "the previous table was restored at once"
        elif marker is not None:
            outcome = (
                f"RESTORING THE PREVIOUS TABLE FAILED, so table {spec.table} was deleted: "
                f"{said(rrc, rout, rerr)}"
            )
        else:
            outcome = (
                f"RESTORING THE PREVIOUS TABLE FAILED ({said(rrc, rout, rerr)}); check table {spec.table}"
            )
        result.msg = f"applying table {spec.table} failed: {detail}\n({outcome}; the rollback is disarmed)"
        return result

    try:
        applied = read_live(host, spec)
    except NftablesError as exc:
        raise NftablesError(
            f"table {spec.table} was applied and its rollback is armed, but {exc}", changed=True
        ) from exc
    pending["listing"] = applied
    host.write(paths.pending, json.dumps(pending), 0o600, 0o700)
    result.armed = True
    result.applied_digest = digest(applied)
    result.msg = (
        f"table {spec.table} applied; {paths.rollback_unit}.timer restores the previous table in "
        f"{spec.confirm_timeout} s unless state=confirmed runs first"
    )
    return result


def confirmed(host, spec: TableSpec, check_mode: bool = False) -> Result:
    validate(spec, "confirmed")
    paths = paths_for(spec)
    result = Result()
    pending = load_pending(host, paths)
    if pending is None:
        result.msg = f"nothing to confirm: no change of table {spec.table} is waiting for confirmation"
        return result
    paths = paths_for(TableSpec(spec.name, spec.family, persist_path=pending.get("persist_path")))
    if spec.content is not None and pending.get("persist") != persist_text(spec, paths):
        raise NftablesError(
            f"the content given differs from the table {spec.table} that state=present applied at "
            f"{iso(pending.get('armed_at', 0))}: not confirming a different table"
        )
    fired = fired_marker(host, paths, pending)
    if fired is None and not check_mode:
        disarm(host, paths)
        fired = fired_marker(host, paths, pending)
    if fired is not None:
        if not check_mode:
            forget_change(host, paths)
        result.failed = True
        result.rolled_back = True
        if fired["outcome"] == "restored":
            what = f"the host restored the previous table {spec.table} by itself"
        else:
            what = (
                f"the host could not restore the previous table and deleted table {spec.table} "
                "by itself (it filters nothing now)"
            )
        result.msg = (
            f"the change of table {spec.table} applied at {iso(pending.get('armed_at', 0))} was not "
            f"confirmed in time: {what} at {fired['at']}, after {pending.get('timeout')} s "
            "(the confirmation came too late, or the new rules cut the management connection)"
        )
        return result
    live = read_live(host, spec)
    applied = normalize(pending.get("listing"))
    result.changed = True
    result.previous_digest = digest(live)
    result.applied_digest = digest(live)
    if applied is None or live != applied:
        result.changed = not check_mode
        result.failed = True
        if not check_mode:
            forget_change(host, paths)
        result.msg = (
            f"table {spec.table} is not the one state=present applied at "
            f"{iso(pending.get('armed_at', 0))} (it was changed since, or the host restarted and "
            "loaded the persisted table): nothing was confirmed"
            + ("" if check_mode else ", the rollback is disarmed")
            + "; run state=present again"
        )
        return result
    if check_mode:
        result.msg = f"table {spec.table} would be confirmed and persisted"
        return result
    try:
        persist(host, spec, paths, pending["persist"], live)
    except NftablesError as exc:
        raise NftablesError(
            f"the rollback of table {spec.table} is disarmed and the table stays live, but it is "
            f"not persisted for boot: {exc}",
            changed=True,
        ) from exc
    forget_change(host, paths)
    result.msg = f"table {spec.table} confirmed: rollback disarmed, persisted in {paths.persist}"
    return result


def absent(host, spec: TableSpec, check_mode: bool = False) -> Result:
    validate(spec, "absent")
    paths = paths_for(spec)
    live = read_live(host, spec)
    state = rollback_state(host, paths)
    unit_file = host.read(paths.unit_file)
    files = [
        path
        for path in (
            paths.persist,
            paths.previous,
            paths.rollback,
            paths.pending,
            paths.applied,
            paths.marker,
        )
        if host.read(path) is not None
    ]
    result = Result(diff=table_diff(spec, live, None, "absent"), previous_digest=digest(live))
    result.changed = live is not None or state != "idle" or unit_file is not None or bool(files)
    if not result.changed:
        result.msg = f"table {spec.table} is absent"
        return result
    if check_mode:
        result.msg = f"table {spec.table} would be removed"
        return result
    if state != "idle":
        disarm(host, paths)  # else the timer would bring the table back
    if live is not None:
        rc, out, err = host.run([host.nft, "delete", "table", spec.family, spec.name])
        if rc != 0:
            raise NftablesError(
                f"deleting table {spec.table} failed: {said(rc, out, err)}", changed=state != "idle"
            )
    if unit_file is not None:
        host.run(["systemctl", "disable", paths.boot_unit])
        host.remove(paths.unit_file)
        _must(host, ["systemctl", "daemon-reload"], "reloading systemd")
    for path in files:
        host.remove(path)
    result.msg = f"table {spec.table} removed, with its boot file and unit"
    return result


def run_state(host, spec: TableSpec, state: str, check_mode: bool = False) -> Result:
    handler = {"present": present, "confirmed": confirmed, "absent": absent}[state]
    return handler(host, spec, check_mode)
