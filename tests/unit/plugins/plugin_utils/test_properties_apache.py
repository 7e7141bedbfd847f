# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of groundwork.server.apache (issue 16): every input field of the role, driven
with generated bad values of each class that applies to it (tests/unit/bad_values.py), through
the role's real validation (_apache_role.validate, what the action groundwork.server.role_plan
calls), must be refused with a message that names the field. The site model's fields and tests
are nginx's too (tests/unit/site_properties.py); this file adds Apache's own. Free text that is
accepted is rendered with the role's real site template and must stay inside its token; valid
generated sites are accepted (so that the refusals cannot come from refusing everything)."""

from __future__ import annotations

import copy
import re
import string
from pathlib import Path

import jinja2
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role as role
from bad_values import control_strings, escaping_names, out_of_range, refused, with_one_of
from hypothesis import given, settings
from hypothesis import strategies as st
from site_properties import (
    FREE_TEXT,
    Context,
    SiteInputs,
    SiteModelProperties,
    site_fields,
    token_enders,
    valid_inputs,
)

PREFIX = "apache"
TEMPLATES = Path(__file__).resolve().parents[4] / "roles" / "apache" / "templates"
DEFAULTS = {
    "apache_sites": [],
    "apache_upstreams": [],
    "apache_certificates": ["shop"],
    "apache_max_request_workers": "auto",
    "apache_keepalive_timeout": 30,
    "apache_keepalive_requests": 1000,
    "apache_timeout": 60,
    "apache_client_max_body_size": "1m",
    "apache_compression_level": 2,
    "apache_hsts_max_age": 63072000,
    "apache_security_headers": True,
    "apache_ssl_session_cache_size": "10m",
    "apache_acme_webroot": "/var/lib/groundwork/acme",
    "apache_modules": [],
    "apache_packages": [],
}
INPUTS = SiteInputs(PREFIX, role.validate, DEFAULTS)
AT_SITE = INPUTS.at_site
problems, site, setting = INPUTS.problems, INPUTS.site, INPUTS.setting


def unsafe_apache_lines():
    """raw_apache lines that could leave their place: a section (<...>), a final backslash
    (continued on the next line), control characters, nothing."""
    word = st.text(string.ascii_letters, min_size=1, max_size=8)
    return st.one_of(
        st.builds(lambda d, v: f"<{d} {v}>", word, word),
        st.builds(lambda d, v: f"</{d}>", word, word),
        st.builds(lambda d, v: f"  <{d}>", word, word),
        st.builds(lambda d, v: f"{d} {v}\\", word, word),
        control_strings(string.ascii_letters + " "),
        st.sampled_from(["", "   "]),
    )


# Apache's own settings: (id, the field as messages name it, inputs of a value, strategy)
APACHE_FIELDS = [
    (
        "modules",
        f"{PREFIX}_modules",
        lambda v: {f"{PREFIX}_modules": [v]},
        st.one_of(
            escaping_names(),
            token_enders("<>"),
            control_strings(),
            st.sampled_from(["mpm_prefork", "mpm_worker"]),
        ),
    ),
    (
        "max_request_workers",
        f"{PREFIX}_max_request_workers",
        setting("max_request_workers"),
        st.one_of(
            st.integers(max_value=9), st.integers(min_value=10**6), with_one_of(" ;{}<>", "0123456789")
        ),
    ),
    (
        "keepalive_timeout",
        f"{PREFIX}_keepalive_timeout",
        setting("keepalive_timeout"),
        st.one_of(
            st.integers(max_value=0), st.integers(min_value=10**4), with_one_of(" ;{}<>s", "0123456789")
        ),
    ),
    (
        "timeout",
        f"{PREFIX}_timeout",
        setting("timeout"),
        st.one_of(
            st.integers(max_value=0), st.integers(min_value=10**5), with_one_of(" ;{}<>m", "0123456789")
        ),
    ),
    (
        "compression_level",
        f"{PREFIX}_compression_level",
        setting("compression_level"),
        st.one_of(out_of_range(1, 9), with_one_of(" ;{}", "123")),
    ),
    (
        "global body size",
        f"{PREFIX}_client_max_body_size",
        setting("client_max_body_size"),
        st.one_of(
            with_one_of(" ;{}'\"tT", "0123456789", min_size=1), st.integers(3, 99).map(lambda n: f"{n}g")
        ),
    ),
]


class TestSiteModel(SiteModelProperties):
    """The site model's tests (and Apache's own settings) through Apache's validation."""

    inputs = INPUTS
    fields = (*site_fields(INPUTS, "raw_apache", unsafe_apache_lines(), token_enders("<>")), *APACHE_FIELDS)


