import logging

from odoo import http
from odoo.tests import HttpCase, new_test_user, tagged

from .common import OmsCommon, order_payload

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestTicketPortal(HttpCase, OmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ann = new_test_user(
            cls.env, "ann_help", groups="base.group_portal", email="ann.help@example.com", name="Ann Help"
        )
        cls.bob = new_test_user(cls.env, "bob_help", groups="base.group_portal", email="bob.help@example.com")
        orders = {}
        for key, email in (("ann", "ann.help@example.com"), ("bob", "bob.help@example.com")):
            payload = order_payload(f"HELP-{key}", customer={"email": email, "name": key.title()})
            [(status, body)] = cls.env["oms.intake"]._receive(cls.channel, [payload])
            assert status == 201, body
            orders[key] = cls.env["sale.order"].browse(body["id"])
        cls.ann_order, cls.bob_order = orders["ann"], orders["bob"]
        cls.ann_order.action_confirm()
        assert cls.ann_order.partner_id == cls.ann.partner_id

    def post_ticket(self, **data):
        data.setdefault("csrf_token", http.Request.csrf_token(self))
        return self.url_open("/my/tickets/new", data=data)

    def test_customer_opens_a_ticket_about_their_order(self):
        self.authenticate("ann_help", "ann_help")
        page = self.url_open(f"/my/tickets/new?order_id={self.ann_order.id}").text
        self.assertIn(self.ann_order.client_order_ref or self.ann_order.name, page)
        self.assertNotIn(self.bob_order.client_order_ref or self.bob_order.name, page, "only one's own orders")
        response = self.post_ticket(
            order_id=str(self.ann_order.id),
            category="where",
            subject="Late parcel",
            message="Where is it?\n<b>Thanks</b>",
        )
        self.assertEqual(response.status_code, 200)
        ticket = self.env["oms.ticket"].search([("partner_id", "=", self.ann.partner_id.id)])
        self.assertRecordValues(
            ticket,
            [
                {
                    "order_id": self.ann_order.id,
                    "channel_id": self.channel.id,
                    "category": "where",
                    "subject": "Late parcel",
                    "ack_sent": True,
                }
            ],
        )
        self.assertIn("&lt;b&gt;Thanks&lt;/b&gt;", str(ticket.description), "the customer's text is escaped")
        self.assertTrue(response.url.endswith(f"/my/tickets/{ticket.id}"))
        self.assertIn(ticket.name, response.text)
        self.assertIn("Conversation", response.text)
        listing = self.url_open("/my/tickets").text
        self.assertIn(ticket.name, listing)

    def test_another_customers_order_or_ticket_is_refused(self):
        self.authenticate("ann_help", "ann_help")
        response = self.post_ticket(order_id=str(self.bob_order.id), category="where", subject="Hi", message="Look")
        self.assertIn("This order is not one of yours", response.text)
        self.assertFalse(self.env["oms.ticket"].search([("order_id", "=", self.bob_order.id)]))
        response = self.post_ticket(order_id="", category="other", subject="", message="No subject")
        self.assertIn("Please give a subject", response.text)
        self.assertIn("No subject", response.text, "what the customer typed is kept")
        bob_ticket = self.env["oms.ticket"].create(
            {"subject": "Bob's question", "partner_id": self.bob.partner_id.id, "order_id": self.bob_order.id}
        )
        response = self.url_open(f"/my/tickets/{bob_ticket.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(bob_ticket.name, self.url_open("/my/tickets").text)
        # As the ORM sees it, for the portal user: own tickets only.
        Ticket = self.env["oms.ticket"].with_user(self.ann)
        self.assertFalse(Ticket.search([("id", "=", bob_ticket.id)]))
        # The emailed link with the ticket's token opens it without logging in.
        self.logout()
        response = self.url_open(bob_ticket.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("Bob&#39;s question", response.text)

    def test_customer_answers_in_the_portal_conversation(self):
        ticket = self.env["oms.ticket"].create(
            {"subject": "Size?", "partner_id": self.ann.partner_id.id, "order_id": self.ann_order.id}
        )
        ticket.action_set_waiting()
        self.authenticate("ann_help", "ann_help")
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "oms.ticket",
                "thread_id": ticket.id,
                "post_data": {"body": "It is size M.", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"},
            },
        )
        posted = ticket.message_ids.filtered(lambda m: "It is size M." in str(m.body))
        self.assertEqual(posted.author_id, self.ann.partner_id)
        self.assertEqual(ticket.stage, "in_progress", "the customer answered: back to the desk")
        # Not on someone else's ticket.
        bob_ticket = self.env["oms.ticket"].create({"subject": "Bob's", "partner_id": self.bob.partner_id.id})
        with self.assertRaises(Exception) as refused:
            self.make_jsonrpc_request(
                "/mail/message/post",
                {"thread_model": "oms.ticket", "thread_id": bob_ticket.id, "post_data": {"body": "Intrusion"}},
            )
        _logger.info("posting on another customer's ticket: %s", refused.exception)
        self.assertRegex(str(refused.exception), "NotFound|AccessError|Forbidden")
        self.assertFalse(bob_ticket.message_ids.filtered(lambda m: "Intrusion" in str(m.body)))

    def test_order_page_offers_help(self):
        self.authenticate("ann_help", "ann_help")
        page = self.url_open(f"/my/orders/{self.ann_order.id}").text
        self.assertIn(f"/my/tickets/new?order_id={self.ann_order.id}", page)
        self.assertIn("Need help with this order?", page)

    def test_portal_ticket_tour(self):
        self.start_tour(f"/my/orders/{self.ann_order.id}", "oms_portal_ticket_tour", login="ann_help")
        ticket = self.env["oms.ticket"].search([("partner_id", "=", self.ann.partner_id.id)])
        self.assertRecordValues(
            ticket, [{"order_id": self.ann_order.id, "subject": "My parcel is late", "stage": "new", "ack_sent": True}]
        )
        self.assertIn("Any news?", str(ticket.description))
