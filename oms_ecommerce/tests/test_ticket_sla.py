from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import OmsCommon, day

# The Friday of the reference week (see common.day); ``at(27, …)`` is that Friday, ``at(30, …)`` the Monday after:
# the day numbers read like a calendar page whose Friday is the 27th.
FRI = day(4)


def at(day_number, hour, minute=0):
    return FRI + timedelta(days=day_number - 27, hours=hour, minutes=minute)


@tagged("post_install", "-at_install")
class TestTicketSla(OmsCommon):
    """Working hours Monday to Friday 9:00-17:00 UTC; standard targets 4 h to answer, 16 h to solve."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Service desk 9-17",
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"Day {d}",
                            "dayofweek": str(d),
                            "hour_from": 9,
                            "hour_to": 17,
                            "day_period": "morning",
                        },
                    )
                    for d in range(5)
                ],
            }
        )
        cls.lead = new_test_user(cls.env, "oms_lead", groups="oms_ecommerce.group_oms_service", name="Team Lead")
        cls.agent = new_test_user(cls.env, "oms_sla_agent", groups="oms_ecommerce.group_oms_service", name="Agent")
        cls.team = cls.env["oms.ticket.team"].create(
            {"name": "SLA Team", "resource_calendar_id": cls.calendar.id, "user_id": cls.lead.id}
        )
        cls.env["oms.ticket.sla"].search([]).active = False
        cls.sla = cls.env["oms.ticket.sla"].create(
            {"name": "4h / 16h", "response_hours": 4, "resolve_hours": 16, "risk_percent": 80}
        )
        cls.urgent_sla = cls.env["oms.ticket.sla"].create(
            {"name": "Urgent", "sequence": 1, "priority": "3", "response_hours": 1, "resolve_hours": 4}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Sam Customer", "email": "sam@example.com"})

    def open_ticket(self, **values):
        return self.env["oms.ticket"].create(
            {"subject": "Where is my order?", "partner_id": self.customer.id, "team_id": self.team.id, **values}
        )

    def answer(self, ticket):
        ticket.with_user(self.agent).message_post(
            body="On its way.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def customer_replies(self, ticket):
        ticket.message_post(
            body="Thanks, but...", message_type="comment", subtype_xmlid="mail.mt_comment", author_id=self.customer.id
        )

    def test_deadlines_across_the_weekend(self):
        with freeze_time(at(27, 15)):  # Friday 15:00: 2 working hours left that day
            ticket = self.open_ticket()
        self.assertEqual(ticket.sla_id, self.sla)
        self.assertEqual(ticket.response_deadline, at(30, 11), "2 h on Friday + 2 h on Monday")
        self.assertEqual(ticket.resolve_deadline, day(8, 15), "2 h Fri + 8 h Mon + 6 h Tue")
        # Priority picks the urgent policy and its shorter targets.
        with freeze_time(at(27, 16, 30)):
            urgent = self.open_ticket(priority="3")
        self.assertEqual(urgent.sla_id, self.urgent_sla)
        self.assertEqual(urgent.response_deadline, at(30, 9, 30))

    def test_clock_pauses_while_waiting_for_the_customer(self):
        with freeze_time(at(27, 15)):
            ticket = self.open_ticket()
        with freeze_time(at(30, 10)):  # Monday 10:00: answered after 3 working hours, then waiting
            self.answer(ticket)
            ticket.action_set_waiting()
        self.assertAlmostEqual(ticket.response_hours, 3.0, places=2)
        self.assertEqual(ticket.stage, "waiting")
        with freeze_time(day(8, 16)):  # Tuesday 16:00, past the unpaused deadline (15:00)
            ticket._oms_sla_refresh()
            self.assertFalse(ticket.sla_breached, "the clock is stopped while the customer has the ball")
            self.assertFalse(ticket.sla_at_risk)
        with freeze_time(day(9, 10)):  # Wednesday 10:00: the customer answers
            self.customer_replies(ticket)
        self.assertEqual(ticket.stage, "in_progress")
        # Waiting lasted Mon 10-17 + Tue 9-17 + Wed 9-10 = 16 working hours: the deadline moves by as much.
        self.assertAlmostEqual(ticket.paused_hours, 16.0, places=2)
        self.assertEqual(ticket.resolve_deadline, day(10, 15))
        with freeze_time(day(10, 14)):
            ticket.action_solve()
        # Fri 2 + Mon 8 + Tue 8 + Wed 8 + Thu 5 = 31 working hours, 16 of them paused.
        self.assertAlmostEqual(ticket.resolution_hours, 15.0, places=2)
        self.assertRecordValues(ticket, [{"sla_status": "met", "sla_breached": False, "sla_compliance": 100.0}])

    def test_at_risk_warning_then_escalation_once(self):
        with freeze_time(at(30, 9)):  # Monday 9:00
            ticket = self.open_ticket()
        self.assertEqual(ticket.response_deadline, at(30, 13))
        with freeze_time(at(30, 12)):  # 3 of 4 hours: not yet at risk (80 % = 3h12)
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertFalse(ticket.sla_at_risk)
        with freeze_time(at(30, 12, 30)):
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertTrue(ticket.sla_at_risk)
        self.assertEqual(
            self.env["oms.ticket"].search([("sla_at_risk", "=", True), ("team_id", "=", self.team.id)]), ticket
        )
        warning = ticket.activity_ids.filtered(lambda a: a.user_id == self.lead)
        self.assertEqual(len(warning), 1)
        self.assertIn("SLA at risk", warning.summary)
        with freeze_time(at(30, 12, 45)):
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertEqual(len(ticket.activity_ids), 1, "the lead is warned once")
        with freeze_time(at(30, 13, 30)):  # past the first-response deadline, unanswered
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertRecordValues(
            ticket, [{"sla_breached": True, "sla_at_risk": False, "priority": "2", "sla_status": "breached"}]
        )
        self.assertEqual(
            self.env["oms.ticket"].search([("sla_breached", "=", True), ("team_id", "=", self.team.id)]), ticket
        )
        self.assertIn("priority raised", str(ticket.message_ids[0].body))
        with freeze_time(at(30, 15)):
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertEqual(ticket.priority, "2", "raised once, not at every run")
        # A late answer stays a breach; solving it counts 0 % compliance.
        with freeze_time(at(30, 15, 30)):
            self.answer(ticket)
            ticket.action_solve()
        self.assertRecordValues(ticket, [{"sla_breached": True, "sla_status": "breached", "sla_compliance": 0.0}])
        groups = self.env["oms.ticket"]._read_group(
            [("team_id", "=", self.team.id)], ["team_id"], ["sla_compliance:avg", "response_hours:avg"]
        )
        self.assertAlmostEqual(groups[0][1], 0.0)
        self.assertAlmostEqual(groups[0][2], 6.5)

    def test_compliance_average_ignores_running_tickets(self):
        with freeze_time(at(30, 9)):
            met = self.open_ticket()
            self.open_ticket(subject="Still running")
        with freeze_time(at(30, 10)):
            self.answer(met)
            met.action_solve()
        [(_team, compliance)] = self.env["oms.ticket"]._read_group(
            [("team_id", "=", self.team.id)], ["team_id"], ["sla_compliance:avg"]
        )
        self.assertEqual(compliance, 100.0)
        with freeze_time(at(30, 11)):
            met.action_reopen()
        self.assertEqual(met.sla_status, "running")
        [(_team, compliance)] = self.env["oms.ticket"]._read_group(
            [("team_id", "=", self.team.id)], ["team_id"], ["sla_compliance:avg"]
        )
        self.assertFalse(compliance, "no finished ticket: no compliance figure")

    def test_waiting_after_a_late_answer_does_not_hide_the_breach(self):
        with freeze_time(at(30, 9)):  # Monday 9:00; answer due 13:00
            ticket = self.open_ticket()
        with freeze_time(at(30, 15)):  # answered late
            self.answer(ticket)
            ticket.action_set_waiting()
        self.assertAlmostEqual(ticket.response_hours, 6.0, places=2)
        with freeze_time(day(8, 12)):  # the customer answers on Tuesday
            self.customer_replies(ticket)
        self.assertEqual(ticket.response_deadline, at(30, 13), "a wait after the first answer does not move it")
        with freeze_time(day(8, 13)):
            ticket.action_solve()
        self.assertRecordValues(ticket, [{"sla_breached": True, "sla_status": "breached", "sla_compliance": 0.0}])

    def test_reopened_after_solved_does_not_count_the_solved_time(self):
        with freeze_time(at(30, 9)):
            ticket = self.open_ticket()
        with freeze_time(at(30, 10)):
            self.answer(ticket)
            ticket.action_solve()
        self.assertAlmostEqual(ticket.resolution_hours, 1.0, places=2)
        # A week later the customer writes again: the ticket reopens with the week not counted.
        with freeze_time(day(14, 10)):
            self.customer_replies(ticket)
            self.assertEqual(ticket.stage, "in_progress")
            self.assertFalse(ticket.resolution_hours, "no resolution time while it runs again")
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertFalse(ticket.sla_breached)
        self.assertAlmostEqual(ticket.paused_hours, 40.0, places=2)
        self.assertEqual(ticket.resolve_deadline, day(15, 17), "16 h + 40 h paused from Monday 9:00")

    def test_escalation_to_urgent_keeps_the_policy(self):
        with freeze_time(at(30, 9)):
            ticket = self.open_ticket(priority="2")
        with freeze_time(at(30, 14)):
            self.env["oms.ticket"]._cron_oms_sla()
        self.assertRecordValues(ticket, [{"priority": "3", "sla_id": self.sla.id, "response_deadline": at(30, 13)}])
        # An agent who sets the priority by hand does get the urgent policy.
        with freeze_time(at(30, 9)):
            other = self.open_ticket()
        other.priority = "3"
        self.assertEqual(other.sla_id, self.urgent_sla)

    def test_customer_and_bot_messages_are_not_the_first_response(self):
        with freeze_time(at(30, 9)):
            ticket = self.open_ticket()
            self.customer_replies(ticket)
            ticket.with_user(self.env.ref("base.user_root")).message_post(
                body="Automatic message", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.assertFalse(ticket.first_response_at)

    def test_editing_a_policy_keeps_the_promised_deadlines(self):
        with freeze_time(at(30, 9)):
            ticket = self.open_ticket()
        self.sla.response_hours = 2
        self.assertEqual(ticket.response_deadline, at(30, 13), "the customer was promised 13:00")
        with freeze_time(at(30, 9)):
            newer = self.open_ticket()
        self.assertEqual(newer.response_deadline, at(30, 11))
