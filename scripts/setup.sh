#!/usr/bin/env bash
# Idempotent setup: Debian packages, PostgreSQL running with a role for us, the virtualenv with
# Odoo's requirements plus ours, and the patched-Qt wkhtmltopdf on Odoo's PATH.
# Usage: scripts/setup.sh [--browser]   (--browser also installs Debian's chromium for tours)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages -----------------------------------------------------------------------
pkgs=(postgresql postgresql-client libpq-dev libldap2-dev libsasl2-dev python3-venv python3-dev
      build-essential fonts-dejavu-core fontconfig libxrender1 libxext6 poppler-utils)
[ $want_browser = 1 ] && pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. PostgreSQL running, with a superuser role for $PGUSER --------------------------------
if [ -z "$PGHOST" ]; then
    if ! pg_isready -q -p "$PGPORT"; then
        log "starting PostgreSQL"
        if command -v pg_ctlcluster >/dev/null; then
            ver=$(ls /etc/postgresql | sort -V | tail -n1)
            as_root pg_ctlcluster "$ver" main start || as_root service postgresql start
        else
            as_root service postgresql start
        fi
        for _ in $(seq 1 30); do pg_isready -q -p "$PGPORT" && break; sleep 1; done
    fi
    as_pg() { as_root env -u PGUSER -u PGHOST su postgres -c "$1"; }
    if ! as_pg "psql -p $PGPORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$PGUSER'\"" | grep -q 1; then
        log "creating PostgreSQL role $PGUSER"
        as_pg "createuser -p $PGPORT -s '$PGUSER'"
    fi
fi

# 3. Virtualenv with pinned Python dependencies ------------------------------------------
stamp="$VENV/.oms-requirements"
want=$(cat "$ODOO_SRC/requirements.txt" "$ROOT_DIR/requirements.txt" "$ROOT_DIR/requirements-oca.txt" \
    "$ROOT_DIR/scripts/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    log "installing Python requirements (Odoo's and ours) into $VENV"
    # PIP_CONSTRAINT also reaches the isolated build environments (cbor2 needs pkg_resources).
    export PIP_CONSTRAINT="$ROOT_DIR/scripts/constraints.txt"
    "$VENV/bin/pip" install -q "setuptools<81" wheel
    "$VENV/bin/pip" install -q -r "$ODOO_SRC/requirements.txt" -r "$ROOT_DIR/requirements.txt"
    # OCA addons: pinned, without dependency resolution (their wheels require odoo==19.0.*, which is
    # $ODOO_SRC here, not a package); their Python requirements are in requirements.txt.
    "$VENV/bin/pip" install -q --no-deps -r "$ROOT_DIR/requirements-oca.txt"
    echo "$want" > "$stamp"
fi

# 4. The patched-Qt wkhtmltopdf as `wkhtmltopdf` on the virtualenv's PATH ---------------
if [ ! -x "$VENV/bin/wkhtmltopdf" ]; then
    ln -sf "$VENV/bin/wkhtmltopdf-pack" "$VENV/bin/wkhtmltopdf"
fi
"$VENV/bin/wkhtmltopdf" --version 2>/dev/null | grep -q "patched qt" \
    || log "warning: $VENV/bin/wkhtmltopdf is not the patched-Qt build; PDF reports may fail"
exit 0
