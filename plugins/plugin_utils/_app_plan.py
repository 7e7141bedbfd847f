# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure part of groundwork.server.app's plan: the paths, the packages, whether the
application is Python, the service's command line, the files the role writes, and the
changes a run makes (with the release plan of plugin_utils/_app_release_plan.py).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _app_plan
"""

from __future__ import annotations

import json

from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    file_changes,
    package_changes,
    unit_changes,
)

RELEASE_ENV = ".groundwork-release.env"
SHELL = "/usr/sbin/nologin"
# python3-apt: the apt module needs it (also for check mode).
BASE_PACKAGES = ("python3-apt",)
VENV_PACKAGE = "python3-venv"
# The application's own directories, parents first; each owned by root and its group, 0750.
DIRECTORIES = ("app_dir", "releases_dir", "conf_dir")
DIRECTORY_MODE = "0750"


def paths(name, base_dir, version):
    """Where everything of the application lives."""
    app_dir = f"{base_dir.rstrip('/')}/{name}"
    conf_dir = f"/etc/{name}"
    unit = f"{name}.service"
    return {
        "app_dir": app_dir,
        "releases_dir": f"{app_dir}/releases",
        "current": f"{app_dir}/current",
        "history": f"{app_dir}/history",
        "conf_dir": conf_dir,
        "env_file": f"{conf_dir}/env",
        "unit": unit,
        "unit_file": f"/etc/systemd/system/{unit}",
        # what `systemctl enable` makes for the unit's WantedBy=multi-user.target: written by
        # the deploy's transaction with the unit, so a first deployment enables it in that run
        "wants_link": f"/etc/systemd/system/multi-user.target.wants/{unit}",
        "release_dir": f"{app_dir}/releases/{version}",
        "release_env": RELEASE_ENV,
    }


def _unique(names):
    return list(dict.fromkeys(names))


def packages(is_python, extra):
    """The packages the role installs."""
    return _unique([*BASE_PACKAGES, *([VENV_PACKAGE] if is_python else []), *extra])


def inspected_packages(extra):
    """The packages the inspection reads: every one the role may need."""
    return _unique([*BASE_PACKAGES, VENV_PACKAGE, *extra])


def is_python(python, rollback, target, venvs, has_requirements):
    """app_python decides when set; on a rollback the release is Python when it has a
    virtualenv; otherwise when the source has a requirements file."""
    if python is not None:
        return bool(python)
    if rollback:
        return target in (venvs or [])
    return bool(has_requirements)


def unit_text(text):
    """A value as a unit file reads it literally: '%' would start a specifier."""
    return text.replace("%", "%%")


def exec_text(text):
    """A command line as ExecStart= passes it literally: no specifier ('%'), no variable
    ('$': the environment file's secrets never land on the command line)."""
    return unit_text(text).replace("$", "$$")


def unit_values(model):
    """The checked settings the unit template writes (free text with its '%' doubled)."""
    return {
        "description": unit_text(model["description"] or f"{model['name']} application"),
        "stop_timeout": model["stop_timeout"],
        "memory_deny_write_execute": model["memory_deny_write_execute"],
        "writable_paths": model["writable_paths"],
    }


def exec_line(command, current, python):
    """ExecStart: a bare first word is the virtualenv's program for a Python app (python3,
    gunicorn), a relative path is inside the release, an absolute one stays. '%' and '$'
    reach the program as they are (doubled: systemd would read a specifier or a variable)."""
    return exec_text(_program(command, current, python))


def _program(command, current, python):
    argv0 = command.split()[0]
    rest = command.strip()[len(argv0) :]
    if argv0.startswith("/"):
        program = argv0
    elif "/" in argv0:
        program = f"{current}/{argv0}"
    elif python:
        program = f"{current}/.venv/bin/{argv0}"
    else:
        program = argv0
    return program + rest


def venv_marker(requirements_sum):
    """The marker of a built virtualenv; its name carries the requirements' checksum, so
    changed requirements build the virtualenv again."""
    return f".groundwork-ready-{requirements_sum}"


def history_content(history):
    return "".join(f"{name}\n" for name in history)


def release_env_content(version):
    """Read by the unit through ``current``: the version follows the running release."""
    return f'APP_VERSION="{version}"\n'


def file_specs(where, group, manifest, version, rollback, env_content, unit_content, history):
    """The files and directories as the applying tasks leave them (``current`` is the
    release change, not a file)."""
    specs = [
        {"path": where[key], "state": "directory", "owner": "root", "group": group, "mode": DIRECTORY_MODE}
        for key in DIRECTORIES
    ]
    if not rollback:
        release = where["release_dir"]
        specs.append({"path": release, "state": "directory", "owner": "root", "group": group, "mode": "0750"})
        for name, entry in (manifest or {}).items():
            if entry["state"] == "directory":
                specs.append(
                    {
                        "path": f"{release}/{name}",
                        "state": "directory",
                        "owner": "root",
                        "group": group,
                        "mode": "0750",
                    }
                )
            else:
                specs.append(
                    {
                        "path": f"{release}/{name}",
                        "sha256": entry["sha256"],
                        "owner": "root",
                        "group": group,
                        "mode": entry["mode"],
                    }
                )
        specs.append(
            {
                "path": f"{release}/{where['release_env']}",
                "content": release_env_content(version),
                "owner": "root",
                "group": group,
                "mode": "0640",
            }
        )
    specs.append(
        {"path": where["env_file"], "content": env_content, "owner": "root", "group": group, "mode": "0600"}
    )
    specs.append(
        {
            "path": where["unit_file"],
            "content": unit_content,
            "owner": "root",
            "group": "root",
            "mode": "0644",
        }
    )
    specs.append({"path": where["wants_link"], "state": "link", "src": where["unit_file"]})
    specs.append(
        {
            "path": where["history"],
            "content": history_content(history),
            "owner": "root",
            "group": "root",
            "mode": "0644",
        }
    )
    return specs


def inspected_files(where, manifest, rollback, marker):
    """The paths the inspection reads (digests and attributes)."""
    files = [
        where[key] for key in (*DIRECTORIES, "current", "env_file", "unit_file", "wants_link", "history")
    ]
    if not rollback:
        release = where["release_dir"]
        files += [release, f"{release}/{where['release_env']}", f"{release}/.venv/{marker}"]
        files += [f"{release}/{name}" for name in manifest or {}]
    return files


def account_changes(user, group, home, comment, found):
    """The group and the user as the role creates them (no login, home the app directory)."""
    found = found or {}
    changes = []
    if not found.get("group"):
        changes.append(Change("account", f"group {group}", "does not exist"))
    info = found.get("user")
    wanted = {"group": group, "shell": SHELL, "home": home, "comment": comment}
    if info is None:
        changes.append(Change("account", f"user {user}", "does not exist"))
    else:
        differ = [key for key, value in wanted.items() if info.get(key) != value]
        if differ:
            changes.append(Change("account", f"user {user}", f"{', '.join(differ)} differs"))
    return changes


def written(found):
    """The paths of the files, links and directories the changes write."""
    return {change.target for change in found if change.kind == "file"}


def differs(path, found):
    """Whether the changes rewrite the file or link ``path``."""
    return path in written(found)


def wrong_directories(where, found):
    """The application's directories that the changes name: missing, or with another owner,
    group or mode than file_specs wants."""
    targets = written(found)
    return [where[key] for key in DIRECTORIES if where[key] in targets]


def directories_argv(group, directories):
    """The command that makes the directories what file_specs wants, or [] when none is to
    make: one module run for all of them. install -d sets the owner, group and mode of a
    directory that exists as well; missing parents get 0755, as ansible.builtin.file gives
    them."""
    if not directories:
        return []
    return ["/usr/bin/install", "-d", "-o", "root", "-g", group, "-m", DIRECTORY_MODE, "--", *directories]


def release_steps(where, found):
    """Which of the release's building tasks the changes need: the copy of the application
    (a file or directory of the release differs), the version file, the virtualenv. A run
    that changes only the configuration builds nothing."""
    release = where["release_dir"]
    version_file = f"{release}/{where['release_env']}"
    targets = written(found)
    return {
        "copy_release": any(
            target == release or (target.startswith(release + "/") and target != version_file)
            for target in targets
        ),
        "write_release_env": version_file in targets,
        "build_venv": any(change.kind == "virtualenv" for change in found),
    }


def release_change(target, current):
    if target == current:
        return []
    live = f"release {json.dumps(current)} is live" if current else "no release is live"
    return [Change("release", target, f"switch current to it ({live})")]


def prune_changes(releases_dir, remove):
    return [Change("prune", f"{releases_dir}/{name}", "beyond app_releases_kept") for name in remove]


# What each configuration file is written from: named when a change of it fails.
CONFIG_SOURCES = {
    "unit": "the unit (from app_command, app_python, app_user, app_group, app_description,"
    " app_stop_timeout, app_writable_paths, app_memory_deny_write_execute)",
    "env": "the environment file (from app_environment, app_secret_environment, app_database, app_port)",
}


def config_changed(found, where):
    """Which configuration files (CONFIG_SOURCES' keys) this run's changes rewrite."""
    paths = written(found)
    return [key for key, path in (("unit", where["unit_file"]), ("env", where["env_file"])) if path in paths]


def restore_messages(name, unit, target, current, running, changed):
    """What the play says when release ``target`` (or the new configuration ``changed`` of
    the live one) fails to start or its health check. The transaction that switched to it
    puts the previous files and ``current`` back and, when the service ran (``running``),
    restarts it on them: ``previous`` is the release it then runs again."""
    previous = current if running else None
    shown = json.dumps(previous)
    if changed and target == current:
        headline = f"The new configuration of {name} on release {json.dumps(target)} is unhealthy"
    else:
        headline = f"Release {json.dumps(target)} of {name} is unhealthy"
    if changed:
        headline += "; this run changed " + " and ".join(CONFIG_SOURCES[key] for key in changed)
    same = "with the configuration it ran with" if changed else "as before"
    return {
        "previous": previous,
        "headline": headline,
        "restored": f"Restored: current points to release {shown} again, {same},"
        " and it passed its health check.",
        "unhealthy": f"current points to release {shown} again, {same}, but it failed its health check too",
        "stopped": f"{unit} was not running before: it is stopped again, and its files are as they were.",
        "unrestored": "Its previous files could not all be put back (above): fix them, then run the role.",
        "unchanged": "This run changed neither the release nor its configuration, so there is nothing"
        f" to return to: {unit} is stopped.",
    }


def changes(
    wanted_packages, package_states, account, specs, files, venv_missing, release, unit, unit_state, prune
):
    """Every change of a run, in the order the applying tasks make them."""
    return [
        *package_changes(wanted_packages, package_states),
        *account,
        *file_changes(specs, files),
        *venv_missing,
        *release,
        # enabling is the link among the files (wants_link)
        *unit_changes(unit, unit_state, enabled=False),
        *prune,
    ]


def restart(found, where, target, version, current, unit_state):
    """Whether the service restarts: another release goes live, the live release's files,
    the environment file or the unit change, or it is not running."""
    release = where["release_dir"] + "/"
    if config_changed(found, where):
        return True
    for change in found:
        if change.kind == "release":
            return True
        if target == version and (
            (change.kind == "file" and change.target.startswith(release)) or change.kind == "virtualenv"
        ):
            return True
    return target != current or (unit_state or {}).get("active") != "active"
