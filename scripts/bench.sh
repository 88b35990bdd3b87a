#!/usr/bin/env bash
# Intake benchmark: plain sale.order.create() against the channel API, order by order and in batch.
# Builds a throwaway database (OMS_BENCH_DB, default oms_bench), runs N orders per path (N, default 200),
# drops the database (unless OMS_BENCH_KEEP=1) and prints "ratio b/a=… c/a=…" last.
# Usage: scripts/bench.sh [bench/intake.py options, e.g. -n 50 --profile]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo_src
"$ROOT_DIR/scripts/setup.sh"

exec "$VENV/bin/python" "$ROOT_DIR/bench/intake.py" --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" "$@"
