import logging
from datetime import timedelta

from odoo import fields, http
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..models.oms_deal import unsubscribe_token
from .common import OmsCommon, order_payload

_logger = logging.getLogger(__name__)


def run_jobs(trap, rounds=None):
    """Perform the trapped queue jobs as queue_job's runner would, and the jobs they enqueue, until none is left
    (or ``rounds`` rounds); returns how many were performed."""
    count = 0
    while trap.enqueued_jobs and (rounds is None or rounds > 0):
        jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
        for job in jobs:
            job.perform()
        count += len(jobs)
        rounds = None if rounds is None else rounds - 1
    return count


@tagged("post_install", "-at_install")
class TestDeals(HttpCase, OmsCommon):
    """Five customers of two channels: only opted-in, reachable ones of the deal's audience get it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_channel = cls.channel.copy({"name": "Other Shop", "code": "other-shop", "secret": "s3cret-other"})
        cls.customers = {}
        for key, email, country, channel in (
            ("ann", "ann.deals@example.com", "US", cls.channel),
            ("bob", "bob.deals@example.com", "US", cls.channel),
            ("cid", "cid.deals@example.com", "US", cls.channel),
            ("dan", "dan.deals@example.com", "US", cls.other_channel),
            ("eve", "eve.deals@example.com", "CA", cls.channel),
        ):
            address = dict(order_payload()["shipping_address"], name=key.title(), country_code=country, state_code="")
            payload = order_payload(
                f"DEAL-{key}", customer={"email": email, "name": key.title()}, shipping_address=address
            )
            [(status, body)] = cls.env["oms.intake"]._receive(channel, [payload])
            assert status == 201, body
            cls.customers[key] = cls.env["sale.order"].browse(body["id"]).partner_id
        # Only this test's customers asked for deals (the demo data has opted-in customers too).
        cls.env["res.partner"].search([("oms_deal_optin", "=", True)]).oms_deal_optin = False
        for key in ("ann", "bob", "dan", "eve"):
            cls.customers[key].oms_deal_optin = True
        cls.env["mail.blacklist"]._add("bob.deals@example.com")
        cls.deal = cls.env["oms.deal"].create(
            {
                "name": "Winter sale: 20% off",
                "body": "<p>Everything 20% off this week.</p>",
                "coupon_code": "WINTER20",
                "valid_from": fields.Date.today(),
                "valid_until": fields.Date.today() + timedelta(days=7),
                "channel_ids": [(6, 0, cls.channel.ids)],
                "country_ids": [(6, 0, cls.env.ref("base.us").ids)],
                "ordered_within_days": 30,
            }
        )

    def deal_mails(self, deal=None):
        recipients = (deal or self.deal).recipient_ids
        return self.env["mail.mail"].search([("model", "=", "oms.deal.recipient"), ("res_id", "in", recipients.ids)])

    def test_audience_and_once_per_customer(self):
        ann = self.customers["ann"]
        self.assertEqual(
            self.deal.audience_count,
            1,
            "only Ann: Bob is blacklisted, Cid did not opt in, Dan ordered on another channel, Eve lives in Canada",
        )
        with trap_jobs() as trap:
            self.deal.action_schedule()
            self.assertEqual(self.deal.state, "scheduled")
            trap.assert_jobs_count(1, only=self.deal._job_send)
            self.assertEqual(run_jobs(trap), 2)  # one batch, then the job that finds nobody left
        self.assertRecordValues(self.deal, [{"state": "sent", "sent_count": 1}])
        self.assertEqual(self.deal.recipient_ids.partner_id, ann)
        action = self.deal.action_view_recipients()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), self.deal.recipient_ids)
        mail = self.deal_mails()
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, ann)
        self.assertEqual(mail.state, "outgoing", "sent by Odoo's mail queue")
        self.assertIn("WINTER20", str(mail.body_html))
        self.assertIn(self.deal.recipient_ids.unsubscribe_url, str(mail.body_html))
        self.assertIn(f"<{self.deal.recipient_ids.unsubscribe_url}>", mail.headers)
        self.assertIn("List-Unsubscribe=One-Click", mail.headers)
        # A second run, even of a deal put back to sending, sends nobody a second email.
        self.deal.state = "sending"
        with trap_jobs():
            self.assertEqual(self.deal._job_send(), 0)
        self.assertEqual(self.deal.state, "sent")
        self.assertEqual(len(self.deal_mails()), 1)
        self.assertEqual(self.deal.sent_count, 1)
        self.assertEqual(self.deal.audience_count, 0)

    def test_older_orders_and_any_channel(self):
        old_order = self.env["sale.order"].search([("partner_id", "=", self.customers["ann"].id)])
        old_order.date_order = fields.Datetime.now() - timedelta(days=40)
        self.assertEqual(self.deal.audience_count, 0, "Ann's only order is older than 30 days")
        self.deal.write({"ordered_within_days": 0, "channel_ids": [(5,)], "country_ids": [(5,)]})
        self.assertEqual(
            self.env["res.partner"].search(self.deal._oms_audience_domain()),
            self.customers["ann"] | self.customers["dan"] | self.customers["eve"],
        )

    def test_batches_until_done(self):
        self.deal.write({"ordered_within_days": 0, "channel_ids": [(5,)], "country_ids": [(5,)]})
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.deal_batch_size", "2")
        with trap_jobs() as trap:
            self.deal.action_schedule()
            self.assertEqual(run_jobs(trap), 3)  # 2 + 1, then nobody left
        self.assertRecordValues(self.deal, [{"state": "sent", "sent_count": 3}])
        self.assertEqual(len(self.deal_mails()), 3)
        self.assertIn("sent to 3 customers", str(self.deal.message_ids[0].body))

    def test_each_batch_is_a_job_and_cancel_stops_between_batches(self):
        self.deal.write({"ordered_within_days": 0, "channel_ids": [(5,)], "country_ids": [(5,)]})
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.deal_batch_size", "1")
        with trap_jobs() as trap:
            self.deal.action_schedule()
            # One batch per job: a worker killed after a batch leaves the next batch's job, not a restart.
            run_jobs(trap, rounds=1)
            self.assertRecordValues(self.deal, [{"state": "sending", "sent_count": 1}])
            trap.assert_jobs_count(1, only=self.deal._job_send)
            run_jobs(trap, rounds=1)
            self.assertRecordValues(self.deal, [{"state": "sending", "sent_count": 2}])
            # A manager cancels between two batches: no more emails.
            self.deal.action_cancel()
            run_jobs(trap)
        self.assertRecordValues(self.deal, [{"state": "cancelled", "sent_count": 2}])
        self.assertEqual(len(self.deal_mails()), 2)

    def test_a_batch_costs_no_queries_per_recipient(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Bulk {i}", "email": f"bulk{i}@example.com", "oms_deal_optin": True} for i in range(40)]
        )
        self.env["sale.order"].create([{"partner_id": p.id, "oms_channel_id": self.channel.id} for p in customers])
        self.deal.write({"ordered_within_days": 0, "channel_ids": [(5,)], "country_ids": [(5,)]})
        self.deal.state = "sending"
        counts = []
        for size in (10, 30):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.assertEqual(self.deal._oms_send_batch(size), size)
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
        _logger.info("deal batch queries: 10 recipients %s, 30 recipients %s", *counts)
        self.assertLessEqual(counts[1] - counts[0], 20, f"queries for 10 and 30 recipients: {counts}")
        mails = self.deal_mails()
        self.assertEqual(len(mails), 40)
        self.assertTrue(all("List-Unsubscribe" in (m.headers or "") for m in mails))
        self.assertEqual(self.deal.recipient_ids.mail_id, mails)

    def test_future_deal_waits_and_schedule_only_drafts(self):
        self.deal.send_at = fields.Datetime.now() + timedelta(hours=2)
        with trap_jobs() as trap:
            self.deal.action_schedule()
            # Not before its time: the job waits until then (run early, it waits again).
            trap.assert_enqueued_job(self.deal._job_send, properties={"eta": self.deal.send_at})
            run_jobs(trap, rounds=1)
            trap.assert_jobs_count(1, only=self.deal._job_send)
        self.assertEqual(self.deal.state, "scheduled")
        self.assertFalse(self.deal_mails())
        with self.assertRaisesRegex(UserError, "Only a draft deal"):
            self.deal.action_schedule()

    def test_unsubscribe_link_and_portal_toggle(self):
        ann = self.customers["ann"]
        url = f"/oms/deals/unsubscribe/{ann.id}/{unsubscribe_token(self.env, ann.id)}"
        self.authenticate(None, None)  # a visitor's session, as from an email client
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Stop receiving our deals?", response.text)
        self.assertTrue(ann.oms_deal_optin, "opening the link (as mail scanners do) changes nothing")
        response = self.url_open(url, data={"optin": "0", "csrf_token": http.Request.csrf_token(self)})
        self.assertIn("You will not receive our deals any more", response.text)
        self.assertFalse(ann.oms_deal_optin)
        self.assertEqual(self.deal.audience_count, 0)
        # A mail client's one-click unsubscribe (RFC 8058) works too.
        ann.oms_deal_optin = True
        self.logout()
        response = self.url_open(url, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(ann.oms_deal_optin)
        # Someone else's link, or a forged one, changes nothing.
        dan = self.customers["dan"]
        response = self.url_open(f"/oms/deals/unsubscribe/{dan.id}/{unsubscribe_token(self.env, ann.id)}")
        self.assertEqual(response.status_code, 404)
        self.assertTrue(dan.oms_deal_optin)
        # On the portal, the customer switches deals back on.
        user = self.env["res.users"].create(
            {
                "name": "Ann",
                "login": "ann_deals",
                "password": "ann_deals_pw",
                "partner_id": ann.id,
                "group_ids": [(6, 0, self.env.ref("base.group_portal").ids)],
            }
        )
        self.authenticate(user.login, "ann_deals_pw")
        home = self.url_open("/my").text
        self.assertIn("Send me deals", home)
        response = self.url_open(
            "/my/deals/subscription", data={"optin": "1", "csrf_token": http.Request.csrf_token(self)}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(ann.oms_deal_optin)
        self.assertIn("Stop deal emails", response.text)
