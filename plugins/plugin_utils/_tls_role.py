# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.tls decides here (run by groundwork.server.role_plan, role: tls).

- ``validate``: the certificates and settings (_tls_model.py), and the internal CA's
  certificate: read on the controller, or from ``__tls_ca_read`` (tasks/decide.yml reads it
  on a designated CA host first) or from ``__tls_ca_made`` (the CA created in this run).
- ``validated`` (``step: validate``): the internal CA and whether it is to be created;
  tasks/decide.yml creates it before the host is read, so the plan that follows has it.
- ``request``: one inspection - the files the role may write, the renewal units, the
  packages, and the probe (_probes/tls.py: certificates, keys, key group, trust store).
- ``plan``: what each certificate needs (_tls_plan.py), the files (_tls_files.py, compared
  by _plan.file_changes), packages, key group, internal CA, renewal timer; and the values
  the applying tasks use (tasks/apply.yml).

The apply step decides again (tasks/decide.yml with ``__tls_phase``) after it installed
packages or created the internal CA in tasks/apply.yml (``installed``: now the certificates
can be read; the CA is normally created before the first plan already), and
after it issued certificates (``issued``: the files then hold what was signed, taken from
``__tls_signed_self`` and ``__tls_signed_ca``).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _tls_role
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import time

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    file_changes,
    missing_packages,
    package_changes,
    release_problem,
    unit_changes,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_files import tls_files
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_model import APT_CACHE_MAX, tls_model
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_plan import tls_plan

ETC = posixpath.dirname(contracts.HOOK_DIR)
SPEC_DIR = contracts.ACME_SPECS_DIR
ACME_CA_FILE = f"{ETC}/acme-ca.pem"
CERTBOT_LIVE = f"{ETC}/certbot/live"
PROGRAM = "/usr/local/sbin/groundwork-tls-renew"
PROGRAM_FILE = "groundwork-tls-renew"
UNIT_DIR = "/etc/systemd/system"
SERVICE = contracts.RENEW_SERVICE
TIMER = SERVICE.rsplit(".", 1)[0] + ".timer"
CERTBOT_TIMER = "certbot.timer"
TRUST_DIR = "/usr/local/share/ca-certificates"
TRUST_PREFIX = "groundwork-"
# A new key is generated next to the old one and renamed over it once its certificate is
# written, so privkey.pem never belongs to a certificate that is not there yet.
STAGED_KEY = "privkey.pem.new"
# After the certificates are written (tasks/files.yml), in one command: the staged keys renamed
# into place next to them, then the trust store rebuilt when the CA certificate in it changed.
# Arguments: the certificate directory, the staged key's name, "yes" or "no" (the trust store),
# the names of the issued certificates.
FINISH_SCRIPT = (
    'dir="$1"; staged="$2"; trust="$3"; shift 3; '
    'for name; do mv -f -- "$dir/$name/$staged" "$dir/$name/privkey.pem" || exit 1; done; '
    'if [ "$trust" = yes ]; then exec /usr/sbin/update-ca-certificates; fi'
)
PLACEHOLDER_DAYS = 90
CA_DAYS = 3650
LOCAL = ("localhost", "127.0.0.1")
PACKAGES = ("openssl", "ca-certificates", "python3-apt")
# Where certificates are made or read: a host with certificates, and the internal CA's host.
CRYPTOGRAPHY = "python3-cryptography"
KEY_TYPES = {
    "ecdsa_p256": {"type": "ECC", "curve": "secp256r1", "size": None},
    "ecdsa_p384": {"type": "ECC", "curve": "secp384r1", "size": None},
    "rsa2048": {"type": "RSA", "curve": None, "size": 2048},
    "rsa3072": {"type": "RSA", "curve": None, "size": 3072},
    "rsa4096": {"type": "RSA", "curve": None, "size": 4096},
}
# The role's defaults (defaults/main.yml), for a variable a play does not define.
DEFAULTS = {
    "tls_certificates": [],
    "tls_acme_directory": "letsencrypt",
    "tls_acme_ca_bundle": "",
    "tls_acme_email": "",
    "tls_acme_webroot": "/var/lib/groundwork/acme",
    "tls_renew_fraction": 3,
    "tls_internal_ca_name": "groundwork",
    "tls_internal_ca_host": "localhost",
    "tls_internal_ca_dir": "~/.local/share/groundwork/ca",
    "tls_trust_internal_ca": True,
    "tls_key_group": contracts.TLS_GROUP,
    "tls_key_group_members": [],
    "tls_apt_cache_valid_time": 3600,
}
PHASES = (None, "installed", "issued")


