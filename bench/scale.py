#!/usr/bin/env python3
"""Scale benchmark of oms_ecommerce: do costs stay flat as the database grows (issue 16, section 3)?

One throwaway database (``oms_bench_scale``, dropped at the end unless OMS_BENCH_KEEP=1), oms_ecommerce
installed without demo data, then grown to each size of OMS_SCALE_SIZES (default 1000,100000) channel
orders. The orders are generated set-based in SQL (INSERT … SELECT generate_series, a few statements per
size; the time is printed): one customer per 5 orders, orders in every step with the step history they
reached (received … delivered, cancelled), and 1 % due for each scan:
received orders past their confirm-by, confirmed orders past their ship-by, steps whose email is pending,
shipped orders to invoice, invoiced paid orders without a channel payment entry.

At each size, measured in this process:
- intake: ``oms.intake._receive`` of 30 fresh orders one by one (3 lines each, existing customers
  found by email): ms and queries per order;
- the order desk, as a user of the desk (oms manager): the list's first page (80 rows, the list
  view's fields), the kanban's columns by step and the first column's cards, the Late filter's first
  page: queries and server ms each;
- customer service, as an agent: the tickets' list (open tickets, first page) and kanban by stage, with one
  ticket per 2 orders generated with them (50,000 tickets at 100,000 orders);
- the scans of the scheduled actions: the search of each (delay detection, confirm reminders, confirm-by
  overdue, step emails, invoicing and channel payments: ms, queries and rows due), and delay detection and
  the confirm-by action (reminders, then overdue) run for real on a batch of 50 due orders (rolled back afterwards; the generated orders have
  no lines to invoice, so the accounting cron's work is not run, only what it reads);
- at the largest size, EXPLAIN ANALYZE of each scan with the partial indexes of oms_ecommerce and,
  in the same transaction, without them (dropped, then rolled back).

The last line: ``ratio 100000/1000: intake=… (goal <= 1.2), desk list=…, delay scan=…``.
Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, OMS_SCALE_SIZES, OMS_BENCH_DB, OMS_BENCH_KEEP=1.
"""

import os
import sys
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import intake as intake_bench

ROOT = common.ROOT
INDEXES = (
    "sale_order_oms_delay_scan_idx",
    "sale_order_oms_confirm_scan_idx",
    "sale_order_oms_remind_scan_idx",
    "sale_order_oms_invoice_scan_idx",
    "sale_order_oms_payment_scan_idx",
)


COUNT_LIMIT = 10001  # what the web client asks a list to count up to (web's DEFAULT_COUNT_LIMIT + 1)
BATCH = 50  # the scheduled actions run for real on this many due orders (their default batch is 1,000 / 500)


def DELAY_DOMAIN():  # what _cron_oms_detect_delays searches
    from odoo.fields import Datetime

    return [
        ("oms_channel_id", "!=", False),
        ("oms_delayed", "=", False),
        ("oms_ship_outcome", "=", False),
        ("oms_ship_by", "<", Datetime.now()),
        ("state", "in", ("draft", "sent", "sale")),
        ("oms_step", "not in", ("shipped", "delivered", "cancelled", "returned")),
    ]


def REMIND_DOMAIN():  # what _cron_oms_confirm_overdue searches first: the orders to remind of
    from datetime import timedelta

    from odoo.fields import Datetime

    return [
        ("oms_channel_id", "!=", False),
        ("state", "in", ("draft", "sent")),
        ("oms_hold", "=", False),
        ("oms_confirm_reminded", "=", False),
        ("create_date", "<=", Datetime.now() - timedelta(minutes=30)),
    ]


def CONFIRM_DOMAIN():  # what _cron_oms_confirm_overdue searches then: the overdue orders
    from odoo.fields import Datetime

    return [
        ("oms_channel_id", "!=", False),
        ("state", "in", ("draft", "sent")),
        ("oms_hold", "=", False),
        ("oms_confirm_overdue", "=", False),
        ("oms_confirm_by", "<", Datetime.now()),
    ]


def parse_args():
    parser = common.parser(__doc__.split("\n\n")[0], "oms_bench_scale", pg=True)
    parser.add_argument("--sizes", default=os.environ.get("OMS_SCALE_SIZES") or "1000,100000")
    parser.add_argument("--intake", type=int, default=30, help="orders received one by one per size")
    parser.add_argument("--reuse", action="store_true", default=os.environ.get("OMS_BENCH_REUSE") == "1")
    args = parser.parse_args()
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    return args


