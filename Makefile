# oms_ecommerce: every target does its own setup, idempotently.
# Settings (environment): ODOO_SRC (/opt/odoo19), OMS_DB (oms_demo), OMS_PORT (8069), PGHOST, PGPORT, PGUSER.
SHELL := /bin/bash
.PHONY: setup run test lint bench

setup:
	@scripts/setup.sh --browser

run:
	@scripts/run.sh

test:
	@scripts/test.sh

lint:
	@scripts/lint.sh

bench:
	@scripts/bench.sh
