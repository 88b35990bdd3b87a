from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac

from ..tools.actions import window_action

UNSUBSCRIBE_SCOPE = "oms-deal-unsubscribe"
DEFAULT_BATCH = 500


def unsubscribe_token(env, partner_id):
    return hmac(env(su=True), UNSUBSCRIBE_SCOPE, partner_id)


def check_unsubscribe_token(env, partner_id, token):
    return bool(token) and consteq(unsubscribe_token(env, partner_id), token)


class OmsDeal(models.Model):
    """A deal announced by email to the customers who asked for deals, once per customer."""

    _name = "oms.deal"
    _check_company_auto = True
    _description = "Deal Notification"
    _inherit = ["mail.thread"]
    _order = "send_at desc, id desc"

    name = fields.Char(string="Title", required=True, tracking=True)
    body = fields.Html(string="Text", required=True, sanitize_style=True)
    coupon_code = fields.Char(tracking=True)
    valid_from = fields.Date(tracking=True)
    valid_until = fields.Date(tracking=True)
    channel_ids = fields.Many2many(
        "oms.channel",
        string="Channels",
        help="Customers of these channels; all when empty.",
        check_company=True,
    )
    country_ids = fields.Many2many(
        "res.country", string="Countries", help="Customers in these countries; all when empty."
    )
    ordered_within_days = fields.Integer(
        string="Ordered in the Last (days)", help="Only customers with an order this recent; any time when 0."
    )
    send_at = fields.Datetime(string="Send At", tracking=True, copy=False)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    recipient_ids = fields.One2many("oms.deal.recipient", "deal_id", string="Recipients", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True, copy=False)
    audience_count = fields.Integer(string="Audience", compute="_compute_audience_count")

    _oms_valid_dates = models.Constraint(
        "CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)",
        "A deal cannot end before it starts.",
    )

    @api.depends("channel_ids", "country_ids", "ordered_within_days", "company_id", "recipient_ids")
    def _compute_audience_count(self):
        for deal in self:
            deal.audience_count = self.env["res.partner"].search_count(deal._oms_audience_domain()) if deal.id else 0

    def _oms_audience_domain(self):
        """Opted-in customers with an email, not blacklisted, matching the deal's audience, not yet sent."""
        self.ensure_one()
        order_domain = [
            ("oms_channel_id", "!=", False),
            ("company_id", "=", self.company_id.id),
            ("state", "!=", "cancel"),
        ]
        if self.channel_ids:
            order_domain.append(("oms_channel_id", "in", self.channel_ids.ids))
        if self.ordered_within_days:
            since = fields.Datetime.now() - timedelta(days=self.ordered_within_days)
            order_domain.append(("date_order", ">=", since))
        customers = self.env["sale.order"].sudo()._search(order_domain).select("partner_id")
        domain = [
            ("id", "in", customers),
            ("oms_deal_optin", "=", True),
            ("email", "!=", False),
            ("is_blacklisted", "=", False),
            (
                "id",
                "not in",
                self.env["oms.deal.recipient"].sudo()._search([("deal_id", "=", self.id)]).select("partner_id"),
            ),
        ]
        if self.country_ids:
            domain.append(("country_id", "in", self.country_ids.ids))
        return domain

    def action_schedule(self):
        for deal in self:
            if deal.state != "draft":
                raise UserError(self.env._("Only a draft deal can be scheduled (%(deal)s).", deal=deal.name))
        self.filtered(lambda d: not d.send_at).send_at = fields.Datetime.now()
        self.write({"state": "scheduled"})
        for deal in self:
            deal._oms_enqueue_send()

    def action_cancel(self):
        self.filtered(lambda d: d.state in ("draft", "scheduled", "sending")).write({"state": "cancelled"})

    def action_draft(self):
        self.filtered(lambda d: d.state in ("scheduled", "cancelled") and not d.recipient_ids).write({"state": "draft"})

    def action_view_recipients(self):
        self.ensure_one()
        return window_action(
            self.env["oms.deal.recipient"],
            self.env._("Recipients"),
            domain=[("deal_id", "=", self.id)],
            views=[(False, "list")],
        )

    def _oms_send_batch(self, limit):
        """Queue the next ``limit`` emails of the deal; return how many were queued."""
        self.ensure_one()
        partners = self.env["res.partner"].sudo().search(self._oms_audience_domain(), limit=limit, order="id")
        if not partners:
            return 0
        recipients = (
            self.env["oms.deal.recipient"]
            .sudo()
            .create([{"deal_id": self.id, "partner_id": partner.id} for partner in partners])
        )
        template = self.env.ref("oms_ecommerce.mail_template_oms_deal")
        mails = template.sudo().send_mail_batch(recipients.ids)
        for recipient, mail in zip(recipients, mails, strict=True):
            recipient.mail_id = mail
            # RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button.
            mail.headers = repr(
                {
                    "List-Unsubscribe": f"<{recipient.unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
            )
        self.sent_count += len(recipients)
        return len(recipients)

    def _oms_enqueue_send(self):
        """The queue job that sends the deal's next batch (not before its send time). The identity key keeps one
        waiting job per deal, however often it is asked."""
        self.ensure_one()
        now = fields.Datetime.now()
        return self.with_delay(
            eta=self.send_at if self.send_at and self.send_at > now else None,
            identity_key=f"oms.deal:{self.id}:send",
            description=self.env._("Deal %(deal)s: send the next batch", deal=self.name),
        )._job_send()

    def _job_send(self):
        """A queue job: queue the next batch of the deal's emails (Odoo's mail queue sends them), then enqueue the
        next batch's job; the last one marks the deal sent. Each batch is its own transaction: a worker killed in
        the middle of a deal resumes at the next batch, and nobody gets the email twice (one recipient row per
        customer and deal, unique).

        :return: how many emails this batch queued
        """
        self.ensure_one()
        if self.state not in ("scheduled", "sending"):
            return 0  # cancelled (or sent) meanwhile
        if self.send_at and self.send_at > fields.Datetime.now():
            self._oms_enqueue_send()  # moved to a later time after it was scheduled
            return 0
        self.state = "sending"
        param = self.env["ir.config_parameter"].sudo().get_param("oms_ecommerce.deal_batch_size", DEFAULT_BATCH)
        sent = self._oms_send_batch(int(param))
        if sent:
            self._oms_enqueue_send()
        else:
            self.state = "sent"
            self.message_post(
                body=self.env._("Deal sent to %(count)s customers.", count=self.sent_count),
                subtype_xmlid="mail.mt_note",
            )
        return sent

    @api.model
    def _cron_send_deals(self):
        """Safety net: a due deal without a waiting job (its job was deleted, or failed for good) gets one."""
        deals = self.search([("state", "in", ("scheduled", "sending")), ("send_at", "<=", fields.Datetime.now())])
        for deal in deals:
            deal._oms_enqueue_send()


class OmsDealRecipient(models.Model):
    _name = "oms.deal.recipient"
    _description = "Deal Recipient"
    _order = "id desc"

    deal_id = fields.Many2one("oms.deal", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", index=True)
    email = fields.Char(related="partner_id.email")
    mail_id = fields.Many2one("mail.mail", string="Queued Email", ondelete="set null", readonly=True)
    unsubscribe_url = fields.Char(compute="_compute_unsubscribe_url")

    _oms_once_per_deal = models.Constraint("UNIQUE (deal_id, partner_id)", "A customer receives a deal once.")

    def _compute_unsubscribe_url(self):
        for recipient in self:
            partner = recipient.partner_id
            base = partner.get_base_url()
            recipient.unsubscribe_url = (
                f"{base}/oms/deals/unsubscribe/{partner.id}/{unsubscribe_token(self.env, partner.id)}"
            )
