#!/usr/bin/env bash
# Create (once) the demo database with Odoo's demo data and ours, then serve it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src
"$ROOT_DIR/scripts/setup.sh"

if ! psql ${PGHOST:+-h "$PGHOST"} -p "$PGPORT" -d "$OMS_DB" -tAc \
        "SELECT 1 FROM ir_module_module WHERE name = 'oms_ecommerce' AND state = 'installed'" 2>/dev/null | grep -q 1; then
    log "creating demo database $OMS_DB (Odoo demo data + oms_ecommerce demo orders); this takes a few minutes"
    dropdb --if-exists ${PGHOST:+-h "$PGHOST"} -p "$PGPORT" "$OMS_DB"
    odoo_bin -d "$OMS_DB" -i oms_ecommerce --with-demo --stop-after-init --workers 0 --max-cron-threads 0 \
        --log-level warn
fi
cat <<MSG

  Odoo with oms_ecommerce: http://localhost:$OMS_PORT/odoo/action-oms_ecommerce.sale_order_action_oms
  Login: admin   Password: admin   (database $OMS_DB)
  Channel API: http://localhost:$OMS_PORT/oms/v1/shop-us/orders  (demo secret: demo-secret-shop-us)

MSG
# -d alone, without --db-filter: the channels' requests carry no session, and Odoo serves them this database
# without listing PostgreSQL's databases on each one (README, Deployment notes).
# queue_job's runner: two jobs at once; the accounting and wave-document channels one at a time each.
export ODOO_QUEUE_JOB_CHANNELS=${ODOO_QUEUE_JOB_CHANNELS:-root:2,root.oms_accounting:1,root.oms_wave_print:1}
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
    ${PGHOST:+--db_host="$PGHOST"} --db_port="$PGPORT" --db_user="$PGUSER" \
    -d "$OMS_DB" --http-port "$OMS_PORT" --load="$OMS_SERVER_WIDE_MODULES" \
    ${OMS_RUN_ARGS:-}
