# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of groundwork.server.nginx (issue 16): every input field of the role, driven
with generated bad values of each class that applies to it (tests/unit/bad_values.py), through
the role's real validation (_nginx_role.validate, what the action groundwork.server.role_plan
calls), must be refused with a message that names the field. The site model's fields and tests
are Apache's too (tests/unit/site_properties.py); this file adds nginx's own. Free text that is
accepted is rendered with the role's real site template and must stay inside its token; valid
generated sites are accepted (so that the refusals cannot come from refusing everything)."""

from __future__ import annotations

import copy
import re
import string
from pathlib import Path

import jinja2
from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_plan as nginx
from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_role as role
from bad_values import control_strings, out_of_range, refused, with_one_of
from hypothesis import given, settings
from hypothesis import strategies as st
from site_properties import (
    FREE_TEXT,
    Context,
    SiteInputs,
    SiteModelProperties,
    bad_hosts,
    not_booleans,
    site_fields,
    token_enders,
    valid_inputs,
)

PREFIX = "nginx"
TEMPLATES = Path(__file__).resolve().parents[4] / "roles" / "nginx" / "templates"
DEFAULTS = {
    "nginx_sites": [],
    "nginx_upstreams": [],
    "nginx_certificates": ["shop"],
    "nginx_worker_connections": "auto",
    "nginx_keepalive_timeout": "30s",
    "nginx_keepalive_requests": 1000,
    "nginx_client_max_body_size": "1m",
    "nginx_gzip_level": 2,
    "nginx_access_log_buffer": "64k",
    "nginx_access_log_flush": "5s",
    "nginx_hsts_max_age": 63072000,
    "nginx_security_headers": True,
    "nginx_ssl_session_cache_size": "10m",
    "nginx_resolvers": [],
    "nginx_acme_webroot": "/var/lib/groundwork/acme",
    "nginx_packages": [],
    "nginx_ipv6": True,
}
DEBIAN = {"id": "debian", "version_id": "13"}
INPUTS = SiteInputs(PREFIX, role.validate, DEFAULTS)
AT_SITE = INPUTS.at_site
problems, site, setting = INPUTS.problems, INPUTS.site, INPUTS.setting


def unclosed_nginx_lines():
    """raw_nginx lines that would not stay on their line: a quote left open, a final
    backslash, a directive without ';', braces, control characters."""
    word = st.text(string.ascii_lowercase, min_size=1, max_size=8)
    return st.one_of(
        st.builds(lambda d, q, v: f"{d} {q}{v};", word, st.sampled_from(["'", '"']), word),
        st.builds(lambda d, v: f"{d} {v}", word, word),
        st.builds(lambda d, v: f"{d} {v};\\", word, word),
        st.builds(lambda d, b: f"{d} {b};", word, with_one_of("{}", string.ascii_lowercase)),
        control_strings(string.ascii_lowercase + " ;"),
    )


# nginx's own settings: (id, the field as messages name it, inputs of a value, strategy)
NGINX_FIELDS = [
    ("resolvers", f"{PREFIX}_resolvers", lambda v: {f"{PREFIX}_resolvers": [v]}, bad_hosts()),
    ("ipv6", f"{PREFIX}_ipv6", setting("ipv6"), not_booleans()),
    (
        "keepalive_timeout",
        f"{PREFIX}_keepalive_timeout",
        setting("keepalive_timeout"),
        st.one_of(with_one_of(" ;{}'\"", "0123456789s"), control_strings("0123456789s")),
    ),
    (
        "worker_connections",
        f"{PREFIX}_worker_connections",
        setting("worker_connections"),
        st.one_of(st.integers(max_value=99), st.integers(min_value=10**6), with_one_of(" ;{}", "0123456789")),
    ),
    (
        "gzip_level",
        f"{PREFIX}_gzip_level",
        setting("gzip_level"),
        st.one_of(out_of_range(1, 9), with_one_of(" ;{}", "123")),
    ),
]


class TestSiteModel(SiteModelProperties):
    """The site model's tests (and nginx's own settings) through nginx's validation."""

    inputs = INPUTS
    fields = (*site_fields(INPUTS, "raw_nginx", unclosed_nginx_lines(), token_enders()), *NGINX_FIELDS)


# --- free text is rendered safely --------------------------------------------------------


def _comment(text):
    return "\n".join("# " + line for line in str(text).splitlines())


def _regex_replace(value, pattern, replacement):
    return re.sub(pattern, replacement.replace("\\1", r"\1"), value)


ENV = jinja2.Environment(  # noqa: S701 (nginx's syntax, not HTML)
    loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, undefined=jinja2.StrictUndefined
)
ENV.filters.update(comment=_comment, combine=lambda a, b: {**a, **b}, regex_replace=_regex_replace)


def render_site(values):
    model, found = role.validate(dict(copy.deepcopy(DEFAULTS), **values), Context())
    assert found == []
    model["settings"] = dict(model["settings"])
    tuning = dict(nginx.constants(), **nginx.tuning(model, {"version": "1.26.3", "ocsp": {}}, DEBIAN))
    template = ENV.get_template("site.conf.j2")
    return template.render(
        site=model["sites"][0],
        __nginx_model=model,
        __nginx=tuning,
        nginx_ipv6=True,
        nginx_acme_webroot=DEFAULTS["nginx_acme_webroot"],
        ansible_managed="managed",
    )


def nginx_directives(text):
    """nginx's reading of a configuration (ngx_conf_read_token): [(words, '{' | ';' | '}')]
    with quoted words unescaped, comments dropped."""
    found, words, word, quote, i = [], [], None, None, 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and i + 1 < len(text) and text[i + 1] in ('"', "'", "\\", "t", "r", "n"):
                word += {"t": "\t", "r": "\r", "n": "\n"}.get(text[i + 1], text[i + 1])
                i += 2
                continue
            if char == quote:
                words.append(word)
                word, quote = None, None
            else:
                word += char
        elif word is None and char == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif char in "\"'" and word is None:
            quote, word = char, ""
        elif char.isspace() or char in ";{}":
            if word is not None:
                words.append(word)
                word = None
            if char in ";{}":
                found.append((words, char))
                words = []
        else:
            word = (word or "") + char
        i += 1
    assert quote is None and word is None and not words, "the configuration ends inside a directive"
    return found


@settings(max_examples=100)
@given(values=valid_inputs(PREFIX))
def test_accepted_free_text_stays_inside_its_token(values):
    """Header values, fixed responses, realms and redirect targets are each one quoted word
    of their directive, exactly the text given."""
    text = render_site(values)
    directives = nginx_directives(text)
    site_in = values[f"{PREFIX}_sites"][0]
    header, value = next(iter(site_in["headers"].items()))
    assert (["add_header", header, value, "always"], ";") in directives
    target = site_in["locations"][1]["return"]["target"]
    assert (["return", "200", target], ";") in directives
    assert (["auth_basic", site_in["basic_auth"]["realm"]], ";") in directives
    assert (["return", "301", site_in["redirects"][0]["to"]], ";") in directives
    opened = sum(1 for _words, end in directives if end == "{")
    assert opened == sum(1 for _words, end in directives if end == "}")


@settings(max_examples=200)
@given(text=st.one_of(FREE_TEXT, st.text(max_size=30)))
def test_a_header_value_is_refused_or_one_word_of_its_directive(text):
    values = site(headers={"X-Test": text})
    found = problems(values)
    if found:
        assert refused(found, AT_SITE + "headers.X-Test") or text == ""
        return
    if text == "":
        return
    directives = nginx_directives(render_site(values))
    assert (["add_header", "X-Test", text, "always"], ";") in directives
