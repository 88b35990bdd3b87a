import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .common import order_payload
from .test_waves import OmsWaveCommon

CHANNEL_FIGURES = {
    "today": "overview_today_count",
    "week": "overview_week_count",
    "to_confirm": "overview_to_confirm_count",
    "confirm_overdue": "overview_confirm_overdue_count",
    "on_hold": "overview_on_hold_count",
    "late": "overview_late_count",
    "due_today": "overview_due_today_count",
    "sync_problem": "overview_sync_problem_count",
}
QUEUE_FIGURES = {
    "to_pack": "to_pack_count",
    "waves_to_print": "waves_to_print_count",
    "printing": "printing_count",
    "shipped_today": "shipped_today_count",
    "not_handed_over": "not_handed_over_count",
    "open_tickets": "open_ticket_count",
    "unassigned_tickets": "unassigned_ticket_count",
    "at_risk_tickets": "at_risk_ticket_count",
    "breached_tickets": "breached_ticket_count",
    "to_invoice": "to_invoice_count",
    "not_paid_out": "not_paid_out_count",
    "payout_mismatch": "payout_mismatch_count",
}
ACCOUNTING = ("to_invoice", "not_paid_out", "payout_mismatch")
# What the overview's two kanbans read (the fields of their cards).
CHANNEL_SPEC = {name: {} for name in ("name", "code", "color", "overview_graph", *CHANNEL_FIGURES.values())} | {
    "overview_intake_error_count": {}
}
QUEUE_SPEC = {name: {} for name in ("name", "kind", "printing_progress", "oldest_waiting", *QUEUE_FIGURES.values())}


