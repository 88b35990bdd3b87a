import importlib.util
from pathlib import Path
from unittest.mock import patch

import psycopg2

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models import oms_order_step as order_step
from .common import OmsCommon, OmsJobsMixin, order_payload


@tagged("post_install", "-at_install")
class TestStepNotifications(OmsJobsMixin, OmsCommon):
    """One email per customer-facing step, to the right person, in their language, queued."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "shop@example.com"
        cls._put_in_stock()
        cls.carrier.tracking_url = "https://track.example.com/<shipmenttrackingnumber>"
        cls.step_subtype = cls.env.ref("oms_ecommerce.mt_oms_step")

    def _order(self, external_id, **overrides):
        [(status, body)] = self.receive(order_payload(external_id, **overrides))
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        # The channel does not wait for the "received" email: a queue job composes it.
        received = order.oms_step_ids.filtered(lambda s: s.step == "received")
        if self.channel.notify_received and order.oms_notify_partner_id:
            self.assertEqual(received.notification, "queued")
            self.assertFalse(self._mails(order))
        self.run_step_email_jobs()
        return order

    def _mails(self, order):
        return self.env["mail.mail"].search([("model", "=", "sale.order"), ("res_id", "=", order.id)], order="id")

    def _all_mails(self, orders):
        return self.env["mail.mail"].search([("model", "=", "sale.order"), ("res_id", "in", orders.ids)])

    def _ship(self, order):
        return self.ship(order.picking_ids)

    def test_received_email(self):
        self.channel.user_id = self.oms_manager  # the responsible is not emailed for each order received
        order = self._order("n-1")
        self.assertEqual(order.user_id, self.oms_manager)
        mails = self._mails(order)
        self.assertEqual(len(mails), 1, mails.mapped("subject"))
        self.assertEqual(mails.state, "outgoing", "queued, not sent inside the request")
        self.assertEqual(mails.recipient_ids, order.partner_id)
        self.assertEqual(mails.subject, "Test Shop: we received your order (n-1)")
        self.assertEqual(mails.email_from, "Test Shop <shop@example.com>")
        self.assertIn("access_token=", mails.body_html, "the portal link works from the email")
        self.assertIn("OMS Mug", mails.body_html)
        message = mails.mail_message_id
        self.assertEqual(message.subtype_id, self.step_subtype)
        self.assertFalse(message.is_internal, "visible on the portal")
        self.assertRecordValues(
            order.oms_step_ids, [{"step": "received", "notification": "sent", "mail_message_id": message.id}]
        )

    def test_each_step_once(self):
        order = self._order("n-2")
        order.action_confirm()  # confirmed, then processing (not a customer email)
        # Whoever confirms does not wait for the email: a queue job composes it right after.
        confirmed = order.oms_step_ids.filtered(lambda s: s.step == "confirmed")
        self.assertEqual(confirmed.notification, "queued")
        self.assertEqual(len(self._mails(order)), 1)
        self.run_step_email_jobs()
        self.assertEqual(
            self._mails(order).mapped("subject"),
            ["Test Shop: we received your order (n-2)", "Test Shop: your order is confirmed (n-2)"],
        )
        # Reaching the steps again (a re-validation, a retried job) sends nothing more.
        order._oms_reach_steps()
        order.oms_step_ids._oms_notify()
        self.run_step_email_jobs()
        self.assertEqual(len(self._mails(order)), 2)

    def test_one_email_per_customer_facing_step(self):
        self.channel.notify_packed = True
        order = self._order("n-8")
        order.action_confirm()
        self.run_step_email_jobs()  # the confirmation email, right after
        picking = order.picking_ids
        picking.move_line_ids._put_in_pack()
        picking.carrier_tracking_ref = "TRK42"
        self._ship(order)
        order.action_oms_mark_delivered()
        cancelled = self._order("n-9")
        cancelled._action_cancel()
        expected = {
            order: [
                "we received your order",
                "your order is confirmed",
                "your order is packed",
                "your order has shipped",
                "your order was delivered",
            ],
            cancelled: ["we received your order", "your order was cancelled"],
        }
        for record, subjects in expected.items():
            mails = self._mails(record)
            self.assertEqual(
                mails.mapped("subject"), [f"Test Shop: {subject} ({record.oms_external_id})" for subject in subjects]
            )
            self.assertEqual(mails.recipient_ids, record.partner_id)
        templates = self._mails(order).mail_message_id.mapped("subtype_id")
        self.assertEqual(templates, self.step_subtype)
        # "processing" is not a customer email; every other step was sent once.
        self.assertEqual(
            {s.step: s.notification for s in order.oms_step_ids},
            {
                "received": "sent",
                "confirmed": "sent",
                "processing": "off",
                "packed": "sent",
                "shipped": "sent",
                "delivered": "sent",
            },
        )

    def test_bulk_leaves_the_emails_to_queue_jobs(self):
        """Confirming many orders does not wait for their emails: queue jobs of ``NOTIFY_CHUNK`` steps compose them
        right after, one email per order and step, however often the jobs are asked for or run."""
        self.channel.notify_received = False
        orders = self.env["sale.order"]
        for index in range(25):
            orders |= self._order(f"bulk-{index}")
        self.assertEqual(set(orders.oms_step_ids.mapped("notification")), {"off"}, "received: not notified here")
        with patch.object(order_step, "NOTIFY_CHUNK", 10), trap_jobs() as trap:
            orders.action_oms_confirm()
            self.assertEqual(set(orders.mapped("state")), {"sale"})
            self.assertFalse(self._all_mails(orders), "not composed inside the bulk request")
            steps = orders.oms_step_ids.filtered(lambda s: s.step == "confirmed")
            self.assertEqual(set(steps.mapped("notification")), {"queued"})
            jobs = [job for job in trap.enqueued_jobs if job.method_name == "_oms_job_notify"]
            self.assertEqual([len(job.recordset) for job in jobs], [10, 10, 5], "the 25 confirmed steps")
            processing = orders.oms_step_ids.filtered(lambda s: s.step == "processing")
            self.assertEqual(len(processing), 25)
            self.assertEqual(set(processing.mapped("notification")), {"off"}, "not emailed about: recorded so")
            self.assertEqual(sum((job.recordset for job in jobs), steps.browse()), steps)
            self.assertEqual(jobs[0].channel, "root.oms_step_mail")
            # The same steps asked for again before their job ran: a second job each, which finds them sent.
            for job in jobs:
                job.recordset._oms_enqueue_notify()
            self.assertEqual(len([job for job in trap.enqueued_jobs if job.method_name == "_oms_job_notify"]), 6)
            Step = type(self.env["oms.order.step"])
            composed = []
            real_notify = Step._oms_notify

            def notify(steps):
                composed.append(len(steps))
                return real_notify(steps)

            with patch.object(Step, "_oms_notify", notify):
                outcomes = self.run_jobs(trap)
            # The automation approved each job's steps; the job composed them together (each template once). The
            # second job of the same steps found them sent: nothing to compose.
            self.assertEqual(composed, [10, 10, 5, 0, 0, 0])
            self.assertEqual({state for state, _result in outcomes}, {"done"})
            self.assertEqual(sum(result for _state, result in outcomes), 25, "one email per order")
        for order in orders:
            self.assertEqual(
                self._mails(order).mapped("subject"), [f"Test Shop: your order is confirmed ({order.oms_external_id})"]
            )
        # A job run a second time (a retry after a lost worker) sends nothing more.
        self.assertEqual(jobs[0].recordset._oms_job_notify(), 0)
        self.assertEqual(len(self._all_mails(orders)), 25)

    def test_step_email_job_retries_while_another_transaction_holds_the_steps(self):
        """Two workers on the same steps: the one that cannot lock them retries later instead of emailing twice."""
        order = self._order("n-lock")
        order.action_confirm()
        confirmed = order.oms_step_ids.filtered(lambda s: s.step == "confirmed")
        self.assertEqual(confirmed.notification, "queued")
        real_execute = type(self.env.cr).execute

        def locked(cr, query, *args, **kwargs):
            if "FOR NO KEY UPDATE NOWAIT" in str(getattr(query, "code", query)):
                raise psycopg2.errors.LockNotAvailable("could not obtain lock on row in relation oms_order_step")
            return real_execute(cr, query, *args, **kwargs)

        with patch.object(type(self.env.cr), "execute", locked), self.assertRaises(RetryableJobError):
            confirmed._oms_job_notify()
        self.assertEqual(confirmed.notification, "queued", "nothing sent by the worker that waits")
        self.assertEqual(self.run_step_email_jobs(), 1)
        self.assertEqual(confirmed.notification, "sent")
        self.assertEqual(len(self._mails(order)), 2, "received, then confirmed: once each")

    def test_switched_off_step(self):
        self.channel.notify_received = False
        order = self._order("n-3")
        self.assertFalse(self._mails(order))
        self.assertRecordValues(order.oms_step_ids, [{"step": "received", "notification": "off"}])

    def test_shipped_waits_for_tracking(self):
        order = self._order("n-4")
        order.action_confirm()
        picking = self._ship(order)
        self.assertEqual(order.oms_step, "shipped")
        shipped = order.oms_step_ids.filtered(lambda s: s.step == "shipped")
        self.assertEqual(shipped.notification, "waiting")
        self.assertNotIn("shipped", " ".join(self._mails(order).mapped("subject")))
        picking.carrier_tracking_ref = "TRK123456"
        self.assertEqual(shipped.notification, "sent")
        mail = self._mails(order).filtered(lambda m: "shipped" in m.subject)
        self.assertEqual(len(mail), 1)
        self.assertIn("TRK123456", mail.body_html)
        self.assertIn("https://track.example.com/TRK123456", mail.body_html)
        picking.carrier_tracking_ref = "TRK123456,TRK999"
        self.assertEqual(len(self._mails(order).filtered(lambda m: "shipped" in m.subject)), 1, "never twice")

    def test_recipient_is_the_delivery_contact_never_an_employee(self):
        payload = order_payload(
            "n-5",
            billing_address={
                "name": "Ann Lee",
                "street": "9 Office Park",
                "city": "Chicago",
                "zip": "60601",
                "country_code": "US",
            },
        )
        payload["shipping_address"].update(name="Bob Lee", street="5 Elm St")
        order = self._order("n-5", **{k: v for k, v in payload.items() if k != "external_id"})
        self.assertEqual(self._mails(order).recipient_ids, order.partner_id, "delivery contact has no email")
        order.partner_shipping_id.email = "bob@example.com"
        order.action_confirm()
        self.run_step_email_jobs()  # the confirmation email, right after
        self.assertEqual(self._mails(order)[-1].recipient_ids, order.partner_shipping_id)
        # An employee ordering on the web shop with their work email is not emailed by the OMS.
        employee = self.oms_user.partner_id
        order2 = self._order("n-6", customer={"email": employee.email, "name": employee.name})
        self.assertEqual(order2.partner_id, employee)
        self.assertFalse(self._mails(order2))
        self.assertEqual(order2.oms_step_ids.notification, "off")

    def test_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        template = self.env.ref("oms_ecommerce.mail_template_oms_received")
        template.with_context(lang="fr_FR").subject = "{{ object.oms_channel_id.name }}: commande reçue"
        self.channel.lang = "fr_FR"
        order = self._order("n-7", customer={"email": "claire@example.fr", "name": "Claire"})
        self.assertEqual(order.partner_id.lang, "fr_FR")
        self.assertEqual(self._mails(order).subject, "Test Shop: commande reçue")

    def test_the_step_automation_runs_in_the_email_job_not_in_the_request(self):
        """The request that reaches a step records it queued; the step automation runs when its email job sets
        it to send, right after: the channel and whoever confirms do not wait for it."""
        self.run_step_email_jobs()  # whatever the demo data left waiting
        Step = type(self.env["oms.order.step"])
        runs = []
        real = Step._oms_notify_soon

        def counted(steps):
            runs.append(steps.mapped("step"))
            return real(steps)

        Job = self.env["queue.job"]

        def new_jobs(before):
            return Job.search([("method_name", "=", "_oms_job_notify"), ("state", "=", "pending")]) - before

        with patch.object(Step, "_oms_notify_soon", counted):
            [(status, body)] = self.receive(order_payload("n-auto"))
            self.assertEqual(status, 201, body)
            order = self.env["sale.order"].browse(body["id"])
            received = new_jobs(Job)
            self.assertEqual(received.records, order.oms_step_ids, "one job: the received step")
            order.action_confirm()
            # One job for the step the confirmation recorded, not the received step again.
            confirmed = new_jobs(received)
            self.assertEqual(confirmed.records.mapped("step"), ["confirmed"])
            self.assertEqual(runs, [], "not inside the intake nor the confirmation")
            self.assertEqual(set(order.oms_step_ids.mapped("notification")), {"queued", "off"})
            self.assertEqual(self.run_step_email_jobs(), 2)
        self.assertEqual(sorted(runs), [["confirmed"], ["received"]], "once per step, from its job")
        self.assertEqual(
            self._mails(order).mapped("subject"),
            ["Test Shop: we received your order (n-auto)", "Test Shop: your order is confirmed (n-auto)"],
        )

    def test_administrator_switches_the_step_automation_off_or_filters_it(self):
        """The step emails are the automation's: switched off, none is sent and the steps say why; with a filter
        of the administrator's, only the steps it keeps are emailed."""
        automation = self.env.ref("oms_ecommerce.automation_oms_step_notify")
        automation.active = False
        order = self._order("n-off")
        self.assertFalse(self._mails(order))
        self.assertRecordValues(order.oms_step_ids, [{"step": "received", "notification": "off"}])
        self.assertIn("step automation did not take it", order.oms_step_ids.notification_note)
        # Set to send at once (outside a bulk operation, e.g. cancelled by hand): the same.
        order._action_cancel()
        cancelled = order.oms_step_ids.filtered(lambda s: s.step == "cancelled")
        self.assertEqual(cancelled.notification, "off")
        self.assertFalse(self._mails(order))

        automation.write(
            {"active": True, "filter_domain": "[('notification', '=', 'pending'), ('step', '!=', 'received')]"}
        )
        order = self._order("n-filtered")
        self.assertFalse(self._mails(order), "the administrator's filter leaves the received email out")
        self.assertEqual(order.oms_step_ids.notification, "off")
        order.action_confirm()
        self.assertEqual(self.run_step_email_jobs(), 1)
        self.assertEqual(self._mails(order).mapped("subject"), ["Test Shop: your order is confirmed (n-filtered)"])

    def test_upgrade_moves_the_step_automation_to_the_email_job(self):
        """19.0.1.2.0: a database whose step automation still runs at the step's creation (Odoo's "on creation")
        gets it moved to the change of Notification; one an administrator changed is left alone."""
        automation = self.env.ref("oms_ecommerce.automation_oms_step_notify")
        spec = importlib.util.spec_from_file_location(
            "oms_migration_19_0_1_2_0",
            Path(__file__).parents[1] / "migrations" / "19.0.1.2.0" / "post-migrate.py",
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        notification = self.env["ir.model.fields"]._get("oms.order.step", "notification")
        for trigger, expected in (("on_create", "on_create_or_write"), ("on_unlink", "on_unlink")):
            self.env.cr.execute("UPDATE base_automation SET trigger = %s WHERE id = %s", [trigger, automation.id])
            self.env.cr.execute(
                "DELETE FROM base_automation_ir_model_fields_rel WHERE base_automation_id = %s", [automation.id]
            )
            migration.migrate(self.env.cr, "19.0.1.1.0")
            automation.invalidate_recordset()
            self.assertEqual(automation.trigger, expected)
            self.assertEqual(
                automation.trigger_field_ids, notification if trigger == "on_create" else notification.browse()
            )

    def test_a_refused_automatic_confirmation_keeps_the_received_email(self):
        """The intake confirms a paid order by the channel's policy and the confirmation fails after its steps were
        recorded: its savepoint takes them back, and the "received" email, queued before it, still gets its job."""
        self.run_step_email_jobs()  # whatever the demo data left waiting
        self.channel.confirm_policy = "all"
        SaleOrder = type(self.env["sale.order"])
        with patch.object(SaleOrder, "_should_be_locked", side_effect=UserError("a lock rule refused it")):
            [(status, body)] = self.receive(order_payload("n-refused"))
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        self.assertEqual(order.state, "draft", "the confirmation was refused and rolled back")
        self.assertRecordValues(order.oms_step_ids, [{"step": "received", "notification": "queued"}])
        self.assertEqual(self.run_step_email_jobs(), 1)
        self.assertEqual(self._mails(order).mapped("subject"), ["Test Shop: we received your order (n-refused)"])

    def test_a_refused_order_in_a_batch_keeps_the_others_received_emails(self):
        """One order of a batch is refused (its savepoint rolled back, which clears Odoo's cursor cache): the
        orders before and after it still get their "received" email."""
        self.run_step_email_jobs()  # whatever the demo data left waiting
        results = self.receive(
            order_payload("n-batch-1"),
            order_payload("n-batch-2", lines=[{"sku": "NO-SUCH-SKU", "quantity": 1}]),
            order_payload("n-batch-3"),
            source="batch",
        )
        self.assertEqual([status for status, _body in results], [201, 422, 201], results)
        orders = self.env["sale.order"].browse([results[0][1]["id"], results[2][1]["id"]])
        self.assertEqual(self.run_step_email_jobs(), 2)
        for order in orders:
            self.assertEqual(
                self._mails(order).mapped("subject"), [f"Test Shop: we received your order ({order.oms_external_id})"]
            )
