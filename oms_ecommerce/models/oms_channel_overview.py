import json
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools.misc import format_date

# The steps of an order that is not finished yet: still on the desk's or the warehouse's plate.
OPEN_STEPS = ("received", "confirmed", "processing", "packed", "on_hold", "delayed")
GRAPH_DAYS = 14


class OmsChannel(models.Model):
    """The channel cards of the Order Desk overview, as Inventory's Overview does with operation types:
    every figure is computed for all the channels shown at once, one grouped query per figure, and each
    opens the list it counts (``action_oms_overview_open``)."""

    _inherit = "oms.channel"

    overview_today_count = fields.Integer(string="Received Today", compute="_compute_overview")
    overview_week_count = fields.Integer(string="Received in 7 Days", compute="_compute_overview")
    overview_to_confirm_count = fields.Integer(string="To Confirm", compute="_compute_overview")
    overview_confirm_overdue_count = fields.Integer(string="Confirmation Overdue", compute="_compute_overview")
    overview_on_hold_count = fields.Integer(string="On Hold", compute="_compute_overview")
    overview_late_count = fields.Integer(string="Late", compute="_compute_overview")
    overview_due_today_count = fields.Integer(string="Ship Today", compute="_compute_overview")
    overview_intake_error_count = fields.Integer(string="Intake Errors", compute="_compute_overview")
    overview_sync_problem_count = fields.Integer(
        string="Sync Problems",
        compute="_compute_overview",
        help="Orders whose push to the platform, or the push of one of their deliveries, failed.",
    )
    overview_graph = fields.Text(string="Orders per Day", compute="_compute_overview")

    # ------------------------------------------------------------------
    # The figures
    # ------------------------------------------------------------------
    @api.model
    def _overview_day_start(self, days_ago=0):
        """Midnight (in the user's time zone) ``days_ago`` days before today, as a naive UTC datetime."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        today = fields.Date.context_today(self.with_context(tz=tz.zone))
        local = tz.localize(datetime.combine(today - timedelta(days=days_ago), time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _overview_domains(self):
        """{figure: the orders it counts} (sale.order domains, without the channel)."""
        now = fields.Datetime.now()
        today = self._overview_day_start()
        tomorrow = self._overview_day_start(-1)
        open_orders = Domain("oms_step", "in", OPEN_STEPS)
        return {
            "today": Domain("oms_placed_at", ">=", today),
            "week": Domain("oms_placed_at", ">=", self._overview_day_start(6)),
            "to_confirm": Domain("oms_step", "=", "received"),
            "confirm_overdue": Domain("oms_step", "=", "received") & Domain("oms_confirm_by", "<", now),
            "on_hold": Domain("oms_step", "=", "on_hold"),
            "late": open_orders & Domain("oms_ship_by", "<", now),
            "due_today": open_orders & Domain("oms_ship_by", ">=", now) & Domain("oms_ship_by", "<", tomorrow),
            # the order's own push (a cancellation) or one of its deliveries' (a shipment) failed
            "sync_problem": Domain("oms_sync_failed", "=", True),
        }

    def _compute_overview(self):
        channels = Domain("oms_channel_id", "in", self.ids)
        Order = self.env["sale.order"]
        counts = {}
        for figure, domain in self._overview_domains().items():
            counts[figure] = dict(Order._read_group(channels & domain, ["oms_channel_id"], ["__count"]))
        Intake = self.env["oms.intake"]
        # Intake is the order desk's: other teams reading a channel card see no intake figure.
        counts["intake_error"] = (
            dict(
                Intake._read_group(
                    [("channel_id", "in", self.ids), ("state", "=", "error")], ["channel_id"], ["__count"]
                )
            )
            if Intake.has_access("read")
            else {}
        )
        graphs = self._overview_graph_data()
        for channel in self:
            channel.overview_today_count = counts["today"].get(channel, 0)
            channel.overview_week_count = counts["week"].get(channel, 0)
            channel.overview_to_confirm_count = counts["to_confirm"].get(channel, 0)
            channel.overview_confirm_overdue_count = counts["confirm_overdue"].get(channel, 0)
            channel.overview_on_hold_count = counts["on_hold"].get(channel, 0)
            channel.overview_late_count = counts["late"].get(channel, 0)
            channel.overview_due_today_count = counts["due_today"].get(channel, 0)
            channel.overview_intake_error_count = counts["intake_error"].get(channel, 0)
            channel.overview_sync_problem_count = counts["sync_problem"].get(channel, 0)
            channel.overview_graph = json.dumps(graphs.get(channel.id, []))

    def _overview_graph_data(self):
        """{channel id: the dashboard_graph widget's data}: orders placed per day over the last 14 days,
        for all the channels in one grouped query."""
        start = self._overview_day_start(GRAPH_DAYS - 1)
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        groups = (
            self.env["sale.order"]
            .with_context(tz=tz)
            ._read_group(
                [("oms_channel_id", "in", self.ids), ("oms_placed_at", ">=", start)],
                ["oms_channel_id", "oms_placed_at:day"],
                ["__count"],
            )
        )
        # A datetime grouped by day comes back as the day's start (in the user's time zone).
        per_day = {
            (channel.id, day.date() if isinstance(day, datetime) else day): count for channel, day, count in groups
        }
        first = fields.Date.context_today(self.with_context(tz=tz)) - timedelta(days=GRAPH_DAYS - 1)
        days = [first + timedelta(days=n) for n in range(GRAPH_DAYS)]
        result = {}
        for channel in self:
            values = [
                {
                    "label": format_date(self.env, day, date_format="d MMM"),
                    "value": per_day.get((channel.id, day), 0),
                    "type": "past",
                }
                for day in days
            ]
            result[channel.id] = [
                {"values": values, "title": self.env._("Orders per day"), "key": self.env._("Orders"), "area": True}
            ]
        return result

    # ------------------------------------------------------------------
    # The click-throughs
    # ------------------------------------------------------------------
    def _overview_titles(self):
        return {
            "today": self.env._("Received Today"),
            "week": self.env._("Received in the Last 7 Days"),
            "to_confirm": self.env._("Waiting for Confirmation"),
            "confirm_overdue": self.env._("Confirmation Overdue"),
            "on_hold": self.env._("On Hold"),
            "late": self.env._("Late"),
            "due_today": self.env._("To Ship Today"),
            "sync_problem": self.env._("Channel Sync Failed"),
        }

    def action_oms_overview_open(self):
        """Open the list a figure of the channel's card counts (the figure is in the context)."""
        self.ensure_one()
        figure = self.env.context.get("oms_figure")
        if figure == "intake_error":
            return self.action_view_intake_errors()
        domains = self._overview_domains()
        if figure not in domains:
            return self.action_view_orders()
        action = self.action_view_orders()
        action["domain"] = list(Domain("oms_channel_id", "=", self.id) & domains[figure])
        action["name"] = action["display_name"] = self.env._(
            "%(channel)s: %(figure)s", channel=self.name, figure=self._overview_titles()[figure]
        )
        return action
