from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import tagged

from ..models import sale_order_confirmation
from .common import OmsCommon, day, in_chain_order, iso, order_payload


@tagged("post_install", "-at_install")
class TestConfirmation(OmsCommon):
    """The vendor confirms: by channel policy, or by hand before a deadline in working hours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Warehouse 9-17 UTC",
                "tz": "UTC",
                "attendance_ids": [
                    (0, 0, {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 9, "hour_to": 17})
                    for day in range(5)
                ],
            }
        )
        cls.company.resource_calendar_id = cls.calendar
        cls.channel.user_id = cls.oms_user

    def _receive_order(self, external_id, **overrides):
        [(status, body)] = self.receive(order_payload(external_id, **overrides))
        self.assertEqual(status, 201, body)
        return self.env["sale.order"].browse(body["id"])

    def _confirm_activities(self, order):
        activity_type = self.env.ref("oms_ecommerce.mail_activity_type_oms_confirm")
        return order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

    def test_manual_policy_deadline_over_the_weekend(self):
        self.channel.write({"confirm_policy": "manual", "confirm_within_hours": 4})
        # Placed on the Friday before the reference Monday at 15:00: 2 hours left on Friday, 2 more on Monday.
        order = self._receive_order("c-1", placed_at=iso(day(-3, 15)))
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.oms_confirm_by, day(0, 11))
        order._oms_remind_to_confirm()  # what the scheduled action does once the order has waited
        activity = self._confirm_activities(order)
        self.assertRecordValues(activity, [{"user_id": self.oms_user.id, "date_deadline": day(0).date()}])
        self.assertEqual(activity.summary, f"Confirm by {fields.Datetime.to_string(day(0, 11))}")
        order.with_user(self.oms_user).action_confirm()
        self.assertFalse(self._confirm_activities(order), "confirming closes the reminder")
        self.assertFalse(order.oms_confirm_reminded)
        # Placed Saturday: the clock starts on Monday morning.
        order = self._receive_order("c-2", placed_at=iso(day(-2, 10)))
        self.assertEqual(order.oms_confirm_by, day(0, 13))

    def test_automatic_policies(self):
        cases = [
            ("all", {"payment": {"status": "pending"}}, "sale"),
            ("paid", {"payment": {"status": "paid"}}, "sale"),
            ("paid", {"payment": {"status": "cod"}}, "draft"),
            ("paid_under", {"payment": {"status": "paid"}}, "sale"),  # 29.99 + tax under 100
            ("paid_under", {"payment": {"status": "paid"}, "lines": [{"sku": "OMS-MUG", "quantity": 10}]}, "draft"),
        ]
        for index, (policy, overrides, state) in enumerate(cases):
            with self.subTest(policy=policy, overrides=overrides):
                self.channel.write({"confirm_policy": policy, "confirm_max_amount": 100})
                order = self._receive_order(f"auto-{index}", **overrides)
                self.assertEqual(order.state, state)
                self.assertFalse(self._confirm_activities(order), "no reminder yet: the desk may confirm it soon")
                if state == "sale":
                    self.assertIn(order.oms_step, ("confirmed", "processing"))

    def test_overdue_orders_are_flagged_and_escalated(self):
        lead = self.oms_manager
        self.channel.confirm_within_hours = 4
        self.channel.team_id = self.env["crm.team"].create({"name": "Web desk", "user_id": lead.id})
        order = self._receive_order("late-1", placed_at=iso(day(-3, 15)))
        on_time = self._receive_order("late-2", placed_at=iso(day(0, 15)))
        with freeze_time(day(0, 12)):
            flagged = self.env["sale.order"]._cron_oms_confirm_overdue()
        self.assertGreaterEqual(flagged, 1)
        self.assertTrue(order.oms_confirm_overdue)
        self.assertFalse(on_time.oms_confirm_overdue)
        self.assertIn(lead, self._confirm_activities(order).user_id, "escalated to the team lead")
        self.assertIn(order, self.env["sale.order"].search([("oms_confirm_overdue", "=", True)]))
        # Flagged once: a second run does not escalate again.
        with freeze_time(day(0, 13)):
            self.env["sale.order"]._cron_oms_confirm_overdue()
        self.assertEqual(len(self._confirm_activities(order)), 1)
        order.action_confirm()
        self.assertFalse(order.oms_confirm_overdue)
        self.assertFalse(self._confirm_activities(order), "the escalation goes with the confirmation")

    def test_reminder_only_for_orders_that_wait(self):
        """The reminder to confirm comes from the scheduled action, once an order has waited
        ``oms_ecommerce.confirm_reminder_minutes`` (30): an order the desk confirms before never has one (nothing
        created at intake, nothing deleted at confirmation); a held order has none; each order gets one."""
        self.channel.write({"confirm_policy": "manual", "confirm_within_hours": 40})
        now = fields.Datetime.now()
        waiting = self._receive_order("wait-1", placed_at=iso(now))
        held = self._receive_order("wait-2", placed_at=iso(now))
        held._oms_hold("Address check")
        quick = self._receive_order("wait-3", placed_at=iso(now))
        self.assertFalse((waiting | held | quick).activity_ids, "no reminder at intake")
        quick.with_user(self.oms_user).action_confirm()
        Order = self.env["sale.order"]
        with freeze_time(now + timedelta(minutes=20)):
            Order._cron_oms_confirm_overdue()
        self.assertFalse((waiting | held | quick).activity_ids, "20 minutes: not waited long enough")
        with freeze_time(now + timedelta(minutes=45)):
            Order._cron_oms_confirm_overdue()
        self.assertRecordValues(self._confirm_activities(waiting), [{"user_id": self.oms_user.id}])
        self.assertTrue(waiting.oms_confirm_reminded)
        self.assertFalse((held | quick).activity_ids)
        with freeze_time(now + timedelta(minutes=90)):
            Order._cron_oms_confirm_overdue()
        self.assertEqual(len(self._confirm_activities(waiting)), 1, "reminded once")
        # A merchant who wants reminders sooner (or later) says so in minutes.
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.confirm_reminder_minutes", "5")
        later = self._receive_order("wait-4", placed_at=iso(now))
        with freeze_time(now + timedelta(minutes=10)):
            Order._cron_oms_confirm_overdue()
        self.assertTrue(self._confirm_activities(later))

    def test_bulk_confirm_of_many_orders_runs_in_jobs(self):
        """Above the threshold, the selection is confirmed by a chain of queue_job jobs, not in the request: each
        job a chunk, the progress moving with each, the user told at the end."""
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.confirm_background_threshold", "3")
        orders = self.env["sale.order"]
        for index in range(6):
            orders |= self._receive_order(f"bulk-bg-{index}")
        orders[0]._oms_hold("Fraud check")
        todo = orders[1:]
        with patch.object(sale_order_confirmation, "CONFIRM_CHUNK", 2), trap_jobs() as trap:
            result = orders.with_user(self.oms_user).action_oms_confirm()
            self.assertEqual(set(orders.mapped("state")), {"draft"}, "nothing confirmed in the request")
            self.assertEqual(result["params"]["type"], "info")
            progress = self.env["oms.job.progress"].search([("kind", "=", "confirm")])
            self.assertRecordValues(
                progress, [{"user_id": self.oms_user.id, "state": "running", "total": 5, "done": 0, "progress": 0}]
            )
            self.assertIn(f"/odoo/oms.job.progress/{progress.id}", result["params"]["links"][0]["url"])
            trap.assert_jobs_count(3, only=progress._oms_job_confirm)
            trap.assert_enqueued_job(
                progress._oms_job_confirm,
                args=(todo[:2].ids,),
                properties={"channel": "root.oms_bulk", "identity_key": f"oms-progress:{progress.id}:confirm-1"},
            )
            # A second click on the same selection while it runs: the same action, no second chain.
            again = orders.with_user(self.oms_user).action_oms_confirm()
            self.assertEqual(again["params"]["links"], result["params"]["links"])
            self.assertEqual(trap.jobs_count(), 3)

            first, *rest = in_chain_order(trap.enqueued_jobs)
            first.perform()  # as queue_job's runner: as the user who clicked
            self.assertEqual(first.user_id, self.oms_user.id)
            self.assertEqual(todo.mapped("state"), ["sale", "sale", "draft", "draft", "draft"])
            self.assertRecordValues(progress, [{"state": "running", "done": 2, "progress": 40}])
            for job in rest:
                job.perform()
        self.assertEqual(orders.mapped("state"), ["draft", "sale", "sale", "sale", "sale", "sale"])
        self.assertRecordValues(
            progress,
            [{"state": "done", "done": 5, "progress": 100, "counters": {"confirmed": 5, "skipped": 1}}],
        )
        self.assert_user_told(progress, "5 orders confirmed; 1 skipped")

    def test_bulk_confirm_skips_held_orders(self):
        orders = self.env["sale.order"]
        for index in range(5):
            orders |= self._receive_order(f"bulk-{index}")
        orders[0]._oms_hold("Fraud check")
        result = orders.with_user(self.oms_user).action_oms_confirm()
        self.assertEqual(orders.mapped("state"), ["draft", "sale", "sale", "sale", "sale"])
        self.assertEqual(result["params"]["type"], "warning")
        action = self.env.ref("oms_ecommerce.action_server_oms_confirm")
        self.assertEqual(action.binding_model_id.model, "sale.order")
