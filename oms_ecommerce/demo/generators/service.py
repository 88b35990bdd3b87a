from datetime import timedelta

from odoo import fields

# (order step, category, subject, how the customer wrote, agent's part)
DEMO_TICKETS = [
    ("shipped", "where", "Where is my parcel?", "email", "canned_solved"),
    ("delivered", "damaged", "The teapot arrived broken", "portal", "waiting"),
    ("delayed", "where", "When will my order ship?", "email", "new"),
    ("packed", "payment", "Can I get an invoice with my VAT number?", "portal", "assigned"),
    ("returned", "return", "Refund for my return?", "email", "late_answer"),
    ("received", "other", "Can I change the delivery address?", "email", "new_old"),
]


class ServiceDemo:
    # Longer than ~60 lines on purpose: demo data told as one story, step after step (not production code).
    def _generate_service_desk(self):
        """Tickets at every stage (by email through the mail gateway, from the portal, by agents) and deals."""
        team = self.env.ref("oms_ecommerce.oms_ticket_team_main")
        demo_user = self.env.ref("base.user_demo", raise_if_not_found=False) or self.env.user
        team.member_ids = [(4, demo_user.id)]
        Ticket = self.env["oms.ticket"]
        now = fields.Datetime.now()
        used = self.env["sale.order"]
        for index, (step, category, subject, source, agent_part) in enumerate(DEMO_TICKETS):
            order = self.env["sale.order"].search(
                [("oms_channel_id", "!=", False), ("oms_step", "=", step), ("id", "not in", used.ids)], limit=1
            )
            if not order:
                continue
            used |= order
            customer = order.partner_id
            if source == "email":
                raw = (
                    f"From: {customer.name} <{customer.email}>\r\nTo: support@example.com\r\n"
                    f"Subject: {subject}\r\nMessage-ID: <oms-demo-{index}@{customer.email.split('@')[1]}>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    f"Hello,\r\n\r\nAbout my order {order.oms_external_id}: {subject.lower()}\r\n\r\nThanks,\r\n"
                    f"{customer.name}\r\n"
                )
                ticket = Ticket.browse(
                    self.env["mail.thread"].message_process("oms.ticket", raw, custom_values={"team_id": team.id})
                )
                ticket.category = category
            else:
                ticket = Ticket.create(
                    {
                        "subject": subject,
                        "description": f"<p>{subject}. Order {order.client_order_ref or order.name}.</p>",
                        "partner_id": customer.id,
                        "order_id": order.id,
                        "category": category,
                        "team_id": team.id,
                    }
                )
            if agent_part in ("late_answer", "new_old"):
                # Opened two working days ago: the service level shows a breach.
                ticket.sudo().write({"opened_at": now - timedelta(days=2)})
            else:
                # Opened a few hours apart, so that response times differ in the analysis.
                ticket.sudo().write({"opened_at": now - timedelta(hours=3 + 4 * index)})
            if agent_part == "new":
                continue
            ticket.user_id = demo_user
            if agent_part in ("canned_solved", "waiting", "late_answer"):
                template = ticket._oms_suggested_template()
                ticket.with_user(demo_user).message_post_with_source(
                    template, message_type="comment", subtype_xmlid="mail.mt_comment", partner_ids=customer.ids
                )
            if agent_part == "canned_solved":
                ticket.action_solve()
            elif agent_part == "waiting":
                ticket.action_set_waiting()
        Ticket._cron_oms_sla()

        # Half of the customers asked for deals; one deal went out, the next is scheduled.
        customers = self.env["sale.order"].search([("oms_channel_id", "!=", False)]).partner_id.sorted("id")
        customers[::2].write({"oms_deal_optin": True})
        Deal = self.env["oms.deal"]
        sent = Deal.create(
            {
                "name": "Autumn tea week: 15% off all teas",
                "body": "<p>Our new harvest is in. Take 15% off every tea this week.</p>",
                "coupon_code": "TEA15",
                "valid_from": fields.Date.today() - timedelta(days=3),
                "valid_until": fields.Date.today() + timedelta(days=4),
                "send_at": now - timedelta(days=3),
            }
        )
        sent.state = "sending"
        sent._oms_send_batch(500)
        sent.state = "sent"
        Deal.create(
            {
                "name": "Free shipping weekend",
                "body": "<p>Free standard shipping on every order this weekend.</p>",
                "coupon_code": "SHIPFREE",
                "valid_from": fields.Date.today() + timedelta(days=7),
                "valid_until": fields.Date.today() + timedelta(days=9),
                "send_at": now + timedelta(days=6),
                "channel_ids": [(6, 0, self.env.ref("oms_ecommerce.channel_shop_us").ids)],
                "ordered_within_days": 90,
                "state": "scheduled",
            }
        )
