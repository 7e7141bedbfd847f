# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of groundwork.server.app's validation (issue 16): every input field, driven
with generated values of each class of bad input (tests/unit/bad_values.py), through the entry
point the action plugin calls (_app_role.validate), is refused with a message naming the field,
secrets masked; free text that is accepted (the description, the command, the environment) is
rendered by the real unit template and environment file so that it stays inside its line and
token; and generated valid input is accepted."""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible_collections.groundwork.server.plugins.plugin_utils import _app_role
from ansible_collections.groundwork.server.plugins.plugin_utils._app_model import DATABASE_KEYS, SSLMODES
from bad_values import (
    CONTROL_CHARS,
    PRINTABLE,
    any_text,
    bad_package_names,
    bad_paths,
    control_strings,
    escaping_names,
    non_integers,
    non_strings,
    out_of_range,
    refused,
    with_one_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from role_properties import BAD_VALUES, bad_values_of

ROOT = Path(__file__).parents[4]
INVENTORY = ["app1", "lb1", "lb2", "db1"]
LOWER = string.ascii_lowercase
ALNUM = LOWER + string.digits
WORD = st.text(LOWER, min_size=1, max_size=8)
SOURCE = tempfile.mkdtemp(prefix="gw-properties-app-")
(Path(SOURCE) / "app.py").write_text("print('hello')\n")
(Path(SOURCE) / "deps").mkdir()
(Path(SOURCE) / "deps" / "prod.txt").write_text("# nothing\n")
CACHE = tempfile.mkdtemp(prefix="gw-properties-app-cache-")
DEBIAN = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}
TEMPLATES = jinja2.Environment(  # noqa: S701 (a unit file, not HTML)
    loader=jinja2.FileSystemLoader(str(ROOT / "roles/app/templates")),
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
TEMPLATES.filters["comment"] = lambda text: f"#\n# {text}\n#"


class Context:
    """The action's context: the inventory, and the role's real unit template (rendered with
    the play's variables the template still reads, as the template lookup does)."""

    def __init__(self, variables=None):
        self.check_mode = False
        self.host = "app1"
        self.groups = {"all": INVENTORY, "loadbalancers": ["lb1", "lb2"]}
        self.hostvars = {}
        self.variables = variables or {}

    def render(self, template, **extra):
        return TEMPLATES.get_template(template).render(
            ansible_managed="Ansible managed", **self.variables, **extra
        )


def inputs(**changes):
    values = {
        "playbook_dir": "/nonexistent",
        "app_name": "demo",
        "app_version": "1.0",
        "app_source": SOURCE,
        "app_command": "python3 app.py",
        "app_port": 8000,
        "app_user": "demo",
        "app_group": "demo",
        "app_base_dir": "/srv",
        "app_description": "",
        "app_environment": {"GREETING": "hello"},
        "app_secret_environment": {"TOKEN": "s3cret"},
        "app_database": {"host": "db1", "name": "demo", "user": "demo", "password": "pw"},
        "app_health_path": "/healthz",
        "app_health_retries": 15,
        "app_health_first_retries": 90,
        "app_health_delay": 2,
        "app_health_timeout": 5,
        "app_releases_kept": 3,
        "app_rollback": False,
        "app_writable_paths": [],
        "app_balancers": ["lb1"],
        "app_balancer_server": "10.0.0.5:8000",
        "app_python": None,
        "app_requirements_file": "requirements.txt",
        "app_system_site_packages": False,
        "app_packages": [],
        "app_memory_deny_write_execute": True,
        "app_stop_timeout": 30,
        "app_apt_cache_valid_time": 3600,
    }
    values.update(changes)
    return values


def database(**changes):
    return inputs(app_database={"host": "db1", "name": "demo", "user": "demo", "password": "pw", **changes})


def problems_of(given_inputs):
    model, problems = _app_role.validate(given_inputs, Context(), cache=CACHE)
    # problems of reading the source come with the model: the action refuses either way
    assert model is not None or problems
    return problems


# --- generated bad values, per field and class ----------------------------------------------

UNIT_SYNTAX = " %;\"'\\$/:@.="
NAME_SYNTAX = string.ascii_uppercase + " /\\;:{}\"'$%*?<>|&@!#,=."
ENV_KEY_SYNTAX = "= $`\"'\\-.;:/%{}"
PATH_SYNTAX = " \"'\\%"
URL_SYNTAX = ' "<>\\^`{}|'
BOOLEAN_WORDS = {"yes", "no", "true", "false", "on", "off", "y", "n", "t", "f", "1", "0"}
RESERVED = [
    "nginx",
    "postgres",
    "ssh",
    "sshd",
    "www-data",
    "root",
    "systemd-journald",
    "_apt",
    "mysql",
    "dbus",
]


SEGMENT_ = st.text(LOWER, min_size=1, max_size=8)


def not_boolean():
    return st.one_of(
        st.text(max_size=8).filter(lambda s: s.lower() not in BOOLEAN_WORDS),
        st.integers(),
        st.lists(st.booleans(), min_size=1, max_size=2),
        st.dictionaries(WORD, st.booleans(), min_size=1, max_size=1),
    )


def numbers(low, high):
    return st.one_of(out_of_range(low, high), non_integers())


def strict_numbers(low, high):
    """Where a number must be a number (not a string of digits)."""
    return st.one_of(out_of_range(low, high), non_integers(), st.integers(low, high).map(str))


def truthy_non_strings():
    """Non-strings where a falsy value means "the default"."""
    return st.one_of(
        st.integers(1),
        st.floats(0.5, 1e9),
        st.just(True),
        st.lists(WORD, min_size=1, max_size=2),
        st.dictionaries(WORD, WORD, min_size=1, max_size=1),
    )


def not_a_list():
    return st.one_of(WORD, st.integers(1), st.dictionaries(WORD, WORD, min_size=1, max_size=2))


def under(directory):
    return st.one_of(st.just(directory), WORD.map(lambda s: f"{directory}/{s}"))


CASES = [
    # app_name: the unit <name>.service, /etc/<name>, <base_dir>/<name>, the default account
    (
        "name",
        ("app_name",),
        st.one_of(
            escaping_names(),
            control_strings(LOWER),
            with_one_of(NAME_SYNTAX, LOWER, min_size=1),
            non_strings(),
            st.sampled_from(RESERVED),
            WORD.map(lambda s: "systemd-" + s),
        ),
        lambda v: inputs(app_name=v),
    ),
    # app_user, app_group: accounts the role creates or changes
    (
        "user",
        ("app_user",),
        st.one_of(
            control_strings(LOWER),
            with_one_of(NAME_SYNTAX, LOWER, min_size=1),
            non_strings(),
            st.sampled_from(RESERVED),
        ),
        lambda v: inputs(app_user=v),
    ),
    (
        "group",
        ("app_group",),
        st.one_of(
            control_strings(LOWER),
            with_one_of(NAME_SYNTAX, LOWER, min_size=1),
            non_strings(),
            st.sampled_from(RESERVED),
        ),
        lambda v: inputs(app_group=v),
    ),
    # app_version: a directory name under releases/
    (
        "version",
        ("app_version",),
        st.one_of(
            escaping_names(),
            control_strings(ALNUM),
            with_one_of(UNIT_SYNTAX.replace(".", "") + "`", ALNUM, min_size=1),
            st.booleans(),
            st.lists(WORD, max_size=2),
            st.just(""),
        ),
        lambda v: inputs(app_version=v),
    ),
    # app_source: a path on the controller
    ("source", ("app_source",), st.one_of(control_strings(), non_strings()), lambda v: inputs(app_source=v)),
    # app_command: ExecStart=
    (
        "command",
        ("app_command",),
        st.one_of(
            control_strings(LOWER + " "),
            st.builds(lambda p, w: p + w, st.sampled_from(list("@-:+!|")), WORD),
            with_one_of("\\", LOWER + " ", min_size=1),
            WORD.map(lambda w: f'{w} "unclosed'),
            WORD.map(lambda w: f"{w} 'un closed"),
            WORD.map(lambda w: f'"{w}" arg'),
            WORD.map(lambda w: f"{w} ; rm -rf /"),
            WORD.map(lambda w: f"../../{w}"),
            with_one_of("\u00a0\u3000\u2009", LOWER, min_size=1).map(lambda s: "run " + s),
            st.sampled_from(["", " ", "   "]),
            non_strings(),
        ),
        lambda v: inputs(app_command=v),
    ),
    # app_description: the unit's Description= (free text: one line, '%' doubled)
    (
        "description",
        ("app_description",),
        st.one_of(
            control_strings(PRINTABLE),
            st.text(PRINTABLE, min_size=1, max_size=20).map(lambda s: s + "\\"),
            st.text(PRINTABLE, min_size=257, max_size=300),
            st.integers(1),
            st.lists(WORD, min_size=1, max_size=2),
        ),
        lambda v: inputs(app_description=v),
    ),
    # app_port: 1024 to 65535 (no capabilities)
    ("port", ("app_port",), strict_numbers(1024, 65535), lambda v: inputs(app_port=v)),
    # app_base_dir: where the application directory lives
    (
        "base_dir",
        ("app_base_dir",),
        st.one_of(
            bad_paths(),
            with_one_of(PATH_SYNTAX).map(lambda s: "/srv/" + s),
            st.sampled_from(["/etc", "/usr", "/var/lib", "/tmp", "/run", "/proc", "/root", "/boot"]).flatmap(
                under
            ),
            non_strings(),
        ),
        lambda v: inputs(app_base_dir=v),
    ),
    # app_writable_paths: ReadWritePaths=
    (
        "writable_paths[]",
        ("app_writable_paths[0]",),
        st.one_of(
            bad_paths(),
            with_one_of(PATH_SYNTAX).map(lambda s: "/srv/data/" + s),
            st.sampled_from(["/", "/etc", "/usr", "/boot", "/proc", "/sys", "/dev", "/root"]).flatmap(under),
            non_strings(),
        ),
        lambda v: inputs(app_writable_paths=[v]),
    ),
    ("writable_paths", ("app_writable_paths",), not_a_list(), lambda v: inputs(app_writable_paths=v)),
    # app_requirements_file: relative to the source (read on the controller, pip -r on the host)
    (
        "requirements_file",
        ("app_requirements_file",),
        st.one_of(
            st.sampled_from(["..", "../requirements.txt", "/etc/passwd", "a//b.txt", "./r.txt", "r/", ""]),
            WORD.map(lambda s: f"{s}/../../{s}.txt"),
            SEGMENT_.map(lambda s: f"{s}/requirements.txt"),  # not a file of the source
            control_strings(),
            non_strings(),
        ),
        lambda v: inputs(app_requirements_file=v),
    ),
    # app_packages: Debian package names (apt)
    (
        "packages[]",
        ("app_packages[0]",),
        st.one_of(bad_package_names(), non_strings()),
        lambda v: inputs(app_packages=[v]),
    ),
    ("packages", ("app_packages",), not_a_list(), lambda v: inputs(app_packages=v)),
    # app_environment: EnvironmentFile= names and values
    (
        "environment/key",
        ("app_environment",),
        st.one_of(
            with_one_of(ENV_KEY_SYNTAX, string.ascii_uppercase, min_size=1),
            control_strings(string.ascii_uppercase),
            st.text(string.digits, min_size=1, max_size=3).map(lambda d: d + "VAR"),
            st.just(""),
            st.just("APP_VERSION"),
        ),
        lambda v: inputs(app_environment={v: "x"}),
    ),
    (
        "environment/value",
        ("app_environment.VAR",),
        st.one_of(
            control_strings(PRINTABLE),
            st.lists(WORD, max_size=2),
            st.dictionaries(WORD, WORD, max_size=1),
            st.none(),
        ),
        lambda v: inputs(app_environment={"VAR": v}),
    ),
    (
        "environment",
        ("app_environment",),
        st.one_of(st.lists(WORD, min_size=1, max_size=2), WORD, st.integers(1)),
        lambda v: inputs(app_environment=v),
    ),
    (
        "secret_environment/value",
        ("app_secret_environment.VAR",),
        st.one_of(control_strings(PRINTABLE), st.lists(WORD, max_size=2), st.none()),
        lambda v: inputs(app_secret_environment={"VAR": v}),
    ),
    (
        "secret_environment/key",
        ("app_secret_environment",),
        st.one_of(
            with_one_of(ENV_KEY_SYNTAX, string.ascii_uppercase, min_size=1),
            control_strings(string.ascii_uppercase),
            st.just("GREETING"),  # also in app_environment
        ),
        lambda v: inputs(app_secret_environment={v: "x"}),
    ),
    # app_database: parts of DATABASE_URL
    (
        "database/key",
        ("app_database",),
        st.one_of(WORD, control_strings()).filter(lambda k: k not in DATABASE_KEYS),
        lambda v: database(**{v: "x"}),
    ),
    (
        "database.engine",
        ("app_database.engine",),
        st.one_of(
            any_text().filter(lambda v: v and v not in ("postgresql", "mariadb")), truthy_non_strings()
        ),
        lambda v: database(engine=v),
    ),
    (
        "database.host",
        ("app_database.host",),
        st.one_of(
            st.text(ALNUM + "-_", min_size=1, max_size=10).filter(
                lambda h: h not in INVENTORY
            ),  # no such host
            control_strings(ALNUM + "."),
            with_one_of(" /@?#;'\"$%\\<>", ALNUM, min_size=1),
            non_strings(),
            st.just(""),
        ),
        lambda v: database(host=v),
    ),
    ("database.port", ("app_database.port",), strict_numbers(1, 65535), lambda v: database(port=v)),
    (
        "database.name",
        ("app_database.name",),
        st.one_of(control_strings(), non_strings(), st.just("")),
        lambda v: database(name=v),
    ),
    (
        "database.user",
        ("app_database.user",),
        st.one_of(control_strings(), non_strings(), st.just("")),
        lambda v: database(user=v),
    ),
    (
        "database.password",
        ("app_database.password",),
        st.one_of(
            control_strings(PRINTABLE), st.lists(WORD, max_size=2), st.dictionaries(WORD, WORD, max_size=1)
        ),
        lambda v: database(password=v),
    ),
    (
        "database.sslmode",
        ("app_database.sslmode",),
        st.one_of(
            any_text().filter(lambda v: v and v not in SSLMODES),
            st.integers(1),
        ),
        lambda v: database(sslmode=v),
    ),
    (
        "database.sslrootcert",
        ("app_database.sslrootcert",),
        st.one_of(bad_paths().filter(bool), truthy_non_strings()),
        lambda v: database(sslrootcert=v),
    ),
    # app_health_path: the health URL's path
    (
        "health_path",
        ("app_health_path",),
        st.one_of(
            control_strings().map(lambda s: "/" + s),
            with_one_of(URL_SYNTAX).map(lambda s: "/" + s),
            with_one_of("%;'$", LOWER).map(lambda s: "/" + s),
            WORD,
            non_strings(),
        ),
        lambda v: inputs(app_health_path=v),
    ),
    # numbers
    (
        "health_retries",
        ("app_health_retries",),
        strict_numbers(1, 1000),
        lambda v: inputs(app_health_retries=v),
    ),
    (
        "health_first_retries",
        ("app_health_first_retries",),
        strict_numbers(1, 1000),
        lambda v: inputs(app_health_first_retries=v),
    ),
    ("releases_kept", ("app_releases_kept",), strict_numbers(1, 100), lambda v: inputs(app_releases_kept=v)),
    ("health_delay", ("app_health_delay",), numbers(0, 3600), lambda v: inputs(app_health_delay=v)),
    ("health_timeout", ("app_health_timeout",), numbers(1, 3600), lambda v: inputs(app_health_timeout=v)),
    ("stop_timeout", ("app_stop_timeout",), numbers(1, 86400), lambda v: inputs(app_stop_timeout=v)),
    (
        "apt_cache_valid_time",
        ("app_apt_cache_valid_time",),
        numbers(0, 31_536_000),
        lambda v: inputs(app_apt_cache_valid_time=v),
    ),
    # booleans
    ("rollback", ("app_rollback",), not_boolean(), lambda v: inputs(app_rollback=v)),
    ("python", ("app_python",), not_boolean(), lambda v: inputs(app_python=v)),
    (
        "system_site_packages",
        ("app_system_site_packages",),
        not_boolean(),
        lambda v: inputs(app_system_site_packages=v),
    ),
    (
        "memory_deny_write_execute",
        ("app_memory_deny_write_execute",),
        not_boolean(),
        lambda v: inputs(app_memory_deny_write_execute=v),
    ),
    # app_balancers: inventory hosts; app_balancer_server: address:port
    (
        "balancers[]",
        ("app_balancers[0]",),
        st.one_of(
            st.text(ALNUM + ".-", min_size=1, max_size=10).filter(lambda h: h not in INVENTORY), non_strings()
        ),
        lambda v: inputs(app_balancers=[v]),
    ),
    ("balancers", ("app_balancers",), not_a_list(), lambda v: inputs(app_balancers=v)),
    (
        "balancer_server",
        ("app_balancer_server",),
        st.one_of(
            control_strings(ALNUM).map(lambda s: s + ":8000"),
            with_one_of(" /;\"'@#$%\\", ALNUM, min_size=1).map(lambda s: s + ":8000"),
            out_of_range(1, 65535).map(lambda p: f"app1:{p}"),
            WORD,
            non_strings(),
        ),
        lambda v: inputs(app_balancer_server=v),
    ),
]
SECRETS = ("app_secret_environment", "app_database.password")


@pytest.mark.parametrize(
    ("field", "strategy", "build"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
@BAD_VALUES
@given(data=st.data())
def test_a_bad_value_is_refused_naming_the_field(field, strategy, build, data):
    for value in bad_values_of(data, strategy):
        problems = problems_of(build(value))
        assert refused(problems, field[0]), (value, problems)
        if (
            field[0].startswith(SECRETS)
            and isinstance(value, str)
            and not field[0].endswith("secret_environment")
        ):
            shown = "\n".join(problems)
            assert value not in shown and repr(value) not in shown, problems


def test_every_field_of_the_argument_spec_has_cases():
    spec = yaml.safe_load((ROOT / "roles/app/meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    covered = " ".join(case[1][0] for case in CASES)
    for name in options:
        assert name in covered, name
    for key in options["app_database"]["options"]:
        assert f"app_database.{key}" in covered, key


# --- free text that is accepted stays inside its line and token ---------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=CONTROL_CHARS), max_size=60)


def planned(given_inputs):
    """The plan of a fresh host: the unit rendered by the real template, the env file."""
    model, problems = _app_role.validate(given_inputs, Context(), cache=CACHE)
    assert problems == [], problems
    probe = {
        "current": None,
        "releases": [],
        "history": [],
        "venvs": [],
        "account": {"user": None, "group": False},
    }
    asked = _app_role.request(model, Context())
    inspection = {
        "os": DEBIAN,
        "files": {path: {"state": "absent"} for path in asked["files"]},
        "dirs": {},
        "packages": dict.fromkeys(asked["packages"], "not-installed"),
        "units": {},
        "probe": probe,
    }
    variables = {key: given_inputs[key] for key in ("app_name", "app_user", "app_group")}
    plan = _app_role.plan(model, inspection, Context(variables))
    assert plan.problems == []
    return plan.data


BASELINE = planned(inputs())["unit_content"]


def directives(unit):
    """The unit's lines that are not comments or blank: ``key=value`` or ``[Section]``."""
    return [line for line in unit.splitlines() if line and not line.startswith("#")]


def unit_keys(unit):
    return [line.split("=", 1)[0] for line in directives(unit)]


def systemd_literal(value):
    """What systemd reads from a value the role escaped: '%%' is '%', '$$' is '$'."""
    return value.replace("%%", "%")


@settings(max_examples=200)  # rendering or parsing per example: fewer, still varied
@given(description=TEXT.filter(lambda s: not s.rstrip().endswith("\\")))
def test_an_accepted_description_stays_one_literal_line(description):
    unit = planned(inputs(app_description=description))["unit_content"]
    assert unit_keys(unit) == unit_keys(BASELINE)
    (line,) = [line for line in directives(unit) if line.startswith("Description=")]
    value = line.removeprefix("Description=")
    # every '%' is doubled: no specifier; what systemd shows is the text as given
    assert re.fullmatch(r"(?:[^%]|%%)*", value)
    assert systemd_literal(value) == (description or "demo application")


WORDS = st.lists(
    st.text(
        PRINTABLE.replace("\\", "").replace('"', "").replace("'", "").replace(" ", ""), min_size=1, max_size=8
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200)  # rendering or parsing per example: fewer, still varied
@given(
    program=st.text(ALNUM + "_-.", min_size=1, max_size=8).filter(lambda w: w[0] not in "-." and w != ".."),
    words=WORDS.filter(lambda ws: ";" not in ws),
)
def test_an_accepted_command_reaches_the_program_literally(program, words):
    command = " ".join([program, *words])
    unit = planned(inputs(app_command=command, app_python=False))["unit_content"]
    assert unit_keys(unit) == unit_keys(BASELINE)
    (line,) = [line for line in directives(unit) if line.startswith("ExecStart=")]
    value = line.removeprefix("ExecStart=")
    # '%' and '$' doubled: no specifier and no variable is expanded
    assert re.fullmatch(r"(?:[^%$]|%%|\$\$)*", value)
    assert value.replace("%%", "%").replace("$$", "$") == command


@settings(max_examples=200)  # rendering or parsing per example: fewer, still varied
@given(
    values=st.dictionaries(
        st.text(string.ascii_uppercase + "_", min_size=1, max_size=6).filter(
            lambda k: k not in ("APP_VERSION", "APP_PORT", "DATABASE_URL")
        ),
        st.one_of(TEXT, st.integers(), st.booleans()),
        max_size=4,
    ),
    password=TEXT,
)
def test_the_environment_file_keeps_every_value_inside_its_quotes(values, password):
    data = planned(
        database(password=password, **{}) | {"app_environment": values, "app_secret_environment": {}}
    )
    content = data["env_content"]
    parsed = {}
    for line in content.splitlines():
        match = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\`$]|\\["\\`$])*)"', line)
        assert match, line
        parsed[match.group(1)] = re.sub(r'\\(["\\`$])', r"\1", match.group(2))
    expected = {
        key: ("true" if v is True else "false" if v is False else str(v)) for key, v in values.items()
    }
    assert {key: parsed[key] for key in values} == expected
    assert content.count("\n") == len(parsed)


# --- generated valid input is accepted ------------------------------------------------------

NAME = st.builds(lambda tail: "gw" + tail, st.text(ALNUM + "_-", max_size=10))
SEGMENT = st.builds(
    lambda head, tail: head + tail, st.sampled_from(ALNUM), st.text(ALNUM + "_.-", max_size=8)
)


@st.composite
def valid_inputs(draw):
    name = draw(NAME)
    base = draw(st.sampled_from(["/srv", "/opt", "/var/www", "/data"])) + "".join(
        "/" + s for s in draw(st.lists(SEGMENT, max_size=2))
    )
    return inputs(
        app_name=name,
        app_user=draw(st.one_of(st.just(name), NAME)),
        app_group=draw(st.one_of(st.just(name), NAME)),
        app_version=draw(st.one_of(st.integers(0, 999), SEGMENT.filter(lambda s: s[0].isalnum()))),
        app_command=" ".join(draw(st.lists(SEGMENT, min_size=1, max_size=4))),
        app_port=draw(st.integers(1024, 65535)),
        app_base_dir=base,
        app_description=draw(TEXT.filter(lambda s: not s.rstrip().endswith("\\"))),
        app_environment=draw(
            st.dictionaries(
                st.text(string.ascii_uppercase + "_", min_size=1, max_size=6), TEXT, max_size=3
            ).filter(lambda d: "APP_VERSION" not in d and "TOKEN" not in d and "DATABASE_URL" not in d)
        ),
        app_database={
            "engine": draw(st.sampled_from(["postgresql", "mariadb"])),
            "host": draw(
                st.one_of(
                    st.sampled_from(["db1", "10.0.0.7", "[fd00::7]", "db.example.org"]),
                    SEGMENT.map(lambda s: s + ".example.org"),  # a database outside the inventory
                )
            ),
            "port": draw(st.one_of(st.none(), st.integers(1, 65535))),
            "name": draw(TEXT.filter(bool)),
            "user": draw(TEXT.filter(bool)),
            "password": draw(TEXT),
            "sslmode": draw(st.sampled_from(["disable", "require", "verify-ca", "verify-full"])),
        },
        app_health_path="/" + "/".join(draw(st.lists(SEGMENT, max_size=3))),
        app_health_retries=draw(st.integers(1, 1000)),
        app_health_first_retries=draw(st.integers(1, 1000)),
        app_health_delay=draw(st.integers(0, 3600)),
        app_health_timeout=draw(st.integers(1, 3600)),
        app_releases_kept=draw(st.integers(1, 100)),
        app_writable_paths=draw(
            st.lists(
                st.sampled_from(["/srv", "/var/lib", "/var/log", "/data", "/run"]).flatmap(
                    lambda d: SEGMENT.map(lambda s: f"{d}/{s}")
                ),
                max_size=3,
            )
        ),
        app_balancers=draw(st.lists(st.sampled_from(INVENTORY), max_size=2)),
        app_balancer_server=draw(st.sampled_from(["10.0.0.5", "app1", "[fd00::5]"]))
        + f":{draw(st.integers(1, 65535))}",
        app_python=draw(st.sampled_from([None, True, False, "yes", "no"])),
        app_requirements_file=draw(st.sampled_from(["requirements.txt", "deps/prod.txt"])),
        app_system_site_packages=draw(st.booleans()),
        app_packages=draw(
            st.lists(
                st.builds(lambda s: "python3-" + s, st.text(ALNUM + "+-.", min_size=1, max_size=8)),
                max_size=3,
            )
        ),
        app_memory_deny_write_execute=draw(st.sampled_from([True, False, "true", "false"])),
        app_stop_timeout=draw(st.one_of(st.integers(1, 86400), st.integers(1, 86400).map(str))),
        app_apt_cache_valid_time=draw(st.integers(0, 31_536_000)),
    )


@settings(max_examples=60)
@given(values=valid_inputs())
def test_valid_input_is_accepted(values):
    model, problems = _app_role.validate(values, Context(), cache=CACHE)
    assert problems == [], problems
    assert model["name"] == values["app_name"] and model["stop_timeout"] == int(values["app_stop_timeout"])
