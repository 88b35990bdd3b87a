from odoo.tests import HttpCase, new_test_user, tagged

from .common import OmsCommon, order_payload


@tagged("post_install", "-at_install")
class TestPortalTimeline(HttpCase, OmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_user = new_test_user(
            cls.env, "ann_portal", groups="base.group_portal", email="ann.portal@example.com", name="Ann Portal"
        )
        cls.other_user = new_test_user(cls.env, "bob_portal", groups="base.group_portal", email="bob@example.com")
        payload = order_payload("P-1001", customer={"email": "ann.portal@example.com", "name": "Ann Portal"})
        [(_status, body)] = cls.env["oms.intake"]._receive(cls.channel, [payload])
        cls.order = cls.env["sale.order"].browse(body["id"])
        cls.order.action_confirm()
        cls.env["oms.intake"]._receive(cls.channel, [order_payload("P-2002", customer={"email": "bob@example.com"})])

    def test_my_orders_shows_the_step(self):
        self.assertEqual(self.order.partner_id, self.customer_user.partner_id)
        self.authenticate("ann_portal", "ann_portal")
        page = self.url_open("/my/orders").text
        self.assertIn(self.order.name, page)
        self.assertIn("Confirmed", page)
        other = self.env["sale.order"].search([("oms_external_id", "=", "P-2002")])
        self.assertNotIn(other.name, page)

    def test_order_page_timeline_logged_in_and_by_token(self):
        self.order._oms_hold("Fraud check on the card")
        self.authenticate("ann_portal", "ann_portal")
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Your order, step by step", page)
        for label in ("Received", "Confirmed", "On Hold"):
            self.assertIn(label, page)
        self.assertIn("ships by", page)
        self.assertNotIn("Fraud check", page, "the hold reason is internal")
        # From the email link, without logging in.
        self.logout()
        url = self.order.get_portal_url()
        self.assertIn("access_token=", url)
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your order, step by step", response.text)

    def test_another_customers_order_is_not_found(self):
        self.authenticate("bob_portal", "bob_portal")
        response = self.url_open(f"/my/orders/{self.order.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        response = self.url_open(f"/my/orders/{self.order.id}?access_token=wrong", allow_redirects=False)
        self.assertEqual(response.status_code, 404)

    def test_portal_tour(self):
        self.start_tour("/my/orders", "oms_portal_timeline_tour", login="ann_portal")