def _get(inputs, name, default=None):
    return inputs[name] if name in inputs else DEFAULTS.get(name, default)


# --- validate ----------------------------------------------------------------------------


def ca_from_read(result):
    """The CA certificate from a slurp result of tasks/decide.yml, or None (not read, or absent)."""
    if not isinstance(result, dict) or not result.get("content"):
        return None
    try:
        return base64.b64decode(result["content"]).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def ca_from_creation(valid, result):
    """The CA certificate groundwork.server.internal_ca returned (``result``) when tasks/decide.yml
    created it just before this plan, or None. ``valid``, the validation registered in the same
    decision (skipped in later phases and in check mode), tells whether it did: a creation
    registered by an earlier run of the role in the play does not count."""
    created = isinstance(valid, dict) and (valid.get("ca") or {}).get("create") is True
    certificate = result.get("certificate") if created and isinstance(result, dict) else None
    return certificate if isinstance(certificate, str) and certificate else None


def ca_on_controller(directory):
    """The CA certificate kept on the controller, or None when it does not exist yet."""
    path = os.path.join(os.path.expanduser(directory), "ca.crt")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def issued_from(results):
    """{name: action} of the certificates signed in this run, from the registered results of
    the signing tasks (tasks/issue.yml)."""
    issued = {}
    for registered in results:
        for result in (registered or {}).get("results") or [] if isinstance(registered, dict) else []:
            entry = ((result or {}).get("item") or {}).get("item") or {}
            if result.get("certificate") and entry.get("name"):
                issued[entry["name"]] = {
                    "certificate": result["certificate"],
                    "action": "placeholder" if entry.get("placeholder") else "issue",
                }
    return issued


def inventory_wants_ca(context):
    """Whether a host of the inventory has an internal_ca certificate (the CA is then created in
    this run, and hosts that only trust it get its certificate in the same run). The inventory,
    not the play: a run limited to some hosts (--limit, a job slice) decides as a run of the
    whole inventory does."""
    for name in (getattr(context, "groups", None) or {}).get("all") or []:
        try:
            wanted = context.hostvars[name].get("tls_certificates") or []
        except (KeyError, TypeError):
            continue
        if any(isinstance(cert, dict) and cert.get("provider") == "internal_ca" for cert in wanted):
            return True
    return False


def truth(value):
    """A boolean, or a word Ansible reads as one (how extra vars hand it over); None otherwise."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    try:
        return boolean(value, strict=True)
    except TypeError:
        return None


def setting_problems(inputs):
    """The settings tls_model does not see: tls_trust_internal_ca, tls_apt_cache_valid_time."""
    check = Checker()
    trust = _get(inputs, "tls_trust_internal_ca")
    if truth(trust) is None:
        check.add("tls_trust_internal_ca", None, trust, "must be true or false")
    check.integer(
        "tls_apt_cache_valid_time",
        None,
        _get(inputs, "tls_apt_cache_valid_time"),
        0,
        APT_CACHE_MAX,
        optional=False,
    )
    return check.errors


def inventory_of(context):
    """The inventory's host names, or None when the context does not know them."""
    groups = getattr(context, "groups", None) or {}
    hosts = groups.get("all")
    return None if hosts is None else [*hosts, *(groups.get("ungrouped") or [])]


