# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the web-server roles decide alike (plugin_utils/_web_server.py)."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_role as nginx
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import FEATURES


def test_a_server_renders_every_feature_but_the_ones_it_names():
    assert web.renders(set()) == frozenset(FEATURES)
    assert web.renders({"rate_limit"}) == frozenset(FEATURES) - {"rate_limit"}
    with pytest.raises(ValueError, match="rate_limits"):
        web.renders({"rate_limits"})


def test_every_feature_is_rendered_by_one_web_server_at_least():
    assert frozenset(FEATURES) == nginx.FEATURES | apache.FEATURES


@pytest.mark.parametrize(
    ("probe", "pending"),
    [
        ({"acme_pending": ["shop"], "renew_service": True}, ["shop"]),
        ({"acme_pending": ["shop"], "renew_service": False}, []),
        ({}, []),
    ],
)
def test_acme_certificates_wait_only_where_the_renewal_service_is(probe, pending):
    assert web.acme_pending(probe) == pending


def test_a_stale_hook_of_the_server_is_removed_and_others_are_left_alone():
    model = {"sites": [], "certificates": ["shop"]}
    registered = ["/etc/groundwork/tls/hooks/old.d/apache", "/etc/groundwork/tls/hooks/old.d/nginx"]
    specs = web.shared_specs(model, "lb1", "apache", lambda name: name, {"shop": "hook\n"}, registered)
    assert specs == [
        {"path": "/etc/groundwork/tls/hooks/shop.d/apache", "mode": "0755", "content": "hook\n"},
        {"path": "/etc/groundwork/tls/hooks/old.d/apache", "state": "absent"},
    ]
