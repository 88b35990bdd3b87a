#!/usr/bin/env bash
# ruff (lint + format check) and pylint-odoo's mandatory checks on the addon and the scripts; the translation
# template (i18n/oms_ecommerce.pot) holds every translatable string of the sources; no file or function too long
# without its reason written next to it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src
"$ROOT_DIR/scripts/setup.sh"
cd "$ROOT_DIR"
targets=(oms_ecommerce)
[ -d bench ] && targets+=(bench)
status=0
log "ruff check"
"$VENV/bin/ruff" check "${targets[@]}" || status=1
log "ruff format --check"
"$VENV/bin/ruff" format --check "${targets[@]}" || status=1
log "pylint-odoo (mandatory checks)"
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/pylint" --rcfile=.pylintrc oms_ecommerce || status=1
log "translations: i18n/oms_ecommerce.pot current, placeholders kept (scripts/i18n_check.py)"
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" scripts/i18n_check.py || status=1
log "sizes: files above ~400 lines, functions above ~60 without a reason written (scripts/size_check.py)"
"$VENV/bin/python" scripts/size_check.py || status=1
[ $status -eq 0 ] && log "lint: clean"
exit $status
