from odoo import _, api, fields, models

STEPS = [
    ("received", "Received"),
    ("confirmed", "Confirmed"),
    ("processing", "Processing"),
    ("packed", "Packed"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("on_hold", "On Hold"),
    ("delayed", "Delayed"),
    ("cancelled", "Cancelled"),
    ("returned", "Returned"),
]


# Steps the customer is emailed about (each can be switched off per channel).
NOTIFIED_STEPS = ("received", "confirmed", "packed", "shipped", "delivered", "delayed", "cancelled")


class OmsOrderStep(models.Model):
    _name = "oms.order.step"
    _description = "Step reached by a channel order"
    _order = "at, id"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    step = fields.Selection(STEPS, required=True)
    at = fields.Datetime(required=True, default=fields.Datetime.now)
    notification = fields.Selection(
        [
            ("pending", "To send"),
            ("waiting", "Waiting for tracking"),
            ("sent", "Sent"),
            ("off", "Not sent"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    notification_note = fields.Char(help="Why no email was sent for this step.")
    mail_message_id = fields.Many2one("mail.message", string="Email", ondelete="set null", readonly=True)

    _order_step_uniq = models.Constraint("UNIQUE (order_id, step)", "Each step of an order is recorded once.")

    # ------------------------------------------------------------------
    # One email per customer-facing step (see data/oms_automation.xml)
    # ------------------------------------------------------------------
    def _oms_notify(self):
        """Email the customer about each step of ``self`` not notified yet, at most once."""
        for step in self.filtered(lambda s: s.notification in ("pending", "waiting")):
            step._oms_notify_one()
        return True

    def _oms_notify_one(self):
        self.ensure_one()
        order = self.order_id
        channel = order.oms_channel_id
        template = self.env.ref(f"oms_ecommerce.mail_template_oms_{self.step}", raise_if_not_found=False)
        if not template or self.step not in NOTIFIED_STEPS or not channel[f"notify_{self.step}"]:
            self.write({"notification": "off", "notification_note": _("Not notified on this channel.")})
            return
        if self.step == "shipped" and order._oms_waits_for_tracking():
            self.notification = "waiting"
            return
        recipient = order.oms_notify_partner_id
        if not recipient:
            self.write({"notification": "off", "notification_note": _("The customer has no email address.")})
            return
        message = order.with_context(mail_notify_force_send=False).message_post_with_source(
            template, subtype_xmlid="oms_ecommerce.mt_oms_step"
        )
        self.write({"notification": "sent", "mail_message_id": message[:1].id, "notification_note": False})

    @api.model
    def _cron_oms_notify_pending(self, limit=1000):
        """Send what an automation missed, and shipped emails whose tracking number arrived."""
        steps = self.search([("notification", "in", ("pending", "waiting"))], limit=limit, order="id")
        steps._oms_notify()
        return len(steps)