def validate(inputs, context):
    certificates = _get(inputs, "tls_certificates") or []
    try:
        model = tls_model(
            certificates,
            acme_directory=_get(inputs, "tls_acme_directory"),
            acme_ca_bundle=_get(inputs, "tls_acme_ca_bundle"),
            acme_email=_get(inputs, "tls_acme_email"),
            acme_webroot=_get(inputs, "tls_acme_webroot"),
            renew_fraction=_get(inputs, "tls_renew_fraction"),
            internal_ca_name=_get(inputs, "tls_internal_ca_name"),
            internal_ca_host=_get(inputs, "tls_internal_ca_host"),
            internal_ca_dir=_get(inputs, "tls_internal_ca_dir"),
            key_group=_get(inputs, "tls_key_group"),
            key_group_members=_get(inputs, "tls_key_group_members"),
            protected_dirs=[_get(inputs, "playbook_dir", ""), _get(inputs, "inventory_dir", "")],
            inventory_hosts=inventory_of(context),
        )
    except AnsibleFilterError as exc:
        return None, [str(exc).removeprefix("tls_model: ")]
    problems = model.pop("errors") + setting_problems(inputs)
    if problems:
        return None, problems
    host = _get(inputs, "tls_internal_ca_host")
    local = host in LOCAL
    directory = _get(inputs, "tls_internal_ca_dir")
    phase = _get(inputs, "__tls_phase")
    model["settings"] = {
        "ca_name": _get(inputs, "tls_internal_ca_name"),
        "ca_host": host,
        "ca_local": local,
        # the internal CA's key lives on this host (internal_ca runs here, with cryptography)
        "ca_here": not local and host == getattr(context, "host", None),
        "ca_dir": directory,
        "trust_ca": truth(_get(inputs, "tls_trust_internal_ca")),
        "inventory_wants_ca": inventory_wants_ca(context),
        "key_group": _get(inputs, "tls_key_group"),
        "members": list(_get(inputs, "tls_key_group_members") or []),
        "apt_cache_valid_time": int(_get(inputs, "tls_apt_cache_valid_time")),
        "renew_fraction": int(_get(inputs, "tls_renew_fraction")),
    }
    model["ca_pem"] = (
        ca_on_controller(directory)
        if local
        else ca_from_creation(_get(inputs, "__tls_valid"), _get(inputs, "__tls_ca_made"))
        or ca_from_read(_get(inputs, "__tls_ca_read"))
    )
    model["phase"] = phase if phase in PHASES else None
    model["issued"] = (
        issued_from([_get(inputs, "__tls_signed_self"), _get(inputs, "__tls_signed_ca")])
        if model["phase"] == "issued"
        else {}
    )
    return model, []


def validated(model, context):
    """What ``step: validate`` returns (tasks/decide.yml): the internal CA, and whether it is
    created before the host is read, so that one inspection plans with it."""
    return {"ca": ca_step(model, context.check_mode)[1]}


# --- request -----------------------------------------------------------------------------


def has_acme(model):
    return any(cert["provider"] == "acme" for cert in model["certificates"])


def wanted_packages(model):
    """openssl and the trust store everywhere; python3-cryptography where certificates are made
    or read (this host has certificates, or is the internal CA's host); certbot for ACME."""
    crypto = bool(model["certificates"]) or model["settings"]["ca_here"]
    return [*PACKAGES, *([CRYPTOGRAPHY] if crypto else []), *(["certbot"] if has_acme(model) else [])]


def trust_file(settings):
    return f"{TRUST_DIR}/{TRUST_PREFIX}{settings['ca_name']}.crt"


def unit_paths():
    return [f"{UNIT_DIR}/{SERVICE}", f"{UNIT_DIR}/{TIMER}"]


