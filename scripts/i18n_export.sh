#!/usr/bin/env bash
# Regenerate oms_ecommerce/i18n/oms_ecommerce.pot with Odoo's own exporter (`odoo-bin i18n export`) from a
# throwaway database with the addon installed (without demo data), then merge it into each
# i18n/<lang>.po: new strings come in untranslated, removed ones go, translations of unchanged strings stay.
# The database is dropped at the end. Takes about 3 minutes (the install).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src
"$ROOT_DIR/scripts/setup.sh"

db="oms_i18n_$(date +%s)_$$"
conf=$(mktemp -t oms-i18n-XXXXXX.conf)
cleanup() {
    dropdb --if-exists ${PGHOST:+-h "$PGHOST"} -p "$PGPORT" "$db" >/dev/null 2>&1 || true
    rm -f "$conf"
}
trap cleanup EXIT

# `odoo-bin i18n` reads the connection and the addons path from a configuration file only.
cat >"$conf" <<CONF
[options]
addons_path = $ADDONS_PATH
db_port = $PGPORT
db_user = $PGUSER
${PGHOST:+db_host = $PGHOST}
CONF

log "installing oms_ecommerce in throwaway database $db"
odoo_bin -d "$db" -i oms_ecommerce --stop-after-init --no-http --workers 0 --max-cron-threads 0 --log-level warn
log "exporting oms_ecommerce/i18n/oms_ecommerce.pot"
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" i18n export -c "$conf" -d "$db" oms_ecommerce -l pot \
    -o "$ROOT_DIR/oms_ecommerce/i18n/oms_ecommerce.pot"

log "merging the .pot into the translations"
"$VENV/bin/python" - "$ROOT_DIR/oms_ecommerce/i18n" <<'PY'
import sys
from pathlib import Path

import polib

folder = Path(sys.argv[1])
pot = polib.pofile(str(folder / "oms_ecommerce.pot"), wrapwidth=78)
for path in sorted(folder.glob("*.po")):
    old = polib.pofile(str(path), wrapwidth=78)
    translations = {entry.msgid: entry.msgstr for entry in old if entry.msgstr and not entry.obsolete}
    new = polib.POFile(wrapwidth=78)
    new.header = old.header
    new.metadata = dict(old.metadata)
    for key in ("Project-Id-Version", "POT-Creation-Date"):
        new.metadata[key] = pot.metadata[key]
    for entry in pot:
        new.append(
            polib.POEntry(
                msgid=entry.msgid,
                msgstr=translations.get(entry.msgid, ""),
                occurrences=entry.occurrences,
                comment=entry.comment,
                tcomment=entry.tcomment,
                flags=entry.flags,
            )
        )
    new.save(str(path))
    dropped = len(set(translations) - {entry.msgid for entry in pot})
    print(f"{path.name}: {len(new.translated_entries())} of {len(new)} translated"
          + (f", {dropped} translation(s) of removed strings dropped" if dropped else ""))
PY
log "done: translate the new strings (empty msgstr) in oms_ecommerce/i18n/*.po, then run scripts/lint.sh"
