from freezegun import freeze_time

from odoo.tests import tagged

from .common import OmsCommon, day, iso, order_payload


@tagged("post_install", "-at_install")
class TestShipBy(OmsCommon):
    """Promises kept: ship-by in working hours with a cutoff; delays detected, told once, and ended."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "shop@example.com"
        cls.company.resource_calendar_id = cls.env["resource.calendar"].create(
            {
                "name": "Warehouse 9-17 UTC",
                "tz": "UTC",
                "attendance_ids": [
                    (0, 0, {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 9, "hour_to": 17})
                    for day in range(5)
                ],
            }
        )
        cls.channel.write({"handling_hours": 8, "cutoff_hour": 14, "confirm_policy": "all"})
        cls._put_in_stock()

    def _order(self, external_id, placed_at):
        [(status, body)] = self.receive(order_payload(external_id, placed_at=placed_at))
        self.assertEqual(status, 201, body)
        return self.env["sale.order"].browse(body["id"])

    def _ship(self, order):
        self.ship(order.picking_ids)

    def test_ship_by_across_weekend_and_cutoff(self):
        cases = [
            (
                "Fri 10:00, before the cutoff: 7 h on Friday, 1 h on Monday",
                iso(day(-3, 10)),
                day(0, 10),
            ),
            (
                "Fri 15:00, after the cutoff: counts from Monday 9:00",
                iso(day(-3, 15)),
                day(0, 17),
            ),
            ("Sat 10:00: nothing works on the weekend", iso(day(-2, 10)), day(0, 17)),
            ("Mon 08:00, before opening", iso(day(0, 8)), day(0, 17)),
            ("Wed 13:59, just before the cutoff", iso(day(2, 13, 59)), day(3, 13, 59)),
        ]
        for index, (label, placed_at, expected) in enumerate(cases):
            with self.subTest(label):
                self.assertEqual(self._order(f"sla-{index}", placed_at).oms_ship_by, expected)

    def test_delay_detected_told_once_and_ended_when_shipped(self):
        order = self._order("late-1", iso(day(-3, 10)))  # ship by Monday 10:00
        on_time = self._order("late-2", iso(day(0, 10)))  # ship by Tuesday 10:00
        with freeze_time(day(0, 11)):
            self.env["sale.order"]._cron_oms_detect_delays()
            self.run_step_email_jobs()  # the delay email is composed by a queue job after the run
        self.assertRecordValues(order, [{"oms_delayed": True, "oms_step": "delayed"}])
        self.assertFalse(on_time.oms_delayed)
        self.assertIn(order, self.env["sale.order"].search([("oms_delayed", "=", True)]))
        delayed_mails = self.env["mail.mail"].search(
            [("res_id", "=", order.id), ("model", "=", "sale.order"), ("subject", "ilike", "delayed")]
        )
        self.assertEqual(len(delayed_mails), 1)
        self.assertTrue(order.activity_ids.filtered(lambda a: "Late" in (a.summary or "")))
        with freeze_time(day(0, 12)):
            self.env["sale.order"]._cron_oms_detect_delays()
            self.run_step_email_jobs()
        self.assertEqual(
            self.env["mail.mail"].search_count(
                [("res_id", "=", order.id), ("model", "=", "sale.order"), ("subject", "ilike", "delayed")]
            ),
            1,
            "told once",
        )
        with freeze_time(day(0, 15)):
            self._ship(order)
        self.assertRecordValues(order, [{"oms_step": "shipped", "oms_delayed": False, "oms_ship_outcome": "late"}])
        with freeze_time(day(0, 15)):
            self._ship(on_time)
        self.assertRecordValues(on_time, [{"oms_step": "shipped", "oms_ship_outcome": "on_time"}])
        self.assertEqual(
            order.oms_step_ids.sorted("id").mapped("step"),  # the clock was frozen in the past here
            ["received", "confirmed", "processing", "delayed", "shipped"],
        )