# ----------------------------------------------------------------------------------------------
# Generation, set-based
# ----------------------------------------------------------------------------------------------
GENERATE = """
-- Customers: one per 5 orders.
INSERT INTO res_partner (name, complete_name, email, email_normalized, type, active, is_company, lang,
                         company_id, customer_rank, create_date, write_date, autopost_bills)
SELECT 'Scale Customer ' || n, 'Scale Customer ' || n, 'scale' || n || '@example.com',
       'scale' || n || '@example.com', 'contact', TRUE, FALSE, 'en_US', NULL, 1, now(), now(), 'ask'
FROM generate_series(%(p_from)s, %(p_to)s) AS n;

-- Orders: kind k = n %% 100 sets the step; 0 to 4 are the 1 %% due of each scan.
INSERT INTO sale_order (name, company_id, partner_id, partner_invoice_id, partner_shipping_id, currency_id,
                        date_order, picking_policy, state, user_id, create_date, write_date, create_uid, write_uid,
                        oms_channel_id, oms_external_id, oms_placed_at, oms_step, oms_ship_by, oms_confirm_by,
                        oms_delayed, oms_ship_outcome, oms_confirm_overdue, oms_confirm_reminded, oms_hold,
                        invoice_status,
                        oms_payment_status, amount_untaxed, amount_tax, amount_total, delivery_status)
SELECT 'SC' || lpad(n::text, 7, '0'), %(company)s, p.id, p.id, p.id, %(currency)s,
       now() - make_interval(mins => (%(to)s - n)::int), 'direct',
       CASE WHEN k = 0 OR (k BETWEEN 5 AND 6) THEN 'draft' WHEN k BETWEEN 90 AND 94 THEN 'cancel' ELSE 'sale' END,
       %(uid)s, CASE WHEN k = 0 THEN now() - interval '1 hour' ELSE now() END, now(), %(uid)s, %(uid)s,
       %(channel)s, 'scale-' || n, now() - make_interval(mins => (%(to)s - n)::int),
       CASE WHEN k = 0 OR (k BETWEEN 5 AND 6) THEN 'received'
            WHEN k = 1 OR (k BETWEEN 7 AND 8) THEN 'confirmed'
            WHEN k BETWEEN 9 AND 10 THEN 'processing'
            WHEN k BETWEEN 11 AND 12 THEN 'packed'
            WHEN k BETWEEN 90 AND 94 THEN 'cancelled'
            WHEN k BETWEEN 2 AND 4 OR k BETWEEN 13 AND 40 THEN 'shipped'
            ELSE 'delivered' END,
       CASE WHEN k = 1 THEN now() - interval '1 hour' ELSE now() + interval '2 days' END
           - CASE WHEN k >= 13 AND k NOT BETWEEN 90 AND 94 THEN interval '30 days' ELSE interval '0' END,
       CASE WHEN k = 0 THEN now() - interval '1 hour' ELSE now() + interval '1 day' END,
       FALSE,
       CASE WHEN k BETWEEN 2 AND 4 OR (k >= 13 AND k NOT BETWEEN 90 AND 94) THEN 'on_time' END,
       FALSE, k IN (5, 6), FALSE,
       CASE WHEN k = 2 THEN 'to invoice' WHEN k IN (0, 5, 6) OR k BETWEEN 90 AND 94 THEN 'no' ELSE 'invoiced' END,
       CASE WHEN k = 3 THEN 'paid' ELSE 'cod' END,
       30, 0, 30, 'full'
FROM generate_series(%(from)s, %(to)s) AS n
CROSS JOIN LATERAL (SELECT n %% 100 AS k) AS kind
JOIN res_partner p ON p.email_normalized = 'scale' || (n / 5 + 1) || '@example.com';

-- The steps each order reached; 1 %% of the orders have their last step's email waiting for its job (k = 4).
INSERT INTO oms_order_step (order_id, company_id, step, at, notification, create_date, write_date, create_uid,
                            write_uid)
SELECT o.id, o.company_id, s.step, o.oms_placed_at + make_interval(hours => s.pos::int),
       CASE WHEN substring(o.oms_external_id FROM 7)::int %% 100 = 4 AND s.step = o.oms_step
            THEN 'queued' ELSE 'sent' END,
       now(), now(), %(uid)s, %(uid)s
FROM sale_order o
CROSS JOIN LATERAL unnest(
    CASE o.oms_step
        WHEN 'received' THEN ARRAY['received']
        WHEN 'confirmed' THEN ARRAY['received', 'confirmed']
        WHEN 'processing' THEN ARRAY['received', 'confirmed', 'processing']
        WHEN 'packed' THEN ARRAY['received', 'confirmed', 'processing', 'packed']
        WHEN 'shipped' THEN ARRAY['received', 'confirmed', 'processing', 'packed', 'shipped']
        WHEN 'delivered' THEN ARRAY['received', 'confirmed', 'processing', 'packed', 'shipped', 'delivered']
        ELSE ARRAY['received', 'cancelled'] END
) WITH ORDINALITY AS s(step, pos)
WHERE o.oms_channel_id = %(channel)s AND o.oms_external_id LIKE 'scale-%%'
  AND substring(o.oms_external_id FROM 7)::int BETWEEN %(from)s AND %(to)s;

-- Tickets: one per 2 orders (50,000 at 100,000 orders), about a customer's order; 80 %% solved or closed.
INSERT INTO oms_ticket (name, subject, partner_id, order_id, channel_id, company_id, category, priority, stage,
                        email_from, opened_at, first_response_at, solved_at, sla_at_risk, sla_breached,
                        create_date, write_date, create_uid, write_uid)
SELECT 'TCK/S' || lpad(o.n::text, 7, '0'), 'Where is my order ' || o.oms_external_id || '?', o.partner_id, o.id,
       o.oms_channel_id, o.company_id,
       (ARRAY['where', 'return', 'damaged', 'payment', 'other'])[o.n %% 5 + 1], '1',
       CASE WHEN o.n %% 10 < 6 THEN 'closed' WHEN o.n %% 10 < 8 THEN 'solved' WHEN o.n %% 10 = 8 THEN 'in_progress'
            ELSE 'new' END,
       'customer@example.com', o.create_date, CASE WHEN o.n %% 10 < 9 THEN o.create_date + interval '2 hours' END,
       CASE WHEN o.n %% 10 < 8 THEN o.create_date + interval '1 day' END, FALSE, o.n %% 100 = 9,
       now(), now(), %(uid)s, %(uid)s
FROM (SELECT so.*, substring(so.oms_external_id FROM 7)::int AS n FROM sale_order so
      WHERE so.oms_channel_id = %(channel)s AND so.oms_external_id LIKE 'scale-%%') AS o
WHERE o.n BETWEEN %(from)s AND %(to)s AND o.n %% 2 = 0;
"""


