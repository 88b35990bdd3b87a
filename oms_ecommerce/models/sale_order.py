from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .oms_order_step import STEPS


class SaleOrder(models.Model):
    _inherit = "sale.order"

    oms_channel_id = fields.Many2one(
        "oms.channel",
        string="Sales Channel",
        index="btree_not_null",
        readonly=True,
        copy=False,
        check_company=True,
    )
    oms_external_id = fields.Char(
        string="Channel Order ID", readonly=True, copy=False, help="The order's id in the channel."
    )
    oms_intake_id = fields.Many2one("oms.intake", string="Intake", readonly=True, copy=False)
    oms_placed_at = fields.Datetime(string="Placed At", readonly=True, copy=False)
    oms_step = fields.Selection(
        STEPS,
        string="Step",
        compute="_compute_oms_step",
        store=True,
        index=True,
        copy=False,
    )
    oms_step_ids = fields.One2many("oms.order.step", "order_id", string="Steps", copy=False)
    oms_customer_note = fields.Text(string="Customer Note", copy=False)
    oms_gift_message = fields.Text(string="Gift Message", copy=False)
    oms_payment_status = fields.Selection(
        [("paid", "Paid"), ("pending", "Pending"), ("cod", "Cash on Delivery")],
        string="Channel Payment",
        copy=False,
    )
    oms_payment_method = fields.Char(string="Channel Payment Method", copy=False)
    oms_payment_reference = fields.Char(string="Payment Reference", copy=False)
    oms_payment_amount = fields.Monetary(string="Amount Paid", copy=False)

    _oms_channel_external_uniq = models.Constraint(
        "UNIQUE (oms_channel_id, oms_external_id)",
        "This channel already has an order with this external id.",
    )

    @api.depends("oms_channel_id", "state")
    def _compute_oms_step(self):
        for order in self:
            if not order.oms_channel_id:
                order.oms_step = False
            elif order.state == "cancel":
                order.oms_step = "cancelled"
            elif order.state == "sale":
                order.oms_step = "confirmed"
            else:
                order.oms_step = "received"

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        channel_orders = orders.filtered("oms_channel_id")
        if channel_orders:
            self.env["oms.order.step"].create(
                [
                    {
                        "order_id": order.id,
                        "step": "received",
                        "at": order.oms_intake_id.received_at or fields.Datetime.now(),
                    }
                    for order in channel_orders
                ]
            )
        return orders

    def _action_confirm(self):
        res = super()._action_confirm()
        self._oms_record_step("confirmed")
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self._oms_record_step("cancelled")
        return res

    def _oms_record_step(self, step, at=None):
        """Record that the channel orders of ``self`` reached ``step`` (once per order and step)."""
        orders = self.filtered("oms_channel_id")
        if not orders:
            return
        reached = set(
            self.env["oms.order.step"]
            .search([("order_id", "in", orders.ids), ("step", "=", step)])
            .mapped("order_id")
            .ids
        )
        self.env["oms.order.step"].create(
            [
                {"order_id": order.id, "step": step, "at": at or fields.Datetime.now()}
                for order in orders
                if order.id not in reached
            ]
        )

    def _oms_is_shipped(self):
        self.ensure_one()
        return any(p.picking_type_code == "outgoing" and p.state == "done" for p in self.picking_ids)

    def _oms_cancel_from_channel(self):
        """Cancel at the channel's request; refused once a delivery has left the warehouse."""
        for order in self:
            if order._oms_is_shipped():
                raise UserError(
                    _("Order %(order)s has already shipped and can no longer be cancelled.", order=order.name)
                )
        to_cancel = self.filtered(lambda o: o.state != "cancel")
        to_cancel._action_cancel()
        for order in to_cancel:
            order.message_post(
                body=_("Cancelled at the request of channel %(channel)s.", channel=order.oms_channel_id.name)
            )
        return True

    def _oms_tracking(self):
        """[{carrier, number, url}] of the order's shipped deliveries."""
        self.ensure_one()
        result = []
        for picking in self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.carrier_tracking_ref
        ):
            carrier = picking.carrier_id
            url = carrier.get_tracking_link(picking) if carrier else False
            for number in picking.carrier_tracking_ref.split(","):
                result.append({"carrier": carrier.name or "", "number": number.strip(), "url": url or None})
        return result

    def _oms_api_status(self):
        self.ensure_one()
        return {
            "external_id": self.oms_external_id,
            "order": self.name,
            "step": self.oms_step,
            "steps": [
                {"step": s.step, "at": fields.Datetime.to_datetime(s.at).strftime("%Y-%m-%dT%H:%M:%SZ")}
                for s in self.oms_step_ids.sorted(lambda s: (s.at, s.id))
            ],
            "tracking": self._oms_tracking(),
        }

    def action_oms_view_intake(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "oms.intake",
            "res_id": self.oms_intake_id.id,
            "view_mode": "form",
        }