def observed_files(model):
    """Every file the role may write: their states tell whether the files step changes anything."""
    paths = []
    for cert in model["certificates"]:
        directory = contracts.certificate_dir(cert["name"])
        paths += [
            posixpath.join(directory, name) for name in (*contracts.CERTIFICATE_FILES, contracts.PLACEHOLDER)
        ]
        if cert["provider"] == "acme":
            paths.append(f"{SPEC_DIR}/{cert['name']}.json")
    return [*paths, ACME_CA_FILE, trust_file(model["settings"]), PROGRAM, *unit_paths()]


def request(model, context):
    del context
    settings = model["settings"]
    return {
        "files": observed_files(model),
        "dirs": [SPEC_DIR],
        "packages": wanted_packages(model),
        "units": [TIMER, CERTBOT_TIMER],
        "probe": {
            "dir": contracts.CERTIFICATE_DIR,
            "names": [cert["name"] for cert in model["certificates"]],
            "ca": model["ca_pem"],
            "certbot_live": CERTBOT_LIVE,
            "placeholder": contracts.PLACEHOLDER,
            "trust_dir": TRUST_DIR,
            "trust_prefix": TRUST_PREFIX,
            "hook_dir": contracts.HOOK_DIR,
            "group": settings["key_group"],
            "members": settings["members"],
        },
    }


# --- plan: pure functions ----------------------------------------------------------------


def group_step(settings, host, check_mode, wanted=True):
    """(changes, data) of the key group: created when missing on a host that has private keys
    or consuming users (``wanted``; a host that only trusts the CA needs none); the consuming
    users that exist join it (a user that does not exist yet joins on a later run, once
    installed)."""
    group = host.get("group") or {"exists": False, "members": []}
    users = host.get("users") or {}
    name = settings["key_group"]
    changes = []
    wanted = wanted or bool(settings["members"])
    if not group.get("exists") and wanted:
        changes.append(Change("group", name, "does not exist"))
    joining = [
        user for user in settings["members"] if users.get(user) and user not in group.get("members", [])
    ]
    changes += [Change("group member", user, f"not in {name}") for user in joining]
    exists = bool(group.get("exists"))
    return changes, {
        "key_group": name,
        # In check mode on a fresh host the group does not exist yet: keys stay root's.
        "key_group_now": name if exists or not check_mode else "root",
        "group_create": not exists and wanted,
        "group_members": joining if exists or not check_mode else [],
        "missing_users": [user for user in settings["members"] if not users.get(user)],
    }


def ca_step(model, check_mode):
    """(changes, data) of the internal CA: created when it does not exist yet and this host has
    an internal_ca certificate, or trusts the CA and another host of the inventory has one (so it
    trusts it in the same run); trusted when it exists (or, in check mode, will)."""
    settings = model["settings"]
    wanted = any(cert["provider"] == "internal_ca" for cert in model["certificates"]) or (
        settings["trust_ca"] and settings.get("inventory_wants_ca", False)
    )
    pem = model["ca_pem"]
    common_name = f"{settings['ca_name']} internal CA"
    create = wanted and pem is None
    changes = []
    if create:
        changes.append(
            Change(
                "internal CA", common_name, f"does not exist in {settings['ca_dir']} on {settings['ca_host']}"
            )
        )
    pending = create and check_mode
    return changes, {
        "host": settings["ca_host"],
        "local": settings["ca_local"],
        "dir": settings["ca_dir"],
        "common_name": common_name,
        "days": CA_DAYS,
        "create": create,
        "pem": pem,
        "trust": settings["trust_ca"] and (pem is not None or pending),
    }


def csr_values(entry):
    """What the certificate signing request of an issued certificate says."""
    domains = entry["domains"]
    return {
        # The subject's CN is limited to 64 characters; the names are in the SAN extension.
        "common_name": domains[0] if len(domains[0]) <= 64 else None,
        "subject_alt_name": [f"DNS:{domain}" for domain in domains],
        "key_usage": ["digitalSignature", "keyEncipherment"]
        if entry["key_type"].startswith("rsa")
        else ["digitalSignature"],
    }