def generate(registry, ctx, start, stop):
    """Channel orders start..stop (numbers), their customers and step history, set-based."""
    with registry.cursor() as cr:
        cr.execute(
            GENERATE,
            {
                "from": start,
                "to": stop,
                "p_from": (start - 1) // 5 + (2 if start > 1 else 1),
                "p_to": stop // 5 + 1,
                "company": ctx["company_id"],
                "currency": ctx["currency_id"],
                "uid": ctx["admin_id"],
                "channel": ctx["channel_id"],
            },
        )
        cr.execute("ANALYZE sale_order; ANALYZE oms_order_step; ANALYZE res_partner; ANALYZE oms_ticket")


# ----------------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------------
def measure(registry, func, user_id, rollback=True):
    """(result, seconds, queries) of ``func(env)`` in a transaction of its own."""
    from odoo import api

    meter = intake_bench.SqlMeter()
    with registry.cursor() as cr:
        env = api.Environment(cr, user_id, {"tz": "UTC"})
        start = time.perf_counter()
        with meter.active():
            result = func(env)
            env.flush_all()
        seconds = time.perf_counter() - start
        if rollback:
            cr.rollback()
    return result, seconds, meter.count


def desk_fields(env, view_xmlid, model="sale.order"):
    arch = env.ref(view_xmlid).sudo()
    view = env[model].get_views([(arch.id, arch.type)])["views"][arch.type]["arch"]
    return {name: {} for name in etree.fromstring(view).xpath("//field[not(ancestor::field)]/@name")}


