from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError

from .sale_order import OmsDeliveredAtError

# A delivery time may be this many seconds in the future (the carrier's clock is not ours).
DELIVERY_CLOCK_SKEW = 300


class SaleOrder(models.Model):
    """The promise and the parcel: the ship-by date and the delays against it, what happens when the order
    ships, when it is delivered, its tracking links and the amount a courier collects (COD)."""

    _inherit = "sale.order"

    @api.model
    def _oms_plan_ship_by(self, channel, placed):
        """The ship-by promise of an order placed at ``placed`` (UTC) on ``channel``: its handling hours in the
        company's working time from the placed time, or from the next working day when the order was placed after
        the channel's cutoff hour (calendar's time zone). Planned by the intake, into the order's values."""
        calendar = channel.company_id.resource_calendar_id
        tz = pytz.timezone((calendar.tz if calendar else None) or "UTC")
        local = pytz.utc.localize(placed).astimezone(tz)
        start = placed
        if local.hour + local.minute / 60.0 >= channel.cutoff_hour:
            next_day = tz.localize(datetime.combine(local.date() + timedelta(days=1), time.min))
            start = next_day.astimezone(pytz.utc).replace(tzinfo=None)
        hours = channel.handling_hours
        ship_by = calendar.plan_hours(hours, start) if calendar and hours else False
        return ship_by or start + timedelta(hours=hours)

    @api.model
    def _cron_oms_detect_delays(self, limit=1000):
        """Mark channel orders past their ship-by promise as delayed (one email, one activity), set-based: the
        steps recorded in one insert, their emails composed by queue jobs after the run, the activities created
        in one insert."""
        late = self.search(
            [
                ("oms_channel_id", "!=", False),
                ("oms_delayed", "=", False),
                ("oms_ship_outcome", "=", False),
                ("oms_ship_by", "<", fields.Datetime.now()),
                ("state", "in", ("draft", "sent", "sale")),
                ("oms_step", "not in", ("shipped", "delivered", "cancelled", "returned")),
            ],
            limit=limit,
        )
        late.sudo().oms_delayed = True
        # "delayed": the customer is told once, if the channel says so, by the step-email jobs right after
        late.with_context(oms_notify_in_background=True)._oms_reach_steps()
        self.env["oms.order.step"]._oms_enqueue_gathered()
        late._oms_schedule_activities(
            "mail.mail_activity_data_todo",
            lambda order: {
                "date_deadline": fields.Date.context_today(order),
                "summary": self.env._(
                    "Late: ship-by %(deadline)s passed", deadline=fields.Datetime.to_string(order.oms_ship_by)
                ),
                "user_id": (order.oms_channel_id.user_id or order.user_id or self.env.user).id,
            },
        )
        return len(late)

    def _oms_on_shipped(self):
        """Keep whether the promise was kept; the delay, if any, ends."""
        now = fields.Datetime.now()
        for order in self.filtered(lambda o: o.oms_step == "shipped" and not o.oms_ship_outcome):
            late = order.oms_delayed or (order.oms_ship_by and now > order.oms_ship_by)
            order.sudo().write({"oms_ship_outcome": "late" if late else "on_time", "oms_delayed": False})

    def action_oms_mark_delivered(self, at=None):
        """The carrier delivered the order (by hand, an import, or the channel API).

        :param at: when it was delivered (naive UTC); now when not given
        :raises UserError: the order has not shipped, or ``at`` is before it shipped or in the future
        """
        self.check_access("write")
        self._oms_lock()  # a concurrent repeat waits here, then answers as a sequential one
        for order in self:
            if order.oms_step not in ("shipped", "delivered"):
                raise UserError(
                    self.env._("Order %(order)s has not shipped yet, so it cannot be delivered.", order=order.name)
                )
        todo = self.filtered(lambda o: not o.oms_delivered_at)
        for order in todo:
            problem = order._oms_delivered_at_problem(at)
            if problem:
                raise OmsDeliveredAtError(problem)
        todo.sudo().write({"oms_delivered_at": at or fields.Datetime.now()})
        for order in todo:
            order._oms_record_step("delivered", at=order.oms_delivered_at)
        return True

    def _oms_shipped_at(self):
        """When the order's last outgoing delivery left the warehouse (naive UTC), or False."""
        self.ensure_one()
        done = self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and not p.return_id and p.state == "done" and p.date_done
        )
        return max(done.mapped("date_done")) if done else False

    def _oms_delivered_at_problem(self, at):
        """Why ``at`` cannot be this order's delivery time (before it shipped, or in the future), or None."""
        self.ensure_one()
        if not at:
            return None
        now = fields.Datetime.now()
        if at > now + timedelta(seconds=DELIVERY_CLOCK_SKEW):
            return self.env._(
                "The delivery time %(at)s UTC is in the future (now: %(now)s UTC): send the time the carrier "
                "delivered the parcel.",
                at=fields.Datetime.to_string(at),
                now=fields.Datetime.to_string(now),
            )
        shipped_at = self._oms_shipped_at()
        if shipped_at and at < shipped_at:
            return self.env._(
                "The delivery time %(at)s UTC is before order %(order)s shipped (%(shipped)s UTC): a parcel is "
                "delivered after it ships. Send the carrier's delivery time.",
                at=fields.Datetime.to_string(at),
                order=self.name,
                shipped=fields.Datetime.to_string(shipped_at),
            )
        return None

    def _oms_cod_amount(self):
        """What the courier collects for a cash-on-delivery order: the amount the customer was told
        (the channel's total when it sent one), else the order's total; 0 when not cash on delivery."""
        self.ensure_one()
        if self.oms_payment_status != "cod":
            return 0.0
        return self.oms_channel_total or self.amount_total

    def _oms_is_shipped(self):
        self.ensure_one()
        return any(p.picking_type_code == "outgoing" and p.state == "done" for p in self.picking_ids)

    def _oms_tracking(self):
        """[{carrier, number, url}] of the order's shipments: one entry per tracking number, in parcel order
        (the deliveries' parcel rows, as on their labels and manifests)."""
        self.ensure_one()
        deliveries = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        return [
            {
                "carrier": row["picking"].carrier_id.name or "",
                "number": row["tracking"],
                "url": row["tracking_url"] or None,
            }
            for row in deliveries._oms_parcel_rows()
            if row["tracking"]
        ]