def issue_items(decided, cryptography, check_mode):
    """The certificates to issue, with the key to generate and the request to sign."""
    items = []
    for entry in decided["issue"]:
        directory = contracts.certificate_dir(entry["name"])
        items.append(
            {
                **entry,
                **csr_values(entry),
                "key": KEY_TYPES[entry["key_type"]],
                "key_path": posixpath.join(directory, STAGED_KEY),
                # community.crypto needs python3-cryptography, which a fresh host gets in a real
                # run; in check mode a missing directory cannot hold the key either.
                "generate": not check_mode or (cryptography and entry["name"] not in decided["dirs"]),
            }
        )
    return items


def certificate_changes(decided, host):
    changes = []
    for entry in decided["certificates"]:
        action, reasons = entry["action"], entry["reasons"]
        if action not in ("keep", "acme", "write") or reasons:
            target = f"{entry['name']} ({entry['provider']})"
            changes.append(Change("certificate", target, f"{action}: {'; '.join(reasons)}"))
    found = host.get("certificates") or {}
    for name in decided["dirs"]:
        missing = not (found.get(name) or {}).get("dir")
        reason = "does not exist" if missing else "not a directory of root with mode 0755"
        changes.append(Change("directory", contracts.certificate_dir(name), reason))
    for name in decided["key_attributes"]:
        changes.append(
            Change("key", contracts.certificate_file(name, "privkey"), "owner, group or mode differs")
        )
    for name in decided["pending"]:
        changes.append(Change("acme", name, "the renewal program obtains it now"))
    return changes


def changed_names(changes, issued):
    """The certificates whose files change: their consumers' renewal hooks run."""
    names = set(issued)
    for change in changes:
        directory, base = posixpath.split(change.target)
        if posixpath.dirname(directory) == contracts.CERTIFICATE_DIR and base in contracts.CERTIFICATE_FILES:
            names.add(posixpath.basename(directory))
    return sorted(names)


def finish_argv(issued, update_trust):
    """The command that puts the issued keys in place and updates the trust store, or [] when
    neither is to do."""
    if not issued and not update_trust:
        return []
    flag = "yes" if update_trust else "no"
    return ["/bin/sh", "-c", FINISH_SCRIPT, "sh", contracts.CERTIFICATE_DIR, STAGED_KEY, flag, *issued]


def timer_step(acme, states, unit_files_change, missing, check_mode):
    """(changes, data) of the renewal timer (ours runs, certbot's is masked) or its removal."""
    timer = states.get(TIMER) or {}
    certbot = states.get(CERTBOT_TIMER) or {}
    changes = []
    data = {
        "name": TIMER,
        "start": False,
        "stop": False,
        "mask_certbot": False,
        "reload": False,
        "removed": False,
    }
    if acme:
        changes += unit_changes(TIMER, timer)
        data["start"] = bool(unit_files_change or changes) and not (
            # In check mode the unit files do not exist yet on a fresh host.
            check_mode and timer.get("enabled") not in ("enabled", "disabled")
        )
        data["reload"] = unit_files_change
        if certbot.get("enabled") != "masked":
            changes.append(Change("service", CERTBOT_TIMER, "not masked (only groundwork-tls-renew renews)"))
            data["mask_certbot"] = not (check_mode and "certbot" in missing)
    else:
        if timer.get("enabled") == "enabled":
            changes.append(Change("service", TIMER, "enabled, but no ACME certificate is left"))
            data["stop"] = True
        # The unit files go: systemd forgets them.
        data["removed"] = unit_files_change
    return changes, data


