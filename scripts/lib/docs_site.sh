# shellcheck shell=bash
# The collection's documentation site, built offline into .build/docs (index.html there).
# Sourced after scripts/lib/common.sh, with the venv active; GW_ROOT is the repository.
#
#   .build/docs-src/collection/  antsibull-docs' pages of every role entry point, module and
#                                test plugin (from the repository, through .collections/)
#   .build/docs-src/guides/      the guides, docs/*.md (Markdown, read by MyST) and the
#                                pictures they show
#   .build/docs-src/index.rst    docs/site/index.rst
#
# Sphinx reads them with docs/site/conf.py; every warning is an error (-W), and
# --keep-going lists them all before it fails. Nothing is downloaded: no intersphinx; the
# references into Ansible's documentation are resolved by docs/site/site_links.py.

build_docs_site() {
  local src="$GW_ROOT/.build/docs-src" out="$GW_ROOT/.build/docs" doctrees="$GW_ROOT/.build/docs-doctrees"
  local bundled file
  ensure_collection_link
  bundled="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  rm -rf "$src" "$out" "$doctrees"
  mkdir -p "$src/collection" "$src/guides"
  # antsibull-docs refuses to write into a directory others may write to.
  chmod go-w "$src/collection"
  ANSIBLE_COLLECTIONS_PATH="$GW_ROOT/.collections:$bundled" antsibull-docs collection \
    --use-current --squash-hierarchy --fail-on-error --no-add-antsibull-docs-version \
    --dest-dir "$src/collection" groundwork.server >/dev/null
  cp "$GW_ROOT/docs/site/index.rst" "$src/index.rst"
  for file in "$GW_ROOT"/docs/*; do
    case "$file" in
      *.md | *.svg | *.png) cp "$file" "$src/guides/" ;;
    esac
  done
  sphinx-build -b html -c "$GW_ROOT/docs/site" -d "$doctrees" -W --keep-going -q -n \
    "$src" "$out"
  [ -f "$out/index.html" ] || die "the documentation site has no index.html"
  log "Documentation site: ${out#"$GW_ROOT"/}/index.html ($(find "$out" -name '*.html' | wc -l) pages)"
}
