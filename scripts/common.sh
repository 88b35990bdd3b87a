#!/usr/bin/env bash
# Shared settings of the project's scripts. Every value can be overridden from the environment.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
export VENV=${VENV:-$ROOT_DIR/.venv}
export OMS_DB=${OMS_DB:-oms_demo}
export OMS_PORT=${OMS_PORT:-8069}
export PGHOST=${PGHOST:-}
export PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-$(id -un)}
# OCA addons (requirements-oca.txt) are installed as wheels into the virtualenv's site-packages/odoo/addons.
PY_VERSION=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export OCA_ADDONS="$VENV/lib/python$PY_VERSION/site-packages/odoo/addons"
export ADDONS_PATH="$ROOT_DIR,$OCA_ADDONS,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"
# Server-wide modules: Odoo's default (base,rpc,web) plus queue_job, whose runner starts the jobs.
export OMS_SERVER_WIDE_MODULES=${OMS_SERVER_WIDE_MODULES:-base,rpc,web,queue_job}
# Odoo must find the patched-Qt wkhtmltopdf that setup links into the virtualenv.
export PATH="$VENV/bin:$PATH"

log() { printf '\033[1m[oms]\033[0m %s\n' "$*" >&2; }

check_odoo_src() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] || ! grep -q "version_info = (19, 0" "$ODOO_SRC/odoo/release.py" 2>/dev/null; then
        cat >&2 <<MSG
No Odoo 19.0 source found at ODOO_SRC=$ODOO_SRC.
oms_ecommerce is an Odoo 19.0 Community addon and needs Odoo's source tree, which this
project does not ship. Get Odoo 19.0 Community (for example: git clone --depth 1 --branch 19.0
https://github.com/odoo/odoo.git /opt/odoo19, or extract the 19.0 community tree you were given
into /opt/odoo19) so that \$ODOO_SRC/odoo-bin and \$ODOO_SRC/addons exist, then run this command
again, or point ODOO_SRC at the tree you have: ODOO_SRC=/path/to/odoo make run
MSG
        exit 2
    fi
}

odoo_bin() {
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
        ${PGHOST:+--db_host="$PGHOST"} --db_port="$PGPORT" --db_user="$PGUSER" "$@"
}