def plan(model, inspection, context, now=None):
    result = Plan()
    problem = release_problem("tls", inspection.get("os") or {})
    if problem:
        result.problems.append(problem)
        return result
    check_mode = context.check_mode
    settings = model["settings"]
    host = inspection.get("probe") or {}
    acme = has_acme(model)

    packages = wanted_packages(model)
    missing = missing_packages(packages, inspection.get("packages"))
    result.extend(package_changes(packages, inspection.get("packages")))

    changes, ca = ca_step(model, check_mode)
    result.extend(changes)
    changes, group = group_step(settings, host, check_mode, wanted=bool(model["certificates"]))
    result.extend(changes)

    issued = model["issued"]
    decided = tls_plan(
        model["certificates"],
        host,
        ca_certificate=ca["pem"],
        renew_fraction=settings["renew_fraction"],
        key_group=settings["key_group"],
        placeholder_days=PLACEHOLDER_DAYS,
        now=time.time() if now is None else now,
        forced={name: done["action"] for name, done in issued.items()},
    )
    result.extend(certificate_changes(decided, host))

    texts = {"program_text": None, "unit_texts": {}}
    if acme:
        texts = {
            "program_text": context.read_file(PROGRAM_FILE),
            "unit_texts": {SERVICE: context.render(f"{SERVICE}.j2"), TIMER: context.render(f"{TIMER}.j2")},
        }
    files = tls_files(
        decided,
        model=model,
        host=host,
        issued={name: done["certificate"] for name, done in issued.items()},
        options={
            "dir": contracts.CERTIFICATE_DIR,
            "spec_dir": SPEC_DIR,
            "acme_ca_file": ACME_CA_FILE,
            "trust_file": trust_file(settings),
            "program": PROGRAM,
            "unit_dir": UNIT_DIR,
            "units": [SERVICE, TIMER],
            "ca": ca["pem"],
            "trust": ca["trust"],
            "has_acme": acme,
            "key_group": settings["key_group"],
            "key_group_now": group["key_group_now"],
            **texts,
        },
    )
    observed = {**(inspection.get("files") or {}), **(host.get("trust_files") or {})}
    written = file_changes(files, observed, owned_dirs=[SPEC_DIR], entries=inspection.get("dirs"))
    result.extend(written)
    targets = {change.target for change in written}
    trust_paths = {trust_file(settings), *(host.get("trust_files") or {})}

    changes, timer = timer_step(
        acme, inspection.get("units") or {}, bool(targets & set(unit_paths())), missing, check_mode
    )
    result.extend(changes)

    items = issue_items(decided, bool(host.get("cryptography")), check_mode)
    update_trust = bool(targets & trust_paths)
    result.secret = any(cert["provider"] == "provided" for cert in model["certificates"])
    result.data = {
        "packages": packages,
        "packages_missing": missing,
        # apt's check mode needs python3-apt; on a fresh host the role only reports.
        "packages_install": bool(missing) and not (check_mode and "python3-apt" in missing),
        "packages_report": check_mode and "python3-apt" in missing,
        "apt_cache_valid_time": settings["apt_cache_valid_time"],
        "ca": ca,
        **group,
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "dirs": [contracts.certificate_dir(name) for name in decided["dirs"]],
        "issue": items,
        "staged_key": STAGED_KEY,
        "issued": sorted(issued),
        "key_attributes": [contracts.certificate_file(name, "privkey") for name in decided["key_attributes"]],
        "files": files,
        "spec_dir": SPEC_DIR,
        "update_trust": update_trust,
        "finish_argv": finish_argv(sorted(issued), update_trust),
        "hook_dir": contracts.HOOK_DIR,
        # only certificates a consumer registered hooks for (none before the consumer's role ran)
        "hook_names": [name for name in changed_names(written, issued) if name in host.get("hooked", [])],
        "timer": timer,
        "program": PROGRAM,
        "pending": decided["pending"],
        # Decide again once the packages are in (the certificates can be read) or the CA exists,
        # and once the certificates are signed (their files are then known).
        "decide_again": not check_mode and model["phase"] is None and bool(missing or ca["create"]),
        "decide_issued": not check_mode and model["phase"] != "issued" and bool(items),
    }
    return result
