# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx extension of the documentation site: the links that lead out of it, resolved offline.

- antsibull-docs' page templates refer to a few sections of Ansible's own documentation
  (``:ref:`common_return_values``` and the like), and semantic markup may name plugins of
  other collections (``M(community.general.ufw)``). Ansible's documentation is not part of
  this site and its inventory is not downloaded: such references become plain links to
  docs.ansible.com. Only the labels listed here and plugins of other collections are
  resolved; anything else that does not resolve stays a warning, an error with ``-W``.
- The guides (Markdown, docs/*.md in the repository, guides/*.md in the site) link to files
  of the repository outside docs/. A link to a role's README becomes a link to the role's
  page; a link to any other file that exists in the repository becomes a link to it in the
  repository. A link to a file that does not exist is left alone (MyST warns).
"""

from __future__ import annotations

import os
import posixpath
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"

# Labels of Ansible's documentation used by antsibull-docs' templates: page and title.
ANSIBLE_LABELS = {
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "callback_plugins": ("plugins/callback.html", "Callback plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "collections_keyword": (
        "collections_guide/collections_using_playbooks.html"
        "#simplifying-module-names-with-the-collections-keyword",
        "The collections keyword",
    ),
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
}

PLUGIN_TYPES = (
    "become|cache|callback|cliconf|connection|filter|httpapi|inventory|lookup|module|netconf"
    "|role|shell|strategy|test|vars"
)
# antsibull-docs' label of a plugin, or of something on its page (an option, a return value).
PLUGIN_LABEL = re.compile(
    r"^ansible_collections\.(?P<namespace>[a-z0-9_]+)\.(?P<name>[a-z0-9_]+)\."
    rf"(?P<plugin>[a-z0-9_.]+)_(?P<type>{PLUGIN_TYPES})(?P<rest>__.+)?$"
)
ROLE_README = re.compile(r"^roles/(?P<role>[a-z0-9_]+)(?:/README\.md)?/?$")


def ansible_docs_link(label: str, own_collection: str) -> tuple[str, str | None] | None:
    """The URL in Ansible's documentation for a label, and the title to show when the
    reference has none of its own (None: keep the reference's text); None when the label is
    not one of Ansible's (a label of this collection must resolve here)."""
    if label in ANSIBLE_LABELS:
        page, title = ANSIBLE_LABELS[label]
        return ANSIBLE_DOCS + page, title
    match = PLUGIN_LABEL.match(label)
    if not match or f"{match['namespace']}.{match['name']}" == own_collection:
        return None
    page = f"collections/{match['namespace']}/{match['name']}/{match['plugin']}_{match['type']}.html"
    anchor = f"#{nodes.make_id(label)}" if match["rest"] else ""
    return ANSIBLE_DOCS + page + anchor, None


def resolve_ansible_reference(app, env, node, contnode):
    """missing-reference: a reference into Ansible's documentation becomes an external link."""
    if node.get("refdomain") != "std" or node.get("reftype") != "ref":
        return None
    found = ansible_docs_link(node["reftarget"], app.config.project)
    if found is None:
        return None
    url, title = found
    reference = nodes.reference("", "", internal=False, refuri=url, classes=["external"])
    if title is None or node.get("refexplicit"):
        reference += contnode
    else:
        reference += nodes.inline(title, title, classes=contnode.get("classes", []))
    return reference


def repository_path(source_dirs: dict, refdoc: str, target: str) -> str | None:
    """The repository path a guide's relative link names, or None when the document is not
    a guide or the link is not a relative path."""
    source_dir, _sep, _name = refdoc.rpartition("/")
    if source_dir not in source_dirs or not target or target.startswith(("#", "/")) or ":" in target:
        return None
    path = posixpath.normpath(posixpath.join(source_dirs[source_dir], target))
    if path == ".." or path.startswith("../"):
        return None
    return path


class RepositoryLinks(SphinxPostTransform):
    """Guide links to files outside docs/: before MyST resolves (and warns about) them."""

    default_priority = 8  # MyST's MystReferenceResolver runs at 9

    def run(self, **kwargs):
        config = self.app.config
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain"):
                continue
            target, _sep, anchor = node["reftarget"].partition("#")
            path = repository_path(config.site_links_sources, node.get("refdoc", ""), target)
            if path is None or not os.path.exists(os.path.join(config.site_links_root, path)):
                continue
            role = ROLE_README.match(path)
            if role and not anchor:
                label = f"ansible_collections.{config.project}.{role['role']}_role"
                replacement = addnodes.pending_xref(
                    "", *node.children, refdomain="std", reftype="ref", reftarget=label, refexplicit=True
                )
                replacement["refdoc"] = node.get("refdoc")
            else:
                url = f"{config.site_links_repository}/{path}" + (f"#{anchor}" if anchor else "")
                replacement = nodes.reference("", "", *node.children, refuri=url, classes=["external"])
            node.replace_self(replacement)


def setup(app):
    app.add_config_value("site_links_root", "", "env")
    app.add_config_value("site_links_repository", "", "env")
    app.add_config_value("site_links_sources", {}, "env")
    app.connect("missing-reference", resolve_ansible_reference)
    app.add_post_transform(RepositoryLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
