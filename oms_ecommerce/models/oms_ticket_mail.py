from odoo import api, fields, models
from odoo.tools import html2plaintext

from .oms_ticket import MAX_ORDER_TOKENS, ORDER_TOKEN, TICKET_NUMBER


class OmsTicket(models.Model):
    """A ticket by email: the acknowledgement, the order found from the customer's words, incoming emails (new
    tickets or answers to one, by its number in the subject), and what an agent's answer changes."""

    _inherit = "oms.ticket"

    def _oms_send_ack(self):
        """Acknowledge each ticket once, with its number and the promised response time."""
        template = self.env.ref("oms_ecommerce.mail_template_ticket_ack", raise_if_not_found=False)
        todo = self.filtered(lambda t: not t.ack_sent and t.partner_id.email)
        if not template or not todo:
            return
        for ticket in todo:
            ticket.message_post_with_source(
                template,
                message_type="auto_comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=ticket.partner_id.ids,
            )
        todo.write({"ack_sent": True})

    @api.model
    def _oms_find_order(self, partner, text):
        """The sender's channel order named in ``text`` by its number or channel id, and other matches."""
        tokens = {t.lstrip("#") for t in ORDER_TOKEN.findall(text or "")[:MAX_ORDER_TOKENS]}
        tokens.discard("")
        if not tokens:
            return self.env["sale.order"], self.env["sale.order"]
        SaleOrder = self.env["sale.order"].sudo()
        domain = [
            ("oms_channel_id", "!=", False),
            "|",
            ("name", "in", list(tokens)),
            ("oms_external_id", "in", list(tokens)),
        ]
        if not partner:
            return self.env["sale.order"], SaleOrder.search(domain, order="id desc", limit=5)
        customer = partner.commercial_partner_id
        mine = SaleOrder.search([*domain, ("partner_id", "child_of", customer.id)], order="id desc", limit=1)
        others = SaleOrder.search(
            [*domain, ("partner_id.commercial_partner_id", "!=", customer.id)], order="id desc", limit=5
        )
        return mine, others

    @api.model
    def _oms_ticket_in_subject(self, partner, subject):
        """The sender's open ticket whose number is in the subject ("[TCK/00042] ..."), if any."""
        numbers = TICKET_NUMBER.findall(subject or "")
        if not numbers or not partner:
            return self.browse()
        return self.search(
            [
                ("name", "in", numbers),
                ("partner_id", "child_of", partner.commercial_partner_id.id),
                ("stage", "!=", "closed"),
            ],
            limit=1,
        )

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        email_from = msg_dict.get("email_from")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id")).exists()
        if not partner and email_from:
            partner = self.env["mail.thread"]._partner_find_from_emails_single([email_from], no_create=False)
            msg_dict["author_id"] = partner.id
        existing = self._oms_ticket_in_subject(partner, msg_dict.get("subject"))
        if existing:
            # A new email (not a reply) about a ticket the customer already has: it joins that ticket.
            existing.message_update(msg_dict)
            return existing
        text = "{}\n{}".format(msg_dict.get("subject") or "", html2plaintext(msg_dict.get("body") or ""))
        order, others = self._oms_find_order(partner, text)
        team = self.env["oms.ticket.team"].browse(values.get("team_id"))
        if order and order.company_id != (team.company_id or self.env.company):
            order = order.browse()  # an order of another company than the team's is not linked (company check)
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("description", msg_dict.get("body"))
        values["partner_id"] = partner.id
        values["email_from"] = email_from
        if order:
            values["order_id"] = order.id
            values.setdefault("category", "where")
        ticket = super().message_new(msg_dict, custom_values=values)
        if others:
            ticket.message_post(
                body=self.env._(
                    "The email names order(s) %(orders)s of another customer: not linked.",
                    orders=", ".join(others.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return ticket

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if message.message_type not in ("comment", "email") or message.subtype_id != self.env.ref("mail.mt_comment"):
            return result
        author_user = message.author_id.user_ids[:1]
        bot = self.env.ref("base.partner_root", raise_if_not_found=False)
        if author_user and not author_user.share and message.author_id not in (self.partner_id | bot):
            if not self.first_response_at:
                now = fields.Datetime.now()
                self.sudo().write(
                    {
                        "first_response_at": now,
                        "response_hours": max(
                            self._oms_work_hours(self.opened_at, now) - self.response_paused_hours, 0.0
                        ),
                    }
                )
                if self.stage == "new":
                    self.sudo().stage = "in_progress"
                self._oms_sla_refresh(now)
        elif self.stage in ("waiting", "solved"):
            # The customer answered: the clock runs again.
            self.sudo().stage = "in_progress"
        return result