# --- free text is rendered safely --------------------------------------------------------


def _comment(text):
    return "\n".join("# " + line for line in str(text).splitlines())


def _regex_replace(value, pattern, replacement):
    return re.sub(pattern, replacement.replace("\\1", r"\1"), value)


ENV = jinja2.Environment(  # noqa: S701 (Apache's syntax, not HTML)
    loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, undefined=jinja2.StrictUndefined
)
ENV.filters.update(comment=_comment, combine=lambda a, b: {**a, **b}, regex_replace=_regex_replace)


def render_site(values):
    model, found = role.validate(dict(copy.deepcopy(DEFAULTS), **values), Context())
    assert found == []
    tuning = dict(apache.constants(), **apache.tuning(model, {"version": "2.4.65", "ocsp": {}}, "lb1"))
    template = ENV.get_template("site.conf.j2")
    return template.render(
        site=model["sites"][0], __apache_model=model, __apache=tuning, ansible_managed="managed"
    )


def apache_lines(text):
    """Apache's reading of a configuration: one directive per line (a final backslash joins
    the next), each line split into words as ap_getword_conf does (a word in double or single
    quotes, where a backslash escapes the quote and itself)."""
    assert not re.search(r"\\\n", text), "a line continues on the next"
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words, i = [], 0
        while i < len(line):
            if line[i].isspace():
                i += 1
                continue
            quote = line[i] if line[i] in "\"'" else None
            if quote:
                word, i = "", i + 1
                while i < len(line) and line[i] != quote:
                    if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in (quote, "\\"):
                        i += 1
                    word += line[i]
                    i += 1
                assert i < len(line), f"a quote left open: {line!r}"
                i += 1
            else:
                start = i
                while i < len(line) and not line[i].isspace():
                    i += 1
                word = line[start:i]
            words.append(word)
        found.append(words)
    return found


def balanced(lines):
    opened = sum(1 for words in lines if words[0].startswith("<") and not words[0].startswith("</"))
    return opened == sum(1 for words in lines if words[0].startswith("</"))


@settings(max_examples=100)
@given(values=valid_inputs(PREFIX))
def test_accepted_free_text_stays_inside_its_token(values):
    """Header values, realms and redirect targets are each one quoted word of their
    directive, exactly the text given ('%' doubled for mod_headers); sections stay balanced."""
    lines = apache_lines(render_site(values))
    site_in = values[f"{PREFIX}_sites"][0]
    header, value = next(iter(site_in["headers"].items()))
    assert ["Header", "always", "set", header, value.replace("%", "%%")] in lines
    assert ["AuthName", site_in["basic_auth"]["realm"]] in lines
    redirect = site_in["redirects"][0]
    assert ["RedirectMatch", "301", "^" + re.escape(redirect["from"]) + "$", redirect["to"]] in lines
    assert balanced(lines)


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
    assert ["Header", "always", "set", "X-Test", text.replace("%", "%%")] in apache_lines(render_site(values))


@settings(max_examples=100)
@given(
    lines=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30), min_size=1, max_size=3
    )
)
def test_raw_apache_lines_are_refused_or_stay_one_line_inside_the_virtual_host(lines):
    values = site(raw_apache=lines)
    found = problems(values)
    if found:
        assert refused(found, AT_SITE + "raw_apache[")
        return
    assert balanced(apache_lines(render_site(values)))
