#!/usr/bin/env bash
# Benchmarks, each on a throwaway database of its own, each printing its figures and its ratio last:
#  bench/intake.py   plain sale.order.create() + confirm against the channel API, order by order and in batch
#  bench/confirm.py  the order desk's bulk confirmation against plain action_confirm
#  bench/labels.py   200 shipping labels as one PDF against Odoo's delivery slips, 1,000 as ZPL
#  bench/webhooks.py 1,000 Shopify orders/create webhooks from 8 senders against the same orders through the API
#  bench/wave.py     a 100-delivery wave document against Odoo's delivery slips, then a 1,000-delivery wave
#  bench/returns.py  N returns received and credited at once against Odoo's return wizard + credit note
#  bench/outbound.py shipments and stock levels pushed through queue_job's runner to a stand-in Shopify (10 % 429/500)
#  bench/workers.py  API intake with 1, 2, 4 prefork workers and two servers; then (--hard) 10,000 orders, duplicates
#                    and batches from 16 senders while a worker is killed (kill -9), the senders retrying
# N (default 200) orders per path. Usage: scripts/bench.sh [intake|confirm|labels|wave|webhooks|returns|outbound|workers]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src
"$ROOT_DIR/scripts/setup.sh"

which=${1:-all}
status=0
if [ "$which" = all ] || [ "$which" = intake ]; then
    log "bench/intake.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/intake.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = confirm ]; then
    log "bench/confirm.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/confirm.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = labels ]; then
    log "bench/labels.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/labels.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = wave ]; then
    log "bench/wave.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/wave.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = webhooks ]; then
    log "bench/webhooks.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/webhooks.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = returns ]; then
    log "bench/returns.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/returns.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = outbound ]; then
    log "bench/outbound.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/outbound.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
if [ "$which" = all ] || [ "$which" = workers ]; then
    log "bench/workers.py"
    "$VENV/bin/python" "$ROOT_DIR/bench/workers.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
    log "bench/workers.py --hard"
    "$VENV/bin/python" "$ROOT_DIR/bench/workers.py" --hard --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" || status=1
fi
exit $status
