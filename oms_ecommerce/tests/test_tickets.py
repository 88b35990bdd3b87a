from datetime import UTC, datetime
from email.utils import format_datetime

from odoo.addons.mail.tests.common import MailCase
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .common import OmsCommon, OmsPackingCommon, order_payload

# A customer's plain-text email as the mail gateway receives it; the placeholders are those of mail's
# ``MockEmail.format`` (``format_and_process``), the body one of ours.
TICKET_EMAIL = """Return-Path: {return_path}
To: {to}
cc: {cc}
Received: by mail1.example.com (Postfix, from userid 10002)
    id 5DF9ABFB2A; {date}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit
Date: {date}
Message-ID: {msg_id}
{extra}

{body}
"""


class OmsTicketCommon(MailCase, OmsCommon):
    """The service team's alias support@shop.example.com, a customer with a channel order, an agent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "shop@shop.example.com"
        cls.alias_domain = cls.env["mail.alias.domain"].create({"name": "shop.example.com"})
        cls.company.alias_domain_id = cls.alias_domain
        cls.team = cls.env.ref("oms_ecommerce.oms_ticket_team_main")
        cls.team.write({"alias_name": "support", "alias_domain_id": cls.alias_domain.id, "company_id": cls.company.id})
        cls.agent = new_test_user(
            cls.env,
            "oms_agent",
            groups="oms_ecommerce.group_oms_service",
            email="agent@shop.example.com",
            name="Agent Smith",
        )
        [(status, body)] = cls.env["oms.intake"]._receive(cls.channel, [order_payload("WISMO-1001")])
        assert status == 201, body
        cls.order = cls.env["sale.order"].browse(body["id"])
        cls.customer = cls.order.partner_id

    def incoming(self, email_from, subject, body, msg_id, reply_to_msg_id=None, to="support@shop.example.com"):
        """An email through the mail gateway (mail's ``format_and_process``); returns the ticket it went to, found
        by the email's message id (``format_and_process`` looks for the record whose ``target_field`` equals the
        subject: the demo data has tickets of the same subjects, and a reply's ticket keeps its first subject)."""
        extra = f"In-Reply-To: {reply_to_msg_id}\nReferences: {reply_to_msg_id}" if reply_to_msg_id else ""
        self.format_and_process(
            TICKET_EMAIL,
            email_from,
            to,
            subject=subject,
            extra=extra,
            msg_id=f"<{msg_id}>",
            target_model="oms.ticket",
            target_field="name",
            date=format_datetime(datetime.now(UTC)),
            body=body,
        )
        message = self.env["mail.message"].search([("message_id", "=", f"<{msg_id}>")])
        self.assertEqual((len(message), message.model), (1, "oms.ticket"), "the email reached a ticket")
        return self.env["oms.ticket"].browse(message.res_id)

    def acks(self, ticket):
        return ticket.message_ids.filtered(
            lambda m: m.message_type == "auto_comment" and "We received your message" in (m.subject or "")
        )


@tagged("post_install", "-at_install")
class TestTicketEmail(OmsTicketCommon):
    def test_email_creates_a_ticket_for_the_customer_and_order(self):
        ticket = self.incoming(
            "Ann Lee <ann@example.com>",
            "Where is my parcel?",
            "Hello, my order #WISMO-1001 has not arrived.",
            "m1@client",
        )
        self.assertRecordValues(
            ticket,
            [
                {
                    "partner_id": self.customer.id,
                    "order_id": self.order.id,
                    "channel_id": self.channel.id,
                    "team_id": self.team.id,
                    "category": "where",
                    "stage": "new",
                    "subject": "Where is my parcel?",
                    "ack_sent": True,
                }
            ],
        )
        self.assertTrue(ticket.name.startswith("TCK/"))
        incoming = ticket.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(incoming.author_id, self.customer)
        # The acknowledgement: to the customer, with the ticket number and the promised response time.
        ack = self.acks(ticket)
        self.assertEqual(len(ack), 1)
        self.assertIn(self.customer, ack.partner_ids)
        self.assertIn(ticket.name, ack.subject)
        self.assertIn(ticket.name, str(ack.body))
        self.assertIn("8 working hours", str(ack.body))
        self.assertTrue(ticket.response_deadline)
        # The ticket shows the order live.
        self.assertEqual(ticket.order_step, "received")
        self.order.action_confirm()
        self.assertEqual(ticket.order_step, "confirmed")
        self.assertEqual(ticket.order_step_label, "Confirmed")
        self.assertIn("It ships by", ticket.order_expected_text)
        self.assertEqual(set(ticket.order_step_ids.mapped("step")), {"received", "confirmed"})

    def test_order_found_by_its_number_in_the_subject(self):
        ticket = self.incoming(
            "ann@example.com", f"Question about {self.order.name}", "Can I change the address?", "m2@c"
        )
        self.assertEqual(ticket.order_id, self.order)

    def test_unknown_sender_gets_a_ticket_but_not_someone_elses_order(self):
        ticket = self.incoming(
            "Mallory <mallory@evil.example>", "Order WISMO-1001", "Please send me the address of this order.", "m3@c"
        )
        self.assertTrue(ticket)
        self.assertFalse(ticket.order_id, "an order of another customer is never linked to a stranger's ticket")
        self.assertEqual(ticket.partner_id.email, "mallory@evil.example")
        self.assertNotEqual(ticket.partner_id, self.customer)
        self.assertIn("mallory@evil.example", ticket.email_from)
        note = ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("mail.mt_note"))
        self.assertIn(self.order.name, str(note.body))
        self.assertIn("another customer", str(note.body))

    def test_reply_threads_into_the_same_ticket_and_reopens_it(self):
        ticket = self.incoming("ann@example.com", "Where is my parcel?", "Order WISMO-1001", "m4@c")
        ack = self.acks(ticket)
        ticket.with_user(self.agent).message_post(
            body="Could you confirm your address?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        ticket.action_set_waiting()
        count = len(ticket.message_ids)
        same = self.incoming(
            "ann@example.com", "Re: " + ack.subject, "Yes, 1 Main St.", "m5@c", reply_to_msg_id=ack.message_id
        )
        self.assertEqual(same, ticket)
        self.assertEqual(self.env["oms.ticket"].search_count([("partner_id", "=", self.customer.id)]), 1)
        self.assertEqual(len(ticket.message_ids), count + 1)
        self.assertEqual(ticket.stage, "in_progress", "the customer answered: back to the agent")
        self.assertEqual(len(self.acks(ticket)), 1, "acknowledged once per ticket, not per email")

    def test_new_email_with_the_ticket_number_joins_the_ticket(self):
        ticket = self.incoming("ann@example.com", "Where is my parcel?", "WISMO-1001", "m7@c")
        same = self.incoming("ann@example.com", f"[{ticket.name}] one more thing", "Blue, not red.", "m8@c")
        self.assertEqual(same, ticket)
        self.assertTrue(ticket.message_ids.filtered(lambda m: "Blue, not red." in str(m.body)))
        # Someone else quoting the number gets a ticket of their own.
        other = self.incoming("eve@example.org", f"[{ticket.name}] hello", "Hi", "m9@c")
        self.assertNotEqual(other, ticket)

    def test_an_order_of_another_customer_cannot_be_linked(self):
        stranger = self.env["res.partner"].create({"name": "Stranger", "email": "stranger@example.org"})
        ticket = self.env["oms.ticket"].create({"subject": "Hello", "partner_id": stranger.id})
        with self.assertRaisesRegex(ValidationError, "belongs to"):
            ticket.order_id = self.order
        mine = self.env["oms.ticket"].create(
            {"subject": "Mine", "partner_id": self.customer.id, "order_id": self.order.id}
        )
        with self.assertRaisesRegex(ValidationError, "belongs to"):
            mine.partner_id = stranger

    def test_acknowledgement_once(self):
        ticket = self.env["oms.ticket"].create({"subject": "Wrong size", "partner_id": self.customer.id})
        self.assertTrue(ticket.ack_sent)
        ticket._oms_send_ack()
        ticket.write({"category": "return"})
        ticket._oms_send_ack()
        self.assertEqual(len(self.acks(ticket)), 1)
        mails = self.env["mail.mail"].search([("mail_message_id", "in", self.acks(ticket).ids)])
        self.assertEqual(mails.recipient_ids, self.customer)
        # A ticket without a customer address gets none and is not marked acknowledged.
        bare = self.env["oms.ticket"].create({"subject": "Walk-in question"})
        self.assertFalse(bare.ack_sent)
        self.assertFalse(self.acks(bare))

    def test_first_agent_answer_is_the_first_response(self):
        ticket = self.incoming("ann@example.com", "Where is my parcel?", "WISMO-1001", "m6@c")
        self.assertFalse(ticket.first_response_at, "the acknowledgement is not an answer")
        ticket.with_user(self.agent).message_post(
            body="Internal: checking with the warehouse", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertFalse(ticket.first_response_at, "an internal note is not an answer")
        ticket.with_user(self.agent).message_post(
            body="It left our warehouse today.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(ticket.first_response_at)
        self.assertEqual(ticket.stage, "in_progress")


@tagged("post_install", "-at_install")
class TestCannedReplies(OmsPackingCommon):
    def test_where_is_my_order_reply_fills_in_the_live_order(self):
        picking = self.delivery("CANNED-1")
        self.pack_all(picking, weight=1.0, tracking_ref="TRK123456")
        self.ship(picking)
        order = picking.sale_id
        self.assertEqual(order.oms_step, "shipped")
        ticket = self.env["oms.ticket"].create(
            {"subject": "Where is it?", "partner_id": order.partner_id.id, "order_id": order.id, "category": "where"}
        )
        action = ticket.action_canned_reply()
        template = self.env["mail.template"].browse(action["context"]["default_template_id"])
        self.assertEqual(template, self.env.ref("oms_ecommerce.mail_template_ticket_where"))
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.oms_service_user)
            .with_context(**action["context"])
            .create({})
        )
        body = str(composer.body)
        self.assertIn(order.client_order_ref or order.name, body)
        self.assertIn("Shipped", body)
        self.assertIn("Shipped on", body)
        self.assertIn("https://track.example.com/p/TRK123456", body)
        self.assertIn("TRK123456", body)
        # The agent edits and sends: it is the ticket's first response, emailed to the customer.
        composer.body = body.replace("Kind regards", "Sorry for the wait. Kind regards")
        composer._action_send_mail()
        sent = ticket.message_ids.filtered(lambda m: "Sorry for the wait" in str(m.body))
        self.assertEqual(sent.partner_ids, order.partner_id)
        self.assertTrue(ticket.first_response_at)

    def test_reply_without_an_order_asks_for_it(self):
        partner = self.env["res.partner"].create({"name": "No Order", "email": "no-order@example.com"})
        ticket = self.env["oms.ticket"].create({"subject": "Hello", "partner_id": partner.id, "category": "where"})
        body = self.env.ref("oms_ecommerce.mail_template_ticket_where")._render_field("body_html", ticket.ids)[
            ticket.id
        ]
        self.assertIn("send us your order number", str(body))
        generic = self.env["oms.ticket"].create({"subject": "Other", "category": "other"})._oms_suggested_template()
        self.assertEqual(generic, self.env.ref("oms_ecommerce.mail_template_ticket_generic"))


@tagged("post_install", "-at_install")
class TestTicketListScale(OmsTicketCommon):
    def test_5000_ticket_list_opens_with_bounded_queries(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "email": f"c{i}@example.com"} for i in range(50)]
        )
        Ticket = self.env["oms.ticket"].with_context(tracking_disable=True, mail_create_nolog=True, oms_no_ack=True)
        Ticket.create(
            [
                {
                    "subject": f"Question {i}",
                    "partner_id": self.customer.id if i % 10 == 0 else partners[i % 50].id,
                    "order_id": self.order.id if i % 10 == 0 else False,
                    "category": ("where", "return", "damaged", "payment", "other")[i % 5],
                    "user_id": self.agent.id if i % 3 == 0 else False,
                }
                for i in range(5000)
            ]
        )
        self.assertGreaterEqual(Ticket.search_count([]), 5000)
        self.env.invalidate_all()
        view = self.env.ref("oms_ecommerce.oms_ticket_view_list")
        fields_spec = {
            name: ({"fields": {"display_name": {}}} if Ticket._fields[name].type == "many2one" else {})
            for name in (
                "priority",
                "name",
                "subject",
                "partner_id",
                "order_id",
                "channel_id",
                "category",
                "team_id",
                "user_id",
                "response_deadline",
                "resolve_deadline",
                "stage",
                "sla_at_risk",
                "sla_breached",
                "company_id",
            )
        }
        self.assertTrue(view)
        Agent = self.env["oms.ticket"].with_user(self.agent)
        with self.assertQueryCount(17):
            result = Agent.web_search_read(
                [("stage", "not in", ("solved", "closed"))], fields_spec, limit=80, count_limit=10001
            )
        self.assertEqual(len(result["records"]), 80)
        self.assertGreaterEqual(result["length"], 5000)
        self.env.invalidate_all()
        with self.assertQueryCount(3):
            groups = Agent.web_read_group([], ["stage"], ["__count"])
        self.assertEqual(sum(g["__count"] for g in groups["groups"]), Ticket.search_count([]))