def measure_size(registry, ctx, args, size, payloads):
    figures = {}
    # Intake, one order per call, committed (they stay: the next size has them too).
    single, _batch = intake_bench.run_inprocess_intake(registry, ctx, payloads(f"i{size}", args.intake), [])
    figures["intake"] = (single.seconds / args.intake, single.meter.count / args.intake)

    desk_domain = [("oms_channel_id", "!=", False)]
    user = ctx["desk_user_id"]

    def desk_list(env):
        spec = desk_fields(env, "oms_ecommerce.sale_order_view_list_oms")
        return len(env["sale.order"].web_search_read(desk_domain, spec, limit=80, count_limit=COUNT_LIMIT)["records"])

    def kanban_page(env, model, view_xmlid, domain, group_by):
        """A kanban as the web client opens it: its columns, then the first non-empty column's cards."""
        spec = desk_fields(env, view_xmlid, model)
        Model = env[model].with_context(read_group_expand=True)
        groups = Model.formatted_read_group(domain, [group_by], ["__count"])
        first = next(group for group in groups if group["__count"])
        cards = Model.web_search_read(
            [*domain, (group_by, "=", first[group_by])], spec, limit=40, count_limit=COUNT_LIMIT
        )
        return len(groups), len(cards["records"])

    def desk_kanban(env):
        return kanban_page(env, "sale.order", "oms_ecommerce.sale_order_view_kanban_oms", desk_domain, "oms_step")

    def desk_late(env):
        spec = desk_fields(env, "oms_ecommerce.sale_order_view_list_oms")
        late = env["sale.order"].web_search_read(
            [*desk_domain, ("oms_delayed", "=", True)], spec, limit=80, count_limit=COUNT_LIMIT
        )
        return len(late["records"])

    open_tickets = [("stage", "not in", ("solved", "closed"))]  # the Tickets menu's default filter

    def tickets_list(env):
        spec = desk_fields(env, "oms_ecommerce.oms_ticket_view_list", "oms.ticket")
        return len(env["oms.ticket"].web_search_read(open_tickets, spec, limit=80, count_limit=COUNT_LIMIT)["records"])

    def tickets_kanban(env):
        return kanban_page(env, "oms.ticket", "oms_ecommerce.oms_ticket_view_kanban", open_tickets, "stage")

    for name, func, as_user in (
        ("desk list", desk_list, user),
        ("desk kanban", desk_kanban, user),
        ("desk late", desk_late, user),
        ("tickets list", tickets_list, ctx["agent_user_id"]),
        ("tickets kanban", tickets_kanban, ctx["agent_user_id"]),
    ):
        measure(registry, func, as_user)  # warm (views, caches), as a user reopening the desk
        _result, seconds, queries = measure(registry, func, as_user)
        figures[name] = (seconds, queries)
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM oms_ticket")
        figures["tickets"] = cr.fetchone()[0]

    admin = ctx["admin_id"]
    scans = {
        "delay detection (search)": lambda env: env["sale.order"].search_count(DELAY_DOMAIN()),
        "delay detection, batch of 50": lambda env: env["sale.order"]._cron_oms_detect_delays(limit=BATCH),
        "confirm reminders (search)": lambda env: env["sale.order"].search_count(REMIND_DOMAIN()),
        "confirm-by overdue (search)": lambda env: env["sale.order"].search_count(CONFIRM_DOMAIN()),
        "confirm-by, batch of 50": lambda env: env["sale.order"]._cron_oms_confirm_overdue(limit=BATCH),
        "step emails (search)": lambda env: env["oms.order.step"].search_count(
            [("notification", "in", ("queued", "pending", "waiting"))]
        ),
        "invoicing (search)": lambda env: env["sale.order"].search_count(env["sale.order"]._oms_invoice_due_domain()),
        "payments (search)": lambda env: env["sale.order"].search_count(env["sale.order"]._oms_payment_due_domain()),
    }
    for name, func in scans.items():
        rows, seconds, queries = measure(registry, func, admin)
        figures[name] = (seconds, queries, rows)
    return figures


def plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def explain(registry, ctx):
    """EXPLAIN ANALYZE of each scan's search, with the partial indexes and without them."""
    from odoo import api

    out = []
    with registry.cursor() as cr:
        env = api.Environment(cr, ctx["admin_id"], {})
        Order = env["sale.order"]
        searches = {
            "delay detection": Order._search(DELAY_DOMAIN(), limit=1000),
            "confirm reminders": Order._search(REMIND_DOMAIN(), limit=500),
            "confirm-by overdue": Order._search(CONFIRM_DOMAIN(), limit=500),
            "invoicing": Order._search(Order._oms_invoice_due_domain(), order="id"),
            "payments": Order._search(Order._oms_payment_due_domain(), order="id"),
        }
        for label in ("with the partial indexes", "without them"):
            if label == "without them":
                cr.execute("SAVEPOINT no_index")
                for index in INDEXES:
                    cr.execute(f'DROP INDEX IF EXISTS "{index}"')
            for name, query in searches.items():
                sql = query.select()
                cr.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql.code}", sql.params)
                plan = cr.fetchone()[0][0]
                scans = sorted(
                    {
                        f"{node['Node Type']} {node.get('Index Name', '')}".strip()
                        for node in plan_nodes(plan["Plan"])
                        if "Scan" in node["Node Type"]
                        and (
                            node.get("Relation Name") == "sale_order"
                            or node.get("Index Name", "").startswith("sale_order")
                        )
                    }
                )
                out.append(
                    f"  {name:<22} {label:<26} {plan['Execution Time']:8.1f} ms, "
                    f"{plan['Plan'].get('Shared Hit Blocks', 0) + plan['Plan'].get('Shared Read Blocks', 0)} "
                    f"pages read; sale_order read by: {', '.join(scans)}"
                )
        cr.rollback()
    return out


