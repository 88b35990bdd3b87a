import hashlib
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.queue_job.delay import chain
from odoo.exceptions import UserError

from ..tools.batch import run_in_savepoints

# Above this many orders, a bulk action leaves the composing of the customer emails to the cron.
BACKGROUND_NOTIFY_THRESHOLD = 20
# Orders per job of a bulk confirmation run in the background (above oms_ecommerce.confirm_background_threshold).
CONFIRM_CHUNK = 50


class SaleOrder(models.Model):
    """The vendor confirms a channel order: automatically by the channel's policy, by hand (one or a bulk
    selection, in the background when large) before its confirm-by deadline, which a scheduled action
    escalates; or holds it, with a reason, and releases it."""

    _inherit = "sale.order"

    @api.model
    def _oms_plan_confirm_by(self, channel, placed):
        """The confirm-by deadline of an order placed at ``placed`` (UTC) on ``channel``: the channel's
        confirm-within hours in the company's working time. Planned by the intake, into the order's values."""
        calendar = channel.company_id.resource_calendar_id
        hours = channel.confirm_within_hours
        return (calendar.plan_hours(hours, placed) if calendar else False) or placed + timedelta(hours=hours)

    def _oms_confirm_automatically(self):
        """Whether the channel's policy confirms this order without a person."""
        self.ensure_one()
        policy = self.oms_channel_id.confirm_policy
        if policy == "all":
            return True
        paid = self.oms_payment_status == "paid"
        if policy == "paid":
            return paid
        if policy == "paid_under":
            return (
                paid
                and self.currency_id.compare_amounts(self.amount_total, self.oms_channel_id.confirm_max_amount) <= 0
            )
        return False

    def _oms_auto_confirmable(self):
        """The orders of ``self``, just received, that their channel's policy confirms at once (not on hold). The
        others wait for the desk; they get their reminder later, from the scheduled action, if they still wait
        then (``_oms_remind_to_confirm``): most are confirmed long before, and a reminder created now would be
        deleted again by their confirmation, twice the work for nothing. (Their ship-by and confirm-by dates
        were planned with their values: ``_oms_plan_ship_by``, ``_oms_plan_confirm_by``.)"""
        return self.filtered(lambda o: o._oms_confirm_automatically() and not o.oms_hold)

    def _oms_remind_to_confirm(self):
        """Remind the channel's responsible to confirm the orders of ``self`` before their deadline, one activity
        each, in one insert; the orders are flagged reminded, so that the reminder is made once."""
        self._oms_schedule_activities(
            "oms_ecommerce.mail_activity_type_oms_confirm",
            lambda order: {
                "date_deadline": fields.Date.to_date(order.oms_confirm_by or fields.Datetime.now()),
                "summary": self.env._(
                    "Confirm by %(deadline)s", deadline=fields.Datetime.to_string(order.oms_confirm_by)
                ),
                "user_id": (order.oms_channel_id.user_id or order.user_id or self.env.user).id,
            },
        )
        self.sudo().oms_confirm_reminded = True

    def _oms_schedule_activities(self, activity_xmlid, values):
        """What ``activity_schedule()`` does, for all the orders of ``self`` at once: one insert, each with its
        own deadline and user; no "assigned to you" email per activity (the scheduled actions make them by the
        dozen: they show in each user's activities).

        :param values: order -> {"summary", "date_deadline", "user_id"[, "note"]}
        :return: the activities
        """
        activity_type = self.env.ref(activity_xmlid, raise_if_not_found=False)
        if not self or not activity_type:
            return self.env["mail.activity"]
        model_id = self.env["ir.model"]._get_id(self._name)
        return (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(
                [
                    {
                        "activity_type_id": activity_type.id,
                        "automated": True,
                        "res_model_id": model_id,
                        "res_id": order.id,
                        "note": activity_type.default_note,
                        **values(order),
                    }
                    for order in self
                ]
            )
        )

    def _oms_confirm_safely(self):
        """Confirm ``self``; an order Odoo refuses to confirm stays received, with the reason in its chatter."""

        def refused(order, error):
            order.message_post(
                body=order.env._("Automatic confirmation failed: %(error)s", error=error.args[0]),
                subtype_xmlid="mail.mt_note",
            )

        return run_in_savepoints(self, lambda orders: orders.action_confirm(), refused, catch=UserError)

    def action_oms_confirm(self):
        """Bulk confirmation from the order desk: received channel orders that are not on hold. Above
        ``oms_ecommerce.confirm_background_threshold`` orders (100), they are confirmed by queue_job jobs of
        50 orders, one after the other, with the progress on an ``oms.job.progress`` record."""
        todo = self._oms_to_confirm()
        threshold = int(
            self.env["ir.config_parameter"].sudo().get_param("oms_ecommerce.confirm_background_threshold", 100)
        )
        if len(todo) > threshold:
            return todo._oms_confirm_in_background(skipped=len(self) - len(todo))
        confirmed = todo._oms_bulk_confirm(background_notify=len(todo) > BACKGROUND_NOTIFY_THRESHOLD)
        skipped = len(self) - len(confirmed)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if not skipped else "warning",
                "message": self.env._(
                    "%(confirmed)s orders confirmed; %(skipped)s skipped (already confirmed, on hold, or refused).",
                    confirmed=len(confirmed),
                    skipped=skipped,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _oms_to_confirm(self):
        return self.filtered(lambda o: o.oms_channel_id and o.state in ("draft", "sent") and not o.oms_hold)

    def _oms_bulk_confirm(self, background_notify=False):
        """Confirm the orders of ``self`` that are still to confirm. :return: the orders confirmed"""
        todo = self._oms_to_confirm()
        if not background_notify:
            return todo._oms_confirm_safely()
        # Many orders at once: the step emails are composed by queue jobs, right after, enqueued once all are done.
        confirmed = todo.with_context(oms_notify_in_background=True)._oms_confirm_safely()
        self.env["oms.order.step"]._oms_enqueue_gathered()
        return confirmed

    def _oms_confirm_in_background(self, skipped=0):
        """Enqueue the confirmation of ``self`` as a chain of jobs; a second click on the same selection while
        they run finds the same action."""
        key = "confirm:" + hashlib.sha1(",".join(map(str, sorted(self.ids))).encode()).hexdigest()
        progress, created = self.env["oms.job.progress"]._oms_start(
            "confirm",
            self.env._("Confirm %(count)s channel orders", count=len(self)),
            key,
            len(self),
            counters={"confirmed": 0, "skipped": skipped},
        )
        if created:
            ids = self.ids
            chunks = [ids[start : start + CONFIRM_CHUNK] for start in range(0, len(ids), CONFIRM_CHUNK)]
            chain(
                *[
                    progress._oms_delayable(
                        f"confirm-{number}",
                        self.env._(
                            "Confirm channel orders (part %(number)s of %(count)s)", number=number, count=len(chunks)
                        ),
                    )._oms_job_confirm(chunk)
                    for number, chunk in enumerate(chunks, start=1)
                ]
            ).delay()
        return progress._oms_started_notification(
            self.env._(
                "%(count)s orders are confirmed in the background, %(chunk)s at a time; you will be told when it is "
                "done.",
                count=progress.total,
                chunk=CONFIRM_CHUNK,
            )
        )

    @api.model
    def _cron_oms_confirm_overdue(self, limit=500):
        """Remind the responsible of the channel orders that have waited for their confirmation longer than
        ``oms_ecommerce.confirm_reminder_minutes`` (30), then flag and escalate those whose confirm-by deadline
        has passed.

        :return: how many orders were flagged overdue
        """
        minutes = int(self.env["ir.config_parameter"].sudo().get_param("oms_ecommerce.confirm_reminder_minutes", 30))
        self.search(
            [
                ("oms_channel_id", "!=", False),
                ("state", "in", ("draft", "sent")),
                ("oms_hold", "=", False),
                ("oms_confirm_reminded", "=", False),
                ("create_date", "<=", fields.Datetime.now() - timedelta(minutes=minutes)),
            ],
            limit=limit,
        )._oms_remind_to_confirm()
        overdue = self.search(
            [
                ("oms_channel_id", "!=", False),
                ("state", "in", ("draft", "sent")),
                ("oms_hold", "=", False),
                ("oms_confirm_overdue", "=", False),
                ("oms_confirm_by", "<", fields.Datetime.now()),
            ],
            limit=limit,
        )
        # The escalation is a reminder too: the confirmation removes it with the first.
        overdue.sudo().write({"oms_confirm_overdue": True, "oms_confirm_reminded": True})
        overdue._oms_schedule_activities(
            "oms_ecommerce.mail_activity_type_oms_confirm",
            lambda order: {
                "date_deadline": fields.Date.context_today(order),
                "summary": self.env._("Overdue: confirm order %(order)s", order=order.name),
                "note": self.env._("The confirm-by deadline %(deadline)s has passed.", deadline=order.oms_confirm_by),
                "user_id": (
                    order.oms_channel_id.team_id.user_id
                    or order.team_id.user_id
                    or order.oms_channel_id.user_id
                    or self.env.user
                ).id,
            },
        )
        return len(overdue)

    def action_oms_hold(self):
        """Ask for the reason, then put the orders on hold."""
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_order_hold_action")
        action["name"] = self.env._("Put on hold")
        action["context"] = {"active_model": "sale.order", "active_ids": self.ids}
        return action

    def _oms_hold(self, reason):
        for order in self:
            if order.oms_step in ("shipped", "delivered", "cancelled", "returned"):
                raise UserError(
                    self.env._(
                        "Order %(order)s is %(step)s and cannot be put on hold.", order=order.name, step=order.oms_step
                    )
                )
        self.sudo().write({"oms_hold": True, "oms_hold_reason": reason})
        for order in self:
            order.message_post(body=self.env._("Put on hold: %(reason)s", reason=reason), subtype_xmlid="mail.mt_note")
        self._oms_reach_steps()

    def action_oms_release(self):
        held = self.filtered("oms_hold")
        held.sudo().write({"oms_hold": False, "oms_hold_reason": False})
        for order in held:
            order.message_post(body=self.env._("Released from hold."), subtype_xmlid="mail.mt_note")
        held._oms_reach_steps()
        return True
