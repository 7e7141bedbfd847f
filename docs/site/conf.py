# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the collection's documentation site.

scripts/lib/docs_site.sh (build_docs_site) lays out the sources under .build/docs-src -
antsibull-docs' pages of every role, module and test plugin, the guides of docs/ and
index.rst from this directory - and builds them with this configuration, offline and
with every warning an error. Nothing is downloaded: there is no intersphinx; the few
references into Ansible's own documentation that antsibull-docs' pages make are
resolved by site_links.py beside this file.
"""

from __future__ import annotations

import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The collection's root: the repository, two levels up from docs/site.
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(COLLECTION_ROOT, "galaxy.yml"), encoding="utf-8") as galaxy_file:
    GALAXY = yaml.safe_load(galaxy_file)

project = f"{GALAXY['namespace']}.{GALAXY['name']}"
author = "groundwork developers"
copyright = "groundwork developers"
version = release = str(GALAXY["version"])
html_title = html_short_title = f"{project} {version}"

extensions = ["myst_parser", "sphinx_antsibull_ext", "site_links"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"

# Every reference must resolve: a missing target is an error (the build uses -W).
nitpicky = True

# The guides link to their own sections by GitHub's anchors ("#docker-and-other-tables").
myst_heading_anchors = 4

pygments_style = "ansible"
# Code without a language (a guide's diagrams, tables of numbers) is shown as it is.
highlight_language = "none"

html_theme = "sphinx_ansible_theme"
html_theme_options = {"display_version": False, "documentation_home_url": GALAXY["homepage"]}
html_show_sphinx = False
html_copy_source = False
html_use_index = False

# site_links: the guides' links to files of the repository outside docs/ (a role's README
# becomes its page here, any other file its page in the repository).
site_links_root = COLLECTION_ROOT
site_links_repository = f"{GALAXY['repository']}/blob/main"
site_links_sources = {"guides": "docs"}