# ----------------------------------------------------------------------------------------------
def main():
    args = parse_args()
    odoo = intake_bench.load_odoo(args)
    created = False
    try:
        if args.reuse and intake_bench.module_state(args) == "installed":
            common.say(f"database {args.db}: reused")
        else:
            common.say(f"database {args.db}: installing oms_ecommerce without demo data …")
            seconds = intake_bench.install(args)
            created = True
            common.say(f"database {args.db}: installed in {seconds:.0f} s")
        registry = odoo.modules.registry.Registry(args.db)
        ctx = intake_bench.setup_data(registry)
        from odoo import api
        from odoo.tests.common import new_test_user

        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            ctx["currency_id"] = env.company.currency_id.id
            desk = env["res.users"].search([("login", "=", "scale_desk")]) or new_test_user(
                env, "scale_desk", groups="oms_ecommerce.group_oms_manager,stock.group_stock_user"
            )
            ctx["desk_user_id"] = desk.id
            agent = env["res.users"].search([("login", "=", "scale_agent")]) or new_test_user(
                env, "scale_agent", groups="oms_ecommerce.group_oms_service"
            )
            ctx["agent_user_id"] = agent.id
            env["oms.channel"].browse(ctx["channel_id"]).invoice_policy = "confirmed"
        tag = f"s{int(time.time())}"

        def payloads(path, count):
            return [intake_bench.order_payload(f"{tag}-{path}", i, ctx["currency"]) for i in range(count)]

        intake_bench.run_inprocess_intake(registry, ctx, payloads("warm", 3), [])
        common.say(f"machine: {os.cpu_count()} CPU(s), load average {intake_bench.load()}")
        results, generated = {}, 0
        for size in args.sizes:
            start = time.perf_counter()
            generate(registry, ctx, generated + 1, size)
            common.say(f"generated orders {generated + 1}..{size} set-based in {time.perf_counter() - start:.1f} s")
            generated = size
            results[size] = figures = measure_size(registry, ctx, args, size, payloads)
            common.say(f"{size} channel orders:")
            seconds, queries = figures["intake"]
            common.say(f"  intake, one order per call     {1000 * seconds:7.1f} ms/order, {queries:.1f} queries/order")
            for name in ("desk list", "desk kanban", "desk late"):
                seconds, queries = figures[name]
                common.say(f"  {name + ', first page':<30} {1000 * seconds:7.1f} ms, {queries} queries")
            common.say(f"  ({figures['tickets']} tickets, 20 % open, read by an agent of customer service)")
            for name in ("tickets list", "tickets kanban"):
                seconds, queries = figures[name]
                common.say(f"  {name + ', first page':<30} {1000 * seconds:7.1f} ms, {queries} queries")
            for name in (
                "delay detection (search)",
                "delay detection, batch of 50",
                "confirm reminders (search)",
                "confirm-by overdue (search)",
                "confirm-by, batch of 50",
                "step emails (search)",
                "invoicing (search)",
                "payments (search)",
            ):
                seconds, queries, rows = figures[name]
                common.say(f"  {name:<30} {1000 * seconds:7.1f} ms, {queries} queries, {rows} due")
        common.say("EXPLAIN ANALYZE of the scans at the largest size:")
        for line in explain(registry, ctx):
            common.say(line)
        small, large = results[args.sizes[0]], results[args.sizes[-1]]
        common.say(f"machine: load average {intake_bench.load()} after timing")
        common.say(
            f"ratio {args.sizes[-1]}/{args.sizes[0]}: intake={large['intake'][0] / small['intake'][0]:.2f} "
            f"(goal <= 1.2), desk list={large['desk list'][0] / small['desk list'][0]:.2f}, "
            f"kanban={large['desk kanban'][0] / small['desk kanban'][0]:.2f}, "
            f"tickets list={large['tickets list'][0] / small['tickets list'][0]:.2f}, "
            f"delay scan={large['delay detection (search)'][0] / small['delay detection (search)'][0]:.2f} "
            f"(for {args.sizes[-1] // args.sizes[0]}x the orders and due)"
        )
    finally:
        intake_bench.cleanup(args, odoo, None, drop=not args.keep and (created or not args.reuse))


if __name__ == "__main__":
    main()
