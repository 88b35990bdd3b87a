import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import platform_poll
from ..tools.platform_client import PlatformError

_logger = logging.getLogger(__name__)

MANAGER = "oms_ecommerce.group_oms_manager"
POLL_PLATFORMS = ("shopify", "woocommerce")
POLL_TIME_BUDGET = 120  # seconds one channel may take in a scheduled run; the rest waits for the next run
POLL_FAILURES_BEFORE_ACTIVITY = 3  # consecutive failed runs (45 minutes) before the responsible is asked


class OmsChannel(models.Model):
    """The poll of missed webhooks: WooCommerce never retries a failed delivery and Shopify does not guarantee
    one, so a scheduled action pulls the orders each platform updated since the channel's watermark (minus an
    overlap) and feeds them through the webhook path. Known versions are skipped before they are stored."""

    _inherit = "oms.channel"

    poll_enabled = fields.Boolean(
        string="Pull Missed Orders",
        default=True,
        groups=MANAGER,
        help="Every 15 minutes, pull the orders the platform updated since the watermark from its admin API "
        "(once its credentials are set), in case a webhook was lost.",
    )
    poll_watermark = fields.Datetime(
        string="Pulled Up To",
        groups=MANAGER,
        copy=False,
        help="The platform's last update time (UTC) of the newest order pulled so far: the next pull asks for "
        "the orders updated since then, minus the overlap. Empty: since the channel's latest order (or since "
        "the channel was created). Set it back to pull older orders again; orders already received are skipped.",
    )
    poll_overlap_minutes = fields.Integer(
        string="Overlap (min)",
        default=10,
        groups=MANAGER,
        help="Minutes before the watermark each pull starts from, for orders whose update the platform saved "
        "with a slight delay. Orders read twice are skipped.",
    )
    poll_last_run = fields.Datetime(string="Last Pull", readonly=True, copy=False, groups=MANAGER)
    poll_last_result = fields.Char(string="Last Pull Result", readonly=True, copy=False, groups=MANAGER)
    poll_last_error = fields.Text(string="Pull Error", readonly=True, copy=False, groups=MANAGER)
    poll_error_count = fields.Integer(
        string="Failed Pulls",
        readonly=True,
        copy=False,
        groups=MANAGER,
        help="Pulls that failed in a row; the responsible gets an activity from the third one.",
    )

    _poll_overlap_minutes_range = models.Constraint(
        "CHECK (poll_overlap_minutes >= 0 AND poll_overlap_minutes <= 1440)",
        "The overlap of the pull must be between 0 and 1440 minutes.",
    )

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _cron_oms_poll(self):
        """Scheduled action: pull the missed orders of every channel set up for it, one channel after the other;
        one channel's failure is recorded on it and does not stop the others."""
        Cron = self.env["ir.cron"]
        channels = self.sudo().search([("platform", "in", POLL_PLATFORMS), ("poll_enabled", "=", True)])
        channels = channels.filtered(lambda channel: channel._oms_poll_ready())
        Cron._commit_progress(remaining=len(channels))
        for channel in channels:
            result = channel._oms_poll(commit=Cron._commit_progress)
            if result["more"]:
                self.env.ref("oms_ecommerce.ir_cron_oms_poll")._trigger()
            if not Cron._commit_progress(1):
                self.env.ref("oms_ecommerce.ir_cron_oms_poll")._trigger()
                return

    def action_oms_poll_now(self):
        """Button: pull this channel's missed orders now, as queue_job jobs on the channel's job channel (a few
        pages each), with the progress on an ``oms.job.progress`` record and the user told when it is done."""
        self.ensure_one()
        self.check_access("write")
        if not self.env.user.has_group(MANAGER):
            raise AccessError(self.env._("Only an OMS manager can pull a channel's orders from its platform."))
        if self.platform not in POLL_PLATFORMS:
            raise UserError(
                self.env._(
                    "Channel %(channel)s sends its orders through the OMS API: there is no platform to pull them from.",
                    channel=self.name,
                )
            )
        if not self._oms_poll_ready():
            raise UserError(
                self.env._(
                    "Set the credentials of channel %(channel)s's platform (Platform Connection tab) to pull its orders.",
                    channel=self.name,
                )
            )
        since = self._oms_poll_since()
        progress, created = self.env["oms.job.progress"]._oms_start(
            "poll",
            self.env._("Pull missed orders: %(channel)s", channel=self.name),
            f"poll:{self.id}",
            max(1, int((fields.Datetime.now() - since).total_seconds())),
            channel_id=self.id,
        )
        if created:
            progress._oms_delayable(
                "poll-1",
                self.env._("Pull missed orders of %(channel)s", channel=self.name),
                channel=self._oms_job_channel(),
            )._oms_job_poll().delay()
        return progress._oms_started_notification(
            self.env._(
                "The orders %(platform)s updated since %(since)s UTC are pulled in the background; you will be told "
                "when it is done.",
                platform=dict(self._fields["platform"]._description_selection(self.env))[self.platform],
                since=fields.Datetime.to_string(since),
            )
        )

    # ------------------------------------------------------------------
    # The work
    # ------------------------------------------------------------------
    def _oms_poll_ready(self):
        """Whether the platform's credentials are set (the channel's platform is pulled from)."""
        self.ensure_one()
        channel = self.sudo()
        if channel.platform == "shopify":
            return bool(channel.shopify_shop and channel.shopify_access_token)
        if channel.platform == "woocommerce":
            return bool(channel.woo_url and channel.woo_consumer_key and channel.woo_consumer_secret)
        return False

    def _oms_poll_since(self):
        """The platform update time the pull starts from: the watermark (or, before the first pull, the
        channel's latest order, else the channel's creation) minus the overlap."""
        self.ensure_one()
        channel = self.sudo()
        start = channel.poll_watermark
        if not start:
            latest = (
                self.env["sale.order"]
                .sudo()
                .search_fetch([("oms_channel_id", "=", channel.id)], ["create_date"], order="create_date desc", limit=1)
            )
            start = latest.create_date or channel.create_date
        return start - timedelta(minutes=channel.poll_overlap_minutes or 0)

    def _oms_integration_env(self):
        """The environment the platform's webhooks are processed in: the integration user, in the channel's
        company (see the channel API's controller)."""
        self.ensure_one()
        self._grant_api_user()
        api_user = self.env.ref("oms_ecommerce.user_oms_api").sudo()
        return self.env(
            user=api_user.id,
            su=False,
            context=dict(self.env.context, allowed_company_ids=[self.sudo().company_id.id], tz="UTC"),
        )

    def _oms_poll(self, commit=None, budget=POLL_TIME_BUDGET, sleep=time.sleep, since=None):
        """Pull the orders the platform updated since the watermark, page after page, each page stored and
        applied in a savepoint; the watermark then moves to the newest update time of the page and ``commit``
        (the scheduled action's ``_commit_progress``) makes it durable. A failure stops the run: the pages before
        it stay, the watermark stays at the last page done, the error is recorded on the channel.

        :param commit: called after each page; returns the seconds left to the scheduled run (0: stop)
        :param budget: seconds after which the run stops after its current page (the next run goes on)
        :param since: the platform update time to start from (default: the watermark minus the overlap)
        :return: {"stored": n, "skipped": n, "pages": n, "more": whether pages were left, "error": message}
        """
        self.ensure_one()
        channel = self.sudo()
        started = time.monotonic()
        result = {"stored": 0, "skipped": 0, "pages": 0, "more": False, "error": False}
        env = channel._oms_integration_env()
        Intake, target = env["oms.intake"], env["oms.channel"].browse(channel.id)
        try:
            client = channel._oms_platform_client()
            start = since or channel._oms_poll_since()
            for orders in platform_poll.pages(channel.platform, client, start, sleep=sleep):
                with self.env.cr.savepoint():
                    stored, skipped, newest = Intake._receive_polled(target, orders)
                    if newest and (not channel.poll_watermark or newest > channel.poll_watermark):
                        channel.poll_watermark = newest
                result["stored"] += len(stored)
                result["skipped"] += skipped
                result["pages"] += 1
                time_left = commit() if commit else float("inf")
                if time_left <= 0 or time.monotonic() - started >= budget:
                    result["more"] = True
                    break
        except PlatformError as error:
            result["error"] = channel._oms_poll_failed(error, result)
            return result
        except Exception as error:  # one channel's bug must not stop the other channels' pulls
            _logger.exception("OMS poll: unexpected error while pulling the orders of channel %s", channel.code)
            result["error"] = channel._oms_poll_failed(error, result)
            return result
        channel._oms_poll_succeeded(result)
        return result

    def _oms_poll_succeeded(self, result):
        self.ensure_one()
        summary = self.env._(
            "%(stored)s orders received, %(skipped)s already known (%(pages)s pages).",
            stored=result["stored"],
            skipped=result["skipped"],
            pages=result["pages"],
        )
        if result["more"]:
            summary = self.env._("%(summary)s Stopped after its time budget: continued next run.", summary=summary)
        self.write(
            {
                "poll_last_run": fields.Datetime.now(),
                "poll_last_result": summary,
                "poll_last_error": False,
                "poll_error_count": 0,
            }
        )
        activities = self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self._oms_poll_activity_type()
        )
        if activities:
            activities.action_feedback(feedback=self.env._("The pull of missed orders works again."))

    def _oms_poll_failed(self, error, result):
        """Record a failed pull on the channel (its last error, how many in a row) and, when it keeps failing,
        give the responsible one activity (not one per run). :return: the message recorded"""
        self.ensure_one()
        if isinstance(error, PlatformError):
            reason = error.message
            if error.status == 429 and error.retry_after:
                reason = self.env._(
                    "%(reason)s The platform asked to wait %(seconds)s s.", reason=reason, seconds=error.retry_after
                )
            retryable = error.retryable
        else:
            reason = self.env._("Unexpected error: %(error)s. The server log has the details.", error=repr(error))
            retryable = True
        what_next = (
            self.env._("Retried automatically at the next run; nothing is lost.")
            if retryable
            else self.env._("Fix the cause (see the channel's Platform Connection), then pull again.")
        )
        message = self.env._(
            "%(reason)s %(what_next)s Pulled before it stopped: %(stored)s orders; up to %(watermark)s UTC.",
            reason=reason,
            what_next=what_next,
            stored=result["stored"],
            watermark=fields.Datetime.to_string(self.poll_watermark) or self.env._("nothing yet"),
        )
        failures = self.poll_error_count + 1
        self.write(
            {
                "poll_last_run": fields.Datetime.now(),
                "poll_last_result": self.env._("Failed."),
                "poll_last_error": message,
                "poll_error_count": failures,
            }
        )
        _logger.warning("OMS poll: channel %s: %s", self.code, message)
        activity_type = self._oms_poll_activity_type()
        if failures >= POLL_FAILURES_BEFORE_ACTIVITY and not self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == activity_type
        ):
            self.activity_schedule(
                "oms_ecommerce.mail_activity_type_oms_poll",
                note=self.env._(
                    "The pull of missed orders from %(platform)s failed %(count)s times in a row. Last error: "
                    "%(message)s",
                    platform=dict(self._fields["platform"]._description_selection(self.env))[self.platform],
                    count=failures,
                    message=message,
                ),
                user_id=(self.user_id or self.create_uid).id,
            )
        return message

    def _oms_poll_activity_type(self):
        return self.env.ref("oms_ecommerce.mail_activity_type_oms_poll", raise_if_not_found=False)