class OmsOverviewCommon(OmsWaveCommon):
    def order(self, external_id, placed_at, ship_by, confirm_by=None, channel=None):
        """A received channel order placed at ``placed_at`` with the given promises."""
        payload = order_payload(external_id, placed_at=placed_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        [(status, body)] = self.receive(payload, channel=channel)
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        order.sudo().write({"oms_ship_by": ship_by, "oms_confirm_by": confirm_by or ship_by})
        return order


@tagged("post_install", "-at_install")
class TestOverview(OmsOverviewCommon):
    def test_channel_figures_and_their_lists(self):
        now = fields.Datetime.now()
        # The end of the day of the user who reads the figures (its time zone, not the test's superuser's: between
        # the two midnights, "tonight" of one is tomorrow for the other).
        tonight = self.env["oms.channel"].with_user(self.oms_user)._overview_day_start(-1) - timedelta(seconds=1)
        fresh = self.order("OV-FRESH", now, now + timedelta(days=3), confirm_by=now + timedelta(hours=1))
        late = self.order("OV-LATE", now - timedelta(days=3), now - timedelta(hours=1))
        held = self.order("OV-HELD", now - timedelta(days=10), tonight)
        held._oms_hold("Address to check")
        cancelled = self.order("OV-CANCELLED", now - timedelta(days=2), now - timedelta(days=1))
        cancelled._action_cancel()
        self.receive(order_payload("OV-BAD", lines=[{"sku": "NO-SUCH-SKU", "quantity": 1}]))
        other = self.channel.copy({"name": "Other Shop", "code": "other-shop"})
        other_order = self.order("OV-OTHER", now, now - timedelta(hours=2), channel=other)
        # Failed pushes, as queue_job reports them (the job function's on_fail_method): a shipment of an order
        # placed long ago, the late order's cancellation, and an order of the other channel.
        shipped = self.order("OV-SYNC", now - timedelta(days=20), now + timedelta(days=2))
        shipped.action_confirm()
        shipped.picking_ids._oms_sync_job_failed(exc_message="Shopify has no order OV-SYNC")
        late._oms_sync_job_failed(exc_message="Shopify refused the cancellation")
        other_order._oms_sync_job_failed(exc_message="Shopify refused the cancellation")

        channel = self.channel.with_user(self.oms_user)
        self.assertRecordValues(
            channel,
            [
                {
                    "overview_today_count": 1,
                    "overview_week_count": 3,  # fresh, late and cancelled (placed 2 days ago)
                    "overview_to_confirm_count": 2,  # fresh and late
                    "overview_confirm_overdue_count": 1,
                    "overview_on_hold_count": 1,
                    "overview_late_count": 1,  # not the cancelled one, whose promise is gone
                    "overview_due_today_count": 1,
                    "overview_intake_error_count": 1,
                    "overview_sync_problem_count": 2,  # the shipment's order and the late one, not the other's
                }
            ],
        )
        expected = {
            "today": fresh,
            "week": fresh | late | cancelled,
            "to_confirm": fresh | late,
            "confirm_overdue": late,
            "on_hold": held,
            "late": late,
            "due_today": held,
            "sync_problem": shipped | late,
        }
        for figure, orders in expected.items():
            action = channel.with_context(oms_figure=figure).action_oms_overview_open()
            self.assertEqual(action["res_model"], "sale.order")
            self.assertEqual(self.env["sale.order"].with_user(self.oms_user).search(action["domain"]), orders, figure)
        action = channel.with_context(oms_figure="intake_error").action_oms_overview_open()
        self.assertEqual(action["res_model"], "oms.intake")

        graph = json.loads(channel.overview_graph)[0]["values"]
        self.assertEqual(len(graph), 14)
        self.assertEqual([point["value"] for point in graph][-4:], [1, 1, 0, 1])  # late, cancelled, -, fresh
        self.assertEqual(sum(point["value"] for point in graph), 4)  # held: 10 days ago

    def _queue_figures(self):
        self.env.invalidate_all()
        queues = self.env["oms.overview.queue"].with_user(self.oms_manager).search([])
        return queues, {
            figure: queue[field]
            for queue in queues
            for figure, field in QUEUE_FIGURES.items()
            if figure in queue.KIND_FIGURES[queue.kind]
        }

    def test_team_queues_count_what_their_lists_show(self):
        """The team cards count across the database (the demo's orders too): compare before and after."""
        _queues, before = self._queue_figures()
        to_pack = self.delivery("OV-TOPACK")
        wave = self.wave(self.packed(2, prefix="OV-WAVE"))
        shipped = self.delivery("OV-SHIP")
        self.pack_all(shipped, tracking_ref="OVSHIP1")
        self.ship(shipped)
        self.assertTrue(shipped.carrier_id)
        Ticket = self.env["oms.ticket"]
        open_ticket = Ticket.create({"subject": "Where is it?", "category": "where"})
        at_risk = Ticket.create({"subject": "Late?", "category": "where", "user_id": self.oms_user.id})
        breached = Ticket.create({"subject": "Broken", "category": "other", "user_id": self.oms_user.id})
        at_risk.sudo().sla_at_risk = True
        breached.sudo().sla_breached = True
        Ticket.create({"subject": "Solved", "category": "other", "stage": "solved"})

        queues, after = self._queue_figures()
        # Accounting's figures depend on the channel's policies and are checked against their lists below.
        added = {figure: after[figure] - before[figure] for figure in after if figure not in ACCOUNTING}
        self.assertEqual(
            added,
            {
                "to_pack": 1,
                "waves_to_print": 1,
                "printing": 0,
                "shipped_today": 1,
                "not_handed_over": 1,
                "open_tickets": 3,
                "unassigned_tickets": 1,
                "at_risk_tickets": 1,
                "breached_tickets": 1,
            },
        )
        service = queues.filtered(lambda q: q.kind == "service")
        self.assertTrue(service.oldest_waiting)
        lists = {
            "to_pack": to_pack,
            "waves_to_print": wave,
            "shipped_today": shipped,
            "not_handed_over": shipped,
            "unassigned_tickets": open_ticket,
            "at_risk_tickets": at_risk,
            "breached_tickets": breached,
        }
        for figure, records in lists.items():
            action = queues[0].with_context(oms_figure=figure).action_open_figure()
            found = self.env[action["res_model"]].search(action["domain"])
            self.assertEqual(found & records, records, figure)
            self.assertEqual(len(found), after[figure], figure)

        # A wave being printed leaves "to print" for "being printed", with its progress.
        job, _created = self.env["oms.wave.print"]._request(wave)
        job.progress = 40
        _queues, printing = self._queue_figures()
        self.assertEqual(printing["waves_to_print"], after["waves_to_print"] - 1)
        self.assertEqual(printing["printing"], after["printing"] + 1)
        warehouse = queues.filtered(lambda q: q.kind == "warehouse")
        if not after["printing"]:
            self.assertEqual(warehouse.printing_progress, 40)

    def test_every_figure_opens_the_list_it_counts(self):
        """Whatever the data, the number on a card is the number of rows its click shows."""
        now = fields.Datetime.now()
        self.order("OV-A", now, now - timedelta(hours=1))
        self.order("OV-B", now - timedelta(days=1), now + timedelta(days=1))
        self.packed(1, prefix="OV-C")
        channel = self.channel.with_user(self.oms_user)
        for figure, field in CHANNEL_FIGURES.items():
            action = channel.with_context(oms_figure=figure).action_oms_overview_open()
            self.assertEqual(self.env["sale.order"].search_count(action["domain"]), channel[field], figure)
        for queue in self.env["oms.overview.queue"].with_user(self.oms_manager).search([]):
            for figure in queue.KIND_FIGURES[queue.kind]:
                action = queue.with_context(oms_figure=figure).action_open_figure()
                self.assertTrue(action, figure)
                if figure in QUEUE_FIGURES:
                    count = self.env[action["res_model"]].search_count(action["domain"])
                    self.assertEqual(count, queue[QUEUE_FIGURES[figure]], figure)

    def test_overview_reads_in_a_bounded_number_of_queries(self):
        """The overview's two kanban reads cost the same number of queries for 3 channels with 3 orders as
        for 30 channels with 60: each figure is one grouped query for all the cards, whatever the volume."""
        now = fields.Datetime.now()

        def make_channels(start, count):
            channels = self.env["oms.channel"]
            for n in range(start, start + count):
                channel = self.channel.copy({"name": f"Shop {n}", "code": f"shop-{n}"})
                self.order(f"OV-Q{n}-1", now - timedelta(days=n % 7), now - timedelta(hours=1), channel=channel)
                if n % 3 == 0:
                    self.order(f"OV-Q{n}-2", now, now + timedelta(hours=5), channel=channel)
                channels |= channel
            return channels

        def read_overview():
            self.env.invalidate_all()
            Channel = self.env["oms.channel"].with_user(self.oms_manager)
            Queue = self.env["oms.overview.queue"].with_user(self.oms_manager)
            channels = Channel.web_search_read([], CHANNEL_SPEC)
            queues = Queue.web_search_read([], QUEUE_SPEC)
            return channels["length"], queues["length"]

        make_channels(1, 2)
        self.env.flush_all()
        read_overview()  # the first read fills the registry's caches (access rules, views): not the overview's cost
        with self.assertQueryCount(OVERVIEW_QUERY_BUDGET):
            small = read_overview()
        make_channels(3, 27)
        self.env.flush_all()
        with self.assertQueryCount(OVERVIEW_QUERY_BUDGET):
            large = read_overview()
        self.assertEqual(large[0] - small[0], 27)
        self.assertEqual(large[1], 3)


@tagged("post_install", "-at_install")
class TestOverviewTours(HttpCase, OmsOverviewCommon):
    """The overview as each team uses it, in Chromium."""

    def test_desk_clicks_late_and_lands_on_the_late_orders(self):
        now = fields.Datetime.now()
        self.order("TOUR-LATE", now - timedelta(days=2), now - timedelta(hours=3))
        self.order("TOUR-ON-TIME", now, now + timedelta(days=2))
        self.start_tour("/odoo/action-oms_ecommerce.oms_overview_action", "oms_overview_late_tour", login="oms_user")

    def test_warehouse_prints_a_wave_from_the_overview(self):
        self.env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        # Every wave in the background here, as a large one would be.
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.wave_background_threshold", "0")
        wave = self.wave(self.packed(2, prefix="TOUR-WAVE"))
        wave.name = "TOUR-WAVE"
        self.start_tour(
            "/odoo/action-oms_ecommerce.oms_overview_action", "oms_overview_wave_tour", login="oms_team_packer"
        )
        self.env.invalidate_all()  # the tour wrote through the server's environment
        job = wave.oms_print_job_ids
        self.assertEqual(job.state, "queued")
        # The scheduled action's work, with wkhtmltopdf (tests render HTML unless forced).
        self.assertTrue(job.with_context(force_report_rendering=True)._run())
        self.assertRecordValues(job, [{"state": "done", "progress": 100, "delivery_count": 2}])
        self.start_tour(
            "/odoo/action-oms_ecommerce.oms_overview_action", "oms_overview_wave_done_tour", login="oms_team_packer"
        )

    def test_agent_answers_a_ticket_at_risk_with_a_canned_reply(self):
        self.company.email = "shop@example.com"
        order = self.order("TOUR-TICKET", fields.Datetime.now(), fields.Datetime.now() + timedelta(days=1))
        order.client_order_ref = "TOUR-TICKET"
        ticket = self.env["oms.ticket"].create(
            {
                "subject": "Where is my tea?",
                "partner_id": order.partner_id.id,
                "order_id": order.id,
                "category": "where",
                "user_id": self.oms_service_user.id,
            }
        )
        ticket.sudo().sla_at_risk = True
        self.start_tour(
            "/odoo/action-oms_ecommerce.oms_overview_action", "oms_overview_ticket_tour", login="oms_team_agent"
        )
        self.env.invalidate_all()  # the tour wrote through the server's environment
        self.assertTrue(ticket.first_response_at)
        answer = ticket.message_ids.filtered(lambda m: m.message_type == "comment" and "TOUR-TICKET" in str(m.body))
        self.assertEqual(answer.partner_ids, order.partner_id)


# Measured: the two kanban reads, whatever the number of channels and orders (see the test).
OVERVIEW_QUERY_BUDGET = 30


@tagged("post_install", "-at_install")
class TestOrderManagementDashboard(OmsOverviewCommon):
    def test_dashboard_charts_read_fields_that_exist(self):
        """The spreadsheet's charts name models, groupings and measures as strings: a renamed field would
        leave an empty chart in the Dashboards app, so each one is checked against the registry."""
        dashboard = self.env.ref("oms_ecommerce.spreadsheet_dashboard_oms").with_user(self.oms_user)
        self.assertEqual(dashboard.name, "Order Management")
        data = json.loads(dashboard.spreadsheet_data)
        charts = [figure["data"] for sheet in data["sheets"] for figure in sheet["figures"]]
        self.assertEqual(len(charts), 4)
        for chart in charts:
            meta = chart["metaData"]
            Model = self.env[meta["resModel"]]
            for name in [*(g.split(":")[0] for g in meta["groupBy"]), meta["measure"]]:
                self.assertTrue(name == "__count" or name in Model._fields, f"{meta['resModel']}.{name}")
            # and the chart's data can be read as its graph does
            groups = Model.formatted_read_group(
                chart["searchParams"]["domain"],
                meta["groupBy"],
                [f"{meta['measure']}:sum"] if meta["measure"] != "__count" else ["__count"],
            )
            self.assertIsInstance(groups, list)
