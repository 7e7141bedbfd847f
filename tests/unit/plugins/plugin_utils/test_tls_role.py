# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.tls decides (_tls_role.py): input + inspection -> changes and the values
the applying tasks use."""

from __future__ import annotations

import base64
import copy

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _tls_role as role

T = 1_780_000_000.0
DAY = 86400
CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
DEBIAN = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}
DIR = {"kind": "directory", "owner": "root", "group": "root", "mode": "0755"}
KEY = {
    "kind": "file",
    "owner": "root",
    "group": "groundwork-tls",
    "mode": "0640",
    "type": "ecdsa_p256",
    "matches": True,
}
INSTALLED = dict.fromkeys([*role.PACKAGES, role.CRYPTOGRAPHY, "certbot"], "installed")
RUNNING = {
    role.TIMER: {"enabled": "enabled", "active": "active"},
    role.CERTBOT_TIMER: {"enabled": "masked", "active": "inactive"},
}
STOPPED = {
    role.TIMER: {"enabled": "disabled", "active": "inactive"},
    role.CERTBOT_TIMER: {"enabled": "disabled", "active": "inactive"},
}


class Context:
    def __init__(self, check_mode=False, hostvars=None, groups=None):
        self.check_mode = check_mode
        self.host = "web1"
        self.hostvars = hostvars or {}
        self.groups = groups or {}

    def render(self, template, **extra):
        return f"rendered {template}\n"

    def read_file(self, name):
        return f"file {name}\n"


def inputs(**changes):
    values = {
        "tls_certificates": [
            {"name": "intranet", "domains": ["intranet.example.lan"], "provider": "internal_ca"},
        ],
        "tls_internal_ca_host": "ca.example.lan",
        "tls_internal_ca_name": "demo",
        "__tls_ca_read": {"content": base64.b64encode(CA.encode()).decode()},
        "playbook_dir": "/nonexistent/playbooks",
    }
    values.update(changes)
    return values


def current(sans, issued_days_ago=10, days=90, **changes):
    info = {
        "sans": sans,
        "key_type": "ecdsa_p256",
        "not_before": T - issued_days_ago * DAY,
        "not_after": T - issued_days_ago * DAY + days * DAY,
        "serial": "01",
        "issuer": "CN=demo internal CA",
        "subject": "CN=x",
        "self_signed": False,
        "issued_by_ca": True,
        "fingerprint": "ab",
        "sha256": "cd",
    }
    found = {
        "dir": dict(DIR),
        "cert": "CERT\n",
        "chain": CA,
        "fullchain": True,
        "placeholder": False,
        "key": dict(KEY),
        "info": info,
        "acme_issued": False,
    }
    found.update(changes)
    return found


def public(path, content, mode="0644", group="root"):
    return {
        path: {
            "state": "file",
            "sha256": digest(content),
            "owner": "root",
            "group": group,
            "mode": mode,
            "uid": 0,
            "gid": 0,
        }
    }


def as_planned_files(name="intranet", cert="CERT\n"):
    files = {}
    directory = f"/etc/ssl/groundwork/{name}"
    files.update(public(f"{directory}/cert.pem", cert))
    files.update(public(f"{directory}/chain.pem", CA))
    files.update(public(f"{directory}/fullchain.pem", cert + CA))
    files.update(public("/usr/local/share/ca-certificates/groundwork-demo.crt", CA))
    for path in (role.ACME_CA_FILE, role.PROGRAM, *role.unit_paths()):
        files[path] = {"state": "absent"}
    return files


def inspection(probe=None, files=None, packages=None, units=None, os_release=None):
    trust = "/usr/local/share/ca-certificates/groundwork-demo.crt"
    return {
        "os": os_release or DEBIAN,
        "files": as_planned_files() if files is None else files,
        "dirs": {role.SPEC_DIR: {}},
        "packages": dict(INSTALLED) if packages is None else packages,
        "units": STOPPED if units is None else units,
        "probe": {
            "cryptography": True,
            # a consumer registered its renewal hook for the certificate
            "hooked": ["intranet"],
            "certificates": {"intranet": current(["intranet.example.lan"])},
            "group": {"exists": True, "members": []},
            "users": {},
            "trust_files": public(trust, CA),
            **(probe or {}),
        },
    }


def decide(values=None, seen=None, check_mode=False):
    context = Context(check_mode)
    model, problems = role.validate(values or inputs(), context)
    assert problems == []
    return role.plan(model, seen or inspection(), context, now=T)


def summary(plan):
    return [str(change) for change in plan.changes]


def test_a_host_as_planned_has_nothing_to_do():
    plan = decide()
    assert summary(plan) == []
    data = plan.result()
    assert data["issue"] == [] and data["hook_names"] == [] and not data["update_trust"]
    assert data["finish_argv"] == []
    assert not data["decide_again"] and not data["decide_issued"]
    assert not plan.secret


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (
            inspection(packages={**INSTALLED, "python3-cryptography": "not-installed"}),
            ["package python3-cryptography: not installed"],
        ),
        (
            inspection(probe={"group": {"exists": False, "members": []}}),
            ["group groundwork-tls: does not exist"],
        ),
        (
            inspection(
                probe={
                    "certificates": {
                        "intranet": current(["intranet.example.lan"], key=dict(KEY, mode="0644"))
                    }
                }
            ),
            ["key /etc/ssl/groundwork/intranet/privkey.pem: owner, group or mode differs"],
        ),
        (
            inspection(
                probe={
                    "certificates": {
                        "intranet": current(["intranet.example.lan"], dir=dict(DIR, mode="0700"))
                    }
                }
            ),
            ["directory /etc/ssl/groundwork/intranet: not a directory of root with mode 0755"],
        ),
        (
            inspection(
                files={
                    **as_planned_files(),
                    **public("/etc/ssl/groundwork/intranet/fullchain.pem", "CERT\n" + CA, mode="0600"),
                }
            ),
            ["file /etc/ssl/groundwork/intranet/fullchain.pem: owner, group or mode differs"],
        ),
        (
            inspection(
                os_release={"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"}
            ),
            [],
        ),
    ],
    ids=["package", "group", "key mode", "directory mode", "file mode", "release"],
)
def test_each_difference_is_one_change(seen, expected):
    plan = decide(seen=seen)
    assert summary(plan) == expected
    if seen["os"]["id"] != "debian":
        assert plan.problems == [
            "groundwork.server.tls supports Debian 12 and 13; this host runs Ubuntu 24.04."
        ]


def test_new_names_reissue_and_the_hooks_of_the_certificate_run():
    values = inputs()
    values["tls_certificates"][0]["domains"].append("new.example.lan")
    plan = decide(values)
    data = plan.result()
    assert summary(plan)[0] == (
        "certificate intranet (internal_ca): issue: names differ"
        " (intranet.example.lan -> intranet.example.lan, new.example.lan)"
    )
    assert [item["name"] for item in data["issue"]] == ["intranet"]
    item = data["issue"][0]
    assert item["signer"] == "ca" and item["key_path"] == "/etc/ssl/groundwork/intranet/privkey.pem.new"
    assert item["subject_alt_name"] == ["DNS:intranet.example.lan", "DNS:new.example.lan"]
    assert item["key"] == {"type": "ECC", "curve": "secp256r1", "size": None}
    assert item["key_usage"] == ["digitalSignature"] and item["generate"]
    assert data["hook_names"] == ["intranet"]
    assert data["decide_issued"] and not data["decide_again"]


def test_after_signing_the_files_hold_the_signed_certificate_and_the_key_moves():
    values = inputs(__tls_phase="issued")
    values["tls_certificates"][0]["domains"].append("new.example.lan")
    entry = {"name": "intranet", "placeholder": False}
    values["__tls_signed_ca"] = {"results": [{"item": {"item": entry}, "certificate": "NEW\n"}]}
    values["__tls_signed_self"] = {"results": [{"item": {"item": {"name": "x"}}, "skipped": True}]}
    data = decide(values).result()
    files = {spec["path"]: spec for spec in data["files"]}
    assert files["/etc/ssl/groundwork/intranet/cert.pem"]["content"] == "NEW\n"
    assert files["/etc/ssl/groundwork/intranet/fullchain.pem"]["content"] == "NEW\n" + CA
    assert data["issued"] == ["intranet"] and data["hook_names"] == ["intranet"]
    assert not data["decide_issued"] and not data["decide_again"]
    # the staged key goes into place; the trust store holds the CA already
    assert data["finish_argv"][3:] == ["sh", "/etc/ssl/groundwork", "privkey.pem.new", "no", "intranet"]


def test_a_missing_ca_in_the_trust_store_rebuilds_it_in_the_same_command():
    trust = "/usr/local/share/ca-certificates/groundwork-demo.crt"
    files = {path: state for path, state in as_planned_files().items() if path != trust}
    data = decide(seen=inspection(probe={"trust_files": {}}, files=files)).result()
    assert data["update_trust"] and data["issued"] == []
    assert data["finish_argv"][3:] == ["sh", "/etc/ssl/groundwork", "privkey.pem.new", "yes"]


def test_the_hooks_run_only_for_certificates_a_consumer_registered_hooks_for():
    values = inputs(__tls_phase="issued")
    values["tls_certificates"][0]["domains"].append("new.example.lan")
    entry = {"name": "intranet", "placeholder": False}
    values["__tls_signed_ca"] = {"results": [{"item": {"item": entry}, "certificate": "NEW\n"}]}
    # a first run: the consumer (nginx, a database) registers its hook after this role
    data = decide(values, inspection(probe={"hooked": []})).result()
    assert data["issued"] == ["intranet"] and data["hook_names"] == []


def test_signed_results_count_only_after_signing():
    values = inputs()
    values["__tls_signed_ca"] = {
        "results": [{"item": {"item": {"name": "intranet"}}, "certificate": "OLD\n"}]
    }
    assert decide(values).result()["issued"] == []


def test_a_new_internal_ca_is_created_and_decided_again():
    values = inputs(__tls_ca_read={"failed": True, "msg": "file not found"})
    plan = decide(values)
    data = plan.result()
    assert (
        summary(plan)[0]
        == "internal CA demo internal CA: does not exist in ~/.local/share/groundwork/ca on ca.example.lan"
    )
    assert data["ca"]["create"] and data["decide_again"]
    assert "certificate intranet (internal_ca): issue: the internal CA is new" in summary(plan)


NEW_CA = "-----BEGIN CERTIFICATE-----\nNEW CA\n-----END CERTIFICATE-----\n"
NOT_FOUND = {"failed": True, "msg": "file not found"}


def test_the_validation_tells_that_the_ca_is_created_before_the_host_is_read():
    context = Context()
    model, problems = role.validate(inputs(__tls_ca_read=NOT_FOUND), context)
    assert problems == []
    ca = role.validated(model, context)["ca"]
    assert ca["create"] and (ca["host"], ca["dir"]) == ("ca.example.lan", "~/.local/share/groundwork/ca")
    model, problems = role.validate(inputs(), context)
    assert not role.validated(model, context)["ca"]["create"]


@pytest.mark.parametrize(
    ("valid", "expected"),
    [
        ({"ca": {"create": True}}, NEW_CA),
        # registered by an earlier run of the role in the play, or skipped (a later phase, check mode)
        ({"ca": {"create": False}}, None),
        ({"skipped": True}, None),
    ],
    ids=["created just before", "not created now", "validation skipped"],
)
def test_a_ca_created_just_before_the_plan_is_planned_with_at_once(valid, expected):
    values = inputs(
        __tls_ca_read=NOT_FOUND,
        __tls_valid=valid,
        __tls_ca_made={"changed": True, "state": "created", "certificate": NEW_CA},
    )
    data = decide(values).result()
    assert data["ca"]["pem"] == expected
    assert data["ca"]["create"] is (expected is None)
    assert data["decide_again"] is (expected is None)


@pytest.mark.parametrize(
    ("others", "trust", "create"),
    [
        # another host of the inventory has an internal_ca certificate: created in this run,
        # so that this host trusts it in the same run
        ({"db1": [{"name": "db", "provider": "internal_ca"}]}, True, True),
        ({"db1": [{"name": "db", "provider": "selfsigned"}]}, True, False),
        ({"db1": [{"name": "db", "provider": "internal_ca"}]}, False, False),
        ({"db1": "{{ not templated }}"}, True, False),
        ({}, True, False),
    ],
)
@pytest.mark.parametrize("limited", [False, True], ids=["whole inventory", "limited to this host"])
def test_a_host_that_only_trusts_the_ca_gets_it_in_the_same_run(others, trust, create, limited):
    # The inventory decides, not the play: a run limited to this host (--limit, a job slice)
    # creates and trusts the CA as a run of the whole inventory does.
    values = inputs(
        tls_certificates=[],
        tls_trust_internal_ca=trust,
        __tls_ca_read={"failed": True, "msg": "file not found"},
        ansible_play_hosts=["web1"] if limited else ["web1", *others],
    )
    hostvars = {"web1": {"tls_certificates": []}}
    hostvars.update({name: {"tls_certificates": value} for name, value in others.items()})
    context = Context(hostvars=hostvars, groups={"all": ["web1", "ca.example.lan", *others]})
    model, problems = role.validate(values, context)
    assert problems == []
    data = role.plan(model, inspection(), context, now=T).result()
    assert data["ca"]["create"] is create


@pytest.mark.parametrize(
    ("certificates", "members", "created"),
    [([], [], False), ([], ["www-data"], True), (None, [], True)],
    ids=["trusts only", "consuming user", "certificate"],
)
def test_the_key_group_only_where_keys_are_read(certificates, members, created):
    values = inputs(tls_key_group_members=members)
    if certificates is not None:
        values["tls_certificates"] = certificates
    seen = inspection(probe={"group": {"exists": False, "members": []}, "users": {"www-data": True}})
    plan = decide(values, seen)
    assert plan.result()["group_create"] is created
    assert ("group groundwork-tls: does not exist" in summary(plan)) is created


def test_check_mode_on_a_fresh_host_predicts_and_guards_what_cannot_run():
    values = inputs(
        __tls_ca_read={"failed": True, "msg": "file not found"},
        tls_certificates=[{"name": "shop", "domains": ["shop.example.com"]}],
        tls_key_group_members=["www-data"],
    )
    fresh = inspection(
        probe={
            "cryptography": False,
            "certificates": {"shop": {"dir": None, "cert": None, "key": None, "placeholder": False}},
            "group": {"exists": False, "members": []},
            "users": {"www-data": False},
            "trust_files": {},
        },
        files={},
        packages={},
        units={
            role.TIMER: {"enabled": "unknown", "active": "inactive"},
            role.CERTBOT_TIMER: {"enabled": "unknown", "active": "inactive"},
        },
    )
    plan = decide(values, fresh, check_mode=True)
    data = plan.result()
    assert data["packages_report"] and not data["packages_install"]
    assert data["key_group_now"] == "root" and data["group_members"] == []
    assert data["missing_users"] == ["www-data"]
    assert data["timer"]["start"] is False and data["timer"]["mask_certbot"] is False
    assert data["issue"][0]["placeholder"] and not data["issue"][0]["generate"]
    assert data["pending"] == ["shop"]
    assert not data["decide_again"] and not data["decide_issued"]
    assert not data["ca"]["create"]  # no internal_ca certificate here
    assert {"service groundwork-tls-renew.timer: not enabled (unknown), not running (inactive)"} <= set(
        summary(plan)
    )


def test_acme_installs_the_renewal_program_and_timer():
    values = inputs(tls_certificates=[{"name": "shop", "domains": ["shop.example.com"]}])
    seen = inspection(
        probe={"certificates": {"shop": current(["shop.example.com"], acme_issued=True)}},
        files={},
        packages=dict.fromkeys([*role.PACKAGES, role.CRYPTOGRAPHY], "installed"),
    )
    plan = decide(values, seen)
    data = plan.result()
    files = {spec["path"]: spec for spec in data["files"]}
    assert files[role.PROGRAM]["content"] == "file groundwork-tls-renew\n"
    assert files[f"{role.UNIT_DIR}/{role.TIMER}"]["content"] == "rendered groundwork-tls-renew.timer.j2\n"
    assert "package certbot: not installed" in summary(plan)
    assert data["timer"]["start"] and data["timer"]["reload"] and data["timer"]["mask_certbot"]
    assert data["packages_install"] and data["decide_again"]


def test_the_timer_stops_when_no_acme_certificate_is_left():
    timer = f"{role.UNIT_DIR}/{role.TIMER}"
    files = {**as_planned_files(), **public(role.PROGRAM, "old\n", mode="0755"), **public(timer, "old\n")}
    plan = decide(seen=inspection(units=RUNNING, files=files))
    data = plan.result()
    assert data["timer"]["stop"] and data["timer"]["removed"]
    assert "service groundwork-tls-renew.timer: enabled, but no ACME certificate is left" in summary(plan)
    assert f"file {role.PROGRAM}: not part of the configuration" in summary(plan)


def test_a_provided_key_makes_the_plan_secret():
    values = inputs(tls_certificates=[])
    values["tls_certificates"] = []
    model, _problems = role.validate(values, Context())
    model = copy.deepcopy(model)
    model["certificates"] = [
        {
            "name": "vendor",
            "provider": "provided",
            "domains": ["vendor.example.com"],
            "key_type": "ecdsa_p256",
            "days": None,
            "certificate": "LEAF\n",
            "chain": "",
            "private_key": "KEY\n",
        }
    ]
    seen = inspection(
        probe={"certificates": {"vendor": {"dir": dict(DIR), "cert": "LEAF\n", "key": dict(KEY)}}}
    )
    plan = role.plan(model, seen, Context(), now=T)
    assert plan.secret
    key = next(spec for spec in plan.data["files"] if spec["path"].endswith("vendor/privkey.pem"))
    assert key["secret"] is True


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"tls_certificates": [{"name": "a", "domains": ["a.example.com"], "provider": "private_ca"}]},
            "tls_certificates[0] (a): provider 'private_ca' is not a provider"
            " (expected one of acme, internal_ca, selfsigned, provided)",
        ),
        (
            {"tls_key_group": "Bad Group"},
            "tls_key_group: 'Bad Group' is not a valid group name"
            " (expected a-z, 0-9, '_' and '-', starting with a-z or '_', at most 32)",
        ),
        ({"tls_certificates": {"name": "a"}}, "tls_certificates must be a list of certificates"),
    ],
)
def test_bad_input_is_refused_naming_the_variable(changes, problem):
    model, problems = role.validate(inputs(**changes), Context())
    assert model is None
    assert problems == [problem]


def test_the_request_asks_for_every_file_the_role_may_write():
    model, _problems = role.validate(inputs(), Context())
    request = role.request(model, Context())
    assert "/etc/ssl/groundwork/intranet/.placeholder" in request["files"]
    assert "/usr/local/share/ca-certificates/groundwork-demo.crt" in request["files"]
    assert request["packages"] == [*role.PACKAGES, role.CRYPTOGRAPHY]
    assert request["probe"]["ca"] == CA
    assert request["units"] == [role.TIMER, role.CERTBOT_TIMER]


@pytest.mark.parametrize(
    ("values", "cryptography"),
    [
        # certificates are made and read here
        ({}, True),
        # only the trust store: nothing here needs cryptography
        ({"tls_certificates": []}, False),
        # the internal CA's key lives here (internal_ca runs here)
        ({"tls_certificates": [], "tls_internal_ca_host": "web1"}, True),
        # the CA lives on another host, or on the controller
        ({"tls_certificates": [], "tls_internal_ca_host": "ca1"}, False),
        ({"tls_certificates": [], "tls_internal_ca_host": "localhost"}, False),
    ],
)
def test_python3_cryptography_only_where_certificates_are_made_or_read(values, cryptography):
    model, problems = role.validate(inputs(**values), Context())
    assert problems == []
    packages = role.request(model, Context())["packages"]
    assert (role.CRYPTOGRAPHY in packages) is cryptography
    assert [name for name in packages if name != role.CRYPTOGRAPHY] == list(role.PACKAGES)
    plan = decide(inputs(**values), inspection(packages=dict.fromkeys(role.PACKAGES, "installed")))
    assert ("package python3-cryptography: not installed" in summary(plan)) is cryptography


def test_the_ca_on_the_controller_is_read_there(tmp_path):
    (tmp_path / "ca.crt").write_text(CA)
    model, _problems = role.validate(
        inputs(tls_internal_ca_host="localhost", tls_internal_ca_dir=str(tmp_path), __tls_ca_read=None),
        Context(),
    )
    assert model["ca_pem"] == CA and model["settings"]["ca_local"]
