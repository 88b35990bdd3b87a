import ast

from odoo import api, fields, models
from odoo.fields import Domain

from .oms_ticket import DONE_STAGES

QUEUE_KINDS = [("warehouse", "Warehouse"), ("service", "Customer Service"), ("accounting", "Accounting")]


class OmsOverviewQueue(models.Model):
    """A team's card on the Order Desk overview: what waits for the warehouse, customer service or
    accounting now. The figures are computed when the card is read, one counting query each, whatever
    the number of orders; each figure opens the list it counts (``action_open_figure``)."""

    _name = "oms.overview.queue"
    _description = "Order Desk Team Queue"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(QUEUE_KINDS, required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()

    # Warehouse
    to_pack_count = fields.Integer(string="Deliveries to Pack", compute="_compute_figures")
    waves_to_print_count = fields.Integer(string="Waves to Print", compute="_compute_figures")
    printing_count = fields.Integer(string="Being Printed", compute="_compute_figures")
    printing_progress = fields.Integer(string="Printing Progress (%)", compute="_compute_figures")
    shipped_today_count = fields.Integer(string="Shipped Today", compute="_compute_figures")
    not_handed_over_count = fields.Integer(string="Not Handed Over", compute="_compute_figures")
    # Customer service
    open_ticket_count = fields.Integer(string="Open Tickets", compute="_compute_figures")
    unassigned_ticket_count = fields.Integer(string="Unassigned", compute="_compute_figures")
    at_risk_ticket_count = fields.Integer(string="At Risk", compute="_compute_figures")
    breached_ticket_count = fields.Integer(string="Breached", compute="_compute_figures")
    oldest_waiting = fields.Char(string="Oldest Waiting", compute="_compute_figures")
    # Accounting
    to_invoice_count = fields.Integer(string="Not Invoiced", compute="_compute_figures")
    not_paid_out_count = fields.Integer(string="Not Paid Out", compute="_compute_figures")
    payout_mismatch_count = fields.Integer(string="Payouts with Mismatches", compute="_compute_figures")

    # ------------------------------------------------------------------
    # What each figure counts
    # ------------------------------------------------------------------
    @api.model
    def _figure_domains(self):
        """{figure: (model, domain)}: the records a figure counts, which its click opens."""
        channel_deliveries = Domain("picking_type_code", "=", "outgoing") & Domain(
            "sale_id.oms_channel_id", "!=", False
        )
        packed = Domain("move_line_ids", "any", [("quantity", ">", 0), ("result_package_id", "!=", False)])
        open_tickets = Domain("stage", "not in", DONE_STAGES)
        today = self.env["oms.channel"]._overview_day_start()
        return {
            "to_pack": (
                "stock.picking",
                channel_deliveries
                & Domain("state", "=", "assigned")
                & Domain("move_line_ids", "any", [("quantity", ">", 0), ("result_package_id", "=", False)]),
            ),
            "waves_to_print": (
                "stock.picking.batch",
                Domain("picking_type_code", "=", "outgoing")
                & Domain("state", "=", "in_progress")
                & Domain("oms_print_job_ids", "not any", [("state", "in", ("queued", "running"))])
                & Domain(
                    "picking_ids",
                    "any",
                    Domain("oms_label_printed_at", "=", False) & Domain("state", "not in", ("done", "cancel")) & packed,
                ),
            ),
            "printing": ("oms.wave.print", Domain("state", "in", ("queued", "running"))),
            "shipped_today": (
                "stock.picking",
                channel_deliveries & Domain("state", "=", "done") & Domain("date_done", ">=", today),
            ),
            "not_handed_over": (
                "stock.picking",
                channel_deliveries
                & Domain("state", "=", "done")
                & Domain("carrier_id", "!=", False)
                & Domain("oms_manifest_id", "=", False),
            ),
            "open_tickets": ("oms.ticket", open_tickets),
            "unassigned_tickets": ("oms.ticket", open_tickets & Domain("user_id", "=", False)),
            "at_risk_tickets": ("oms.ticket", open_tickets & Domain("sla_at_risk", "=", True)),
            "breached_tickets": ("oms.ticket", open_tickets & Domain("sla_breached", "=", True)),
            "waiting_tickets": (
                "oms.ticket",
                Domain("stage", "in", ("new", "in_progress")) & Domain("first_response_at", "=", False),
            ),
            "to_invoice": ("sale.order", self.env["sale.order"]._oms_invoice_due_domain()),
            "not_paid_out": (
                "sale.order",
                Domain("oms_channel_id", "!=", False)
                & Domain("state", "=", "sale")
                & Domain("oms_paid_out", "=", False),
            ),
            "payout_mismatch": ("oms.payout", Domain("state", "=", "draft") & Domain("mismatch_count", ">", 0)),
        }

    # Which figures a card of each kind shows.
    KIND_FIGURES = {
        "warehouse": ("to_pack", "waves_to_print", "printing", "shipped_today", "not_handed_over"),
        "service": ("open_tickets", "unassigned_tickets", "at_risk_tickets", "breached_tickets", "waiting_tickets"),
        "accounting": ("to_invoice", "not_paid_out", "payout_mismatch"),
    }

    def _compute_figures(self):
        domains = self._figure_domains()
        wanted = {figure for kind in set(self.mapped("kind")) for figure in self.KIND_FIGURES.get(kind, ())}
        counts = {}
        printing_progress = 0
        oldest = False
        for figure in wanted:
            model, domain = domains[figure]
            Model = self.env[model]
            if not Model.has_access("read"):
                counts[figure] = 0
                continue
            if figure == "printing":
                # One query for the jobs and their average progress.
                [(count, progress)] = Model._read_group(domain, [], ["__count", "progress:avg"])
                counts[figure], printing_progress = count, round(progress or 0)
            elif figure == "waiting_tickets":
                [(count, oldest)] = Model._read_group(domain, [], ["__count", "opened_at:min"])
                counts[figure] = count
            else:
                counts[figure] = Model.search_count(domain)
        for queue in self:
            queue.to_pack_count = counts.get("to_pack", 0)
            queue.waves_to_print_count = counts.get("waves_to_print", 0)
            queue.printing_count = counts.get("printing", 0)
            queue.printing_progress = printing_progress
            queue.shipped_today_count = counts.get("shipped_today", 0)
            queue.not_handed_over_count = counts.get("not_handed_over", 0)
            queue.open_ticket_count = counts.get("open_tickets", 0)
            queue.unassigned_ticket_count = counts.get("unassigned_tickets", 0)
            queue.at_risk_ticket_count = counts.get("at_risk_tickets", 0)
            queue.breached_ticket_count = counts.get("breached_tickets", 0)
            queue.oldest_waiting = self._format_age(oldest) if oldest else False
            queue.to_invoice_count = counts.get("to_invoice", 0)
            queue.not_paid_out_count = counts.get("not_paid_out", 0)
            queue.payout_mismatch_count = counts.get("payout_mismatch", 0)

    @api.model
    def _format_age(self, since):
        """How long ago ``since`` was, as a person reads it on a card: 40 min, 5 h, 3 d."""
        minutes = max(int((fields.Datetime.now() - since).total_seconds() // 60), 0)
        if minutes < 60:
            return self.env._("%(minutes)s min", minutes=minutes)
        if minutes < 48 * 60:
            return self.env._("%(hours)s h", hours=minutes // 60)
        return self.env._("%(days)s d", days=minutes // (24 * 60))

    # ------------------------------------------------------------------
    # The click-throughs: the team's own lists, filtered
    # ------------------------------------------------------------------
    FIGURE_ACTIONS = {
        "to_pack": "oms_ecommerce.oms_delivery_action",
        "waves_to_print": "oms_ecommerce.oms_wave_action",
        "printing": "oms_ecommerce.oms_wave_print_action",
        "shipped_today": "oms_ecommerce.oms_delivery_action",
        "not_handed_over": "oms_ecommerce.oms_delivery_action",
        "open_tickets": "oms_ecommerce.oms_ticket_action",
        "unassigned_tickets": "oms_ecommerce.oms_ticket_action",
        "at_risk_tickets": "oms_ecommerce.oms_ticket_action",
        "breached_tickets": "oms_ecommerce.oms_ticket_action",
        "waiting_tickets": "oms_ecommerce.oms_ticket_action",
        "to_invoice": "oms_ecommerce.sale_order_action_oms",
        "not_paid_out": "oms_ecommerce.sale_order_action_oms_unpaid_out",
        "payout_mismatch": "oms_ecommerce.oms_payout_action",
    }

    def _figure_titles(self):
        return {
            "to_pack": self.env._("Deliveries to Pack"),
            "waves_to_print": self.env._("Waves to Print"),
            "printing": self.env._("Wave Documents Being Printed"),
            "shipped_today": self.env._("Shipped Today"),
            "not_handed_over": self.env._("Shipped, Not Handed Over"),
            "open_tickets": self.env._("Open Tickets"),
            "unassigned_tickets": self.env._("Unassigned Tickets"),
            "at_risk_tickets": self.env._("Tickets at Risk"),
            "breached_tickets": self.env._("Breached Tickets"),
            "waiting_tickets": self.env._("Tickets Waiting for a First Answer"),
            "to_invoice": self.env._("Orders to Invoice"),
            "not_paid_out": self.env._("Orders Not Paid Out"),
            "payout_mismatch": self.env._("Draft Payouts with Mismatches"),
        }

    def action_open_figure(self):
        """Open the list behind a figure (named in the context): the team's usual list, filtered on what
        the figure counts, its own default filters off."""
        self.ensure_one()
        figure = self.env.context.get("oms_figure")
        domains = self._figure_domains()
        if figure not in domains:
            return False
        model, domain = domains[figure]
        action = self.env["ir.actions.act_window"]._for_xml_id(self.FIGURE_ACTIONS[figure])
        base = Domain(ast.literal_eval(action["domain"]) if action.get("domain") else [])
        action["domain"] = list(base & domain)
        action["name"] = action["display_name"] = self._figure_titles()[figure]
        # A figure opens a list (the team's kanban stays one click away).
        action["views"] = sorted(action.get("views") or [], key=lambda view: view[1] != "list")
        # The list shows exactly what was counted: the action's default filters (open, ready...) would hide part.
        action["context"] = {"contact_display": "partner_address"} if model == "stock.picking" else {}
        return action
