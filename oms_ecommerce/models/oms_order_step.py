import psycopg2

from odoo import api, fields, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.tools import SQL

STEPS = [
    ("received", "Received"),
    ("confirmed", "Confirmed"),
    ("processing", "Processing"),
    ("packed", "Packed"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("on_hold", "On Hold"),
    ("delayed", "Delayed"),
    ("cancelled", "Cancelled"),
    ("returned", "Returned"),
]


# Steps the customer is emailed about (each can be switched off per channel).
NOTIFIED_STEPS = ("received", "confirmed", "packed", "shipped", "delivered", "delayed", "cancelled")
# Steps whose emails one queue job composes (each template rendered once for all of them).
NOTIFY_CHUNK = 100
# Where the step automation puts the steps it approved while a step-email job sets them to send (``cr.cache``,
# within one call: a rolled-back savepoint clears it).
NOTIFY_APPROVED = "oms_ecommerce.step_emails_approved"


class OmsOrderStep(models.Model):
    _name = "oms.order.step"
    _description = "Step reached by a channel order"
    _order = "at, id"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    # Computed before the insert: no update after it (nor a run of the step automation's write hook). Stored: the
    # multi-company rule reads it on every search of steps (through the order: 25 ms at 100,000 orders).
    company_id = fields.Many2one(related="order_id.company_id", store=True, precompute=True)
    step = fields.Selection(STEPS, required=True)
    at = fields.Datetime(required=True, default=fields.Datetime.now)
    notification = fields.Selection(
        [
            ("queued", "Queued"),
            ("pending", "To send"),
            ("waiting", "Waiting for tracking"),
            ("sent", "Sent"),
            ("off", "Not sent"),
        ],
        default="queued",
        help="Queued: the email waits for its queue job, which sets it To send. The step automation runs on that "
        "change and emails the customer (an administrator can change or switch it off: the steps it leaves are "
        "marked Not sent, with why).",
        required=True,
        index=True,
    )
    notification_note = fields.Char(help="Why no email was sent for this step.")
    mail_message_id = fields.Many2one("mail.message", string="Email", ondelete="set null", readonly=True)

    _order_step_uniq = models.Constraint("UNIQUE (order_id, step)", "Each step of an order is recorded once.")

    @api.model_create_multi
    def create(self, vals_list):
        """A step the customer is not emailed about (not a customer-facing step, or switched off on the order's
        channel) is recorded as such at once, all in the same insert. The others are queued: inside a bulk
        operation (context key ``oms_notify_in_background``: the intake, a confirmation, the delay scan) their
        emails are left to queue jobs enqueued where the operation ends (``_oms_enqueue_gathered``; a
        confirmation alone enqueues the steps it recorded), so that the step automation does not run inside it;
        elsewhere they are set to send at once (``_oms_set_due``)."""
        orders = self.env["sale.order"].sudo().browse({vals["order_id"] for vals in vals_list if vals.get("order_id")})
        channels = {order.id: order.oms_channel_id for order in orders}  # read for all the orders at once
        for vals in vals_list:
            if vals.get("notification") or not vals.get("order_id") or not vals.get("step"):
                continue
            channel = channels[vals["order_id"]]
            if vals["step"] not in NOTIFIED_STEPS or not channel[f"notify_{vals['step']}"]:
                vals.update(notification="off", notification_note=self.env._("Not notified on this channel."))
        steps = super().create(vals_list)
        if not self.env.context.get("oms_notify_in_background"):
            steps.filtered(lambda s: s.notification == "queued")._oms_set_due()
        return steps

    # ------------------------------------------------------------------
    # One email per customer-facing step (see data/oms_automation.xml)
    # ------------------------------------------------------------------
    def _oms_set_due(self):
        """Set the queued steps of ``self`` to send: the step automation runs on that change and emails the
        customer (``_oms_notify_soon``) or, inside a step-email job, approves them for the job to compose
        together. The steps it left to send (an administrator switched it off or changed its filter) are marked
        not sent, with why.

        :return: the steps the automation approved inside a step-email job (context key ``oms_notify_collect``)
        """
        queued = self.filtered(lambda s: s.notification == "queued")
        if not queued:
            return self.browse()
        self.env.cr.cache.pop(NOTIFY_APPROVED, None)
        queued.write({"notification": "pending"})
        approved = self.browse(sorted(self.env.cr.cache.pop(NOTIFY_APPROVED, ())))
        left = queued.filtered(lambda s: s.notification == "pending") - approved
        if left:
            left.write(
                {
                    "notification": "off",
                    "notification_note": self.env._(
                        "Not emailed by the order steps' email job: the step automation did not take it (switched "
                        "off, filtered, or its action changed)."
                    ),
                }
            )
        return approved

    def _oms_notify_soon(self):
        """What the step automation does when a step is set to send: email now, or, inside a step-email job
        (context key ``oms_notify_collect``), approve it: the job composes the emails of all it approved at once
        (each template rendered once)."""
        if self.env.context.get("oms_notify_collect"):
            self.env.cr.cache.setdefault(NOTIFY_APPROVED, set()).update(self.ids)
            return True
        return self._oms_notify()

    @api.model
    def _oms_enqueue_gathered(self, orders=None):
        """Enqueue the emails of the steps this transaction queued (called where an operation that sets
        ``oms_notify_in_background`` ends: the intake's processing, a bulk confirmation, the delay scan; a
        confirmation alone enqueues the steps it just recorded). They are
        found in the database — still queued, created at this transaction's time — not kept aside: a savepoint
        rolled back meanwhile (one order of a batch refused) takes its own steps away, and Odoo clears
        ``cr.cache`` with it, which held the others before.

        :param orders: only the steps of these orders (an operation repeated in one transaction, such as the pages
            of a poll, enqueues each time the steps of its own orders, not those of the times before again)
        """
        domain = [("notification", "=", "queued"), ("create_date", "=", self.env.cr.now())]
        if orders is not None:
            domain.append(("order_id", "in", orders.ids))
        steps = self.sudo().search(domain, order="id")
        steps.with_env(self.env)._oms_enqueue_notify()

    def _oms_enqueue_notify(self):
        """One queue job per ``NOTIFY_CHUNK`` steps of ``self``. No identity key: the steps are those the
        transaction just created, which no job can hold yet, and its look-up would cost a query in every intake
        and confirmation; the same steps asked twice make two jobs, the second of which finds them sent (the
        job sends each step's email at most once, see ``_oms_job_notify``)."""
        steps = self.sorted("id")
        for start in range(0, len(steps), NOTIFY_CHUNK):
            chunk = steps[start : start + NOTIFY_CHUNK]
            chunk.with_delay(
                description=self.env._("Compose the emails of %(count)s order steps", count=len(chunk)),
            )._oms_job_notify()

    def _oms_job_notify(self):
        """A queue job: compose the emails of the steps of ``self`` still to send, each customer's in their
        language. The steps are locked first: a second job on the same steps (or the shipped email sent when
        the tracking number arrives) waits for this one and then finds them sent. A lock held by another
        transaction makes the job retry a little later (``RetryableJobError``) instead of failing.

        :return: how many emails were composed
        """
        steps = self.sudo().exists()  # the system's records, whoever enqueued the job (as the step automation)
        if not steps:
            return 0
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM oms_order_step WHERE id IN %s ORDER BY id FOR NO KEY UPDATE NOWAIT",
                        tuple(steps.ids),
                    )
                )
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure) as error:
            raise RetryableJobError(
                self.env._("These order steps are being emailed by another transaction: retried later."), seconds=10
            ) from error
        steps.invalidate_recordset(["notification"])
        return steps._oms_send_due()

    def _oms_send_due(self):
        """Set the queued steps of ``self`` to send (the step automation approves them), then compose at once the
        emails of those it approved and of those already to send.

        :return: how many emails were composed
        """
        to_send = self.filtered(lambda s: s.notification in ("pending", "waiting"))
        to_send |= self.with_context(oms_notify_collect=True)._oms_set_due().with_env(self.env)
        to_send = to_send._oms_to_email()
        to_send._oms_notify()
        return len(to_send.filtered(lambda s: s.notification == "sent"))

    def _oms_to_email(self):
        """The steps of ``self`` to email now; the others are marked (not notified and why, or waiting for the
        tracking number)."""
        to_send = switched_off = no_email = waiting = self.browse()
        for step in self.filtered(lambda s: s.notification in ("pending", "waiting")):
            channel = step.order_id.oms_channel_id
            if step.step not in NOTIFIED_STEPS or not channel[f"notify_{step.step}"]:
                switched_off |= step
            elif step.step == "shipped" and step.order_id._oms_waits_for_tracking():
                waiting |= step
            elif not step.order_id.oms_notify_partner_id:
                no_email |= step
            else:
                to_send |= step
        # one write per outcome, not per step (each write of a step runs the step automation's hook)
        if switched_off:
            switched_off.write(
                {"notification": "off", "notification_note": self.env._("Not notified on this channel.")}
            )
        if no_email:
            no_email.write({"notification": "off", "notification_note": self.env._("No customer email to notify.")})
        waiting.filtered(lambda s: s.notification != "waiting").notification = "waiting"
        return to_send

    def _oms_notify(self):
        """Email the customer about each step of ``self`` not notified yet, at most once.

        Rendered per template for the whole recordset (each customer in their language), then
        posted on each order's thread: the email is queued, in the chatter, and on the portal.
        """
        to_send = self._oms_to_email()
        for step_name in set(to_send.mapped("step")):
            steps = to_send.filtered(lambda s, name=step_name: s.step == name)
            template = self.env.ref(f"oms_ecommerce.mail_template_oms_{step_name}", raise_if_not_found=False)
            if not template:
                steps.write({"notification": "off", "notification_note": self.env._("The email template was deleted.")})
                continue
            steps._oms_post(template)
        return True

    def _oms_post(self, template):
        orders = self.order_id
        render = {
            field: template._render_field(field, orders.ids, compute_lang=True, options={"post_process": True})
            for field in ("subject", "body_html", "email_from")
        }
        for step in self:
            order = step.order_id
            message = order.with_context(mail_notify_force_send=False).message_post(
                body=render["body_html"][order.id],
                subject=render["subject"][order.id],
                email_from=render["email_from"][order.id] or None,
                partner_ids=order.oms_notify_partner_id.ids,
                subtype_xmlid="oms_ecommerce.mt_oms_step",
                message_type="notification",
                email_layout_xmlid="mail.mail_notification_light",
            )
            step.write({"notification": "sent", "mail_message_id": message.id, "notification_note": False})

    @api.model
    def _oms_notify_pending(self, limit=1000):
        """Compose now the step emails still queued or to send, as their jobs would (the demo data and the
        benchmark do, without a job runner)."""
        steps = self.search([("notification", "in", ("queued", "pending", "waiting"))], limit=limit, order="id")
        steps._oms_send_due()
        return len(steps)
