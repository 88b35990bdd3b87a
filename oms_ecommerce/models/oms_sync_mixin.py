import math

from markupsafe import Markup

from odoo import api, fields, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..tools.platform_client import PlatformError

SYNC_STATES = [("pending", "Waiting"), ("done", "Pushed"), ("error", "Failed")]
# Backoff of a call the platform may answer later (429, 5xx, timeout) when it gave no Retry-After:
# the job function's retry pattern (data/oms_queue_job_data.xml) spaces the attempts.
SYNC_MAX_RETRIES = 12


class OmsSyncError(UserError):
    """A push the platform refused for a reason a person has to fix: the job fails with this message."""


class OmsSyncMixin(models.AbstractModel):
    """What a record pushed to a sales channel's platform shows: its sync state, the platform's message when
    the push failed, and a Retry button. The pushes are queue_job jobs on the channel's job channel; a job
    that fails for good calls ``_oms_sync_job_failed`` (the job function's ``on_fail_method``)."""

    _name = "oms.sync.mixin"
    _description = "Channel Sync"

    oms_sync_state = fields.Selection(SYNC_STATES, string="Channel Sync", readonly=True, copy=False, index=True)
    oms_sync_error = fields.Text(string="Channel Sync Problem", readonly=True, copy=False)

    # ---------------------------------------------------------------- to override

    def _oms_sync_channel(self):
        """The sales channel the record is pushed to."""
        raise NotImplementedError

    def _oms_sync_enqueue(self):
        """Enqueue the record's push job(s)."""
        raise NotImplementedError

    def _oms_sync_identity_keys(self):
        """The identity keys of the records' push jobs (to close their failed jobs on a retry)."""
        raise NotImplementedError

    def _oms_sync_failed_jobs_domain(self):
        """The failed push jobs of these records (closed when the push is retried)."""
        return Domain("state", "=", "failed") & Domain("identity_key", "in", self._oms_sync_identity_keys())

    def _oms_sync_activity_record(self):
        """The record on which the desk gets an activity when the push fails."""
        return self

    # ---------------------------------------------------------------- shared

    def _oms_sync_delay(self, channel, identity_key, description):
        """``with_delay`` on the channel's own job channel (a slow or rate-limited shop holds no other back),
        with an identity key (a push asked again while one waits is the same job)."""
        return self.with_delay(
            channel=channel._oms_job_channel(),
            identity_key=identity_key,
            description=description,
            max_retries=SYNC_MAX_RETRIES,
        )

    @api.model
    def _oms_sync_call(self, push, *args, **kwargs):
        """Run one push: a retryable platform error (429, 5xx, timeout, throttled) becomes queue_job's
        ``RetryableJobError`` with the platform's wait; any other refusal fails the job with its message."""
        try:
            return push(*args, **kwargs)
        except PlatformError as error:
            if error.retryable:
                seconds = math.ceil(error.retry_after) if error.retry_after else None
                raise RetryableJobError(error.message, seconds=seconds) from None
            raise OmsSyncError(error.message) from None

    def _oms_sync_done(self, message=None):
        """The push went through: clear the problem and the desk's activity."""
        self.sudo().write({"oms_sync_state": "done", "oms_sync_error": False})
        records = self._oms_sync_activity_record()
        records.filtered(lambda r: not r._oms_sync_has_problem()).sudo().activity_unlink(
            ["oms_ecommerce.mail_activity_type_oms_sync"]
        )
        if message:
            for record in self:
                record.sudo().message_post(body=message, subtype_xmlid="mail.mt_note")

    def _oms_sync_has_problem(self):
        self.ensure_one()
        return self.oms_sync_state == "error"

    def _oms_sync_job_failed(self, exc_info=None, exc_name=None, exc_message=None, **kwargs):
        """``on_fail_method`` of the push jobs: the job failed for good (a refusal, or retries exhausted).
        The record shows the platform's message and a Retry button; the channel's responsible gets an
        activity. Runs after the job's transaction was rolled back: nothing the job did is kept."""
        message = (exc_message or exc_name or "").strip() or self.env._("The push failed without a message.")
        activity_type = self.env.ref("oms_ecommerce.mail_activity_type_oms_sync")
        for record in self.sudo().exists():
            record.write({"oms_sync_state": "error", "oms_sync_error": message})
            channel = record._oms_sync_channel()
            target = record._oms_sync_activity_record()
            summary = self.env._("Channel sync failed: %(record)s", record=record.display_name)
            note = Markup("<p>%s</p><p>%s</p>") % (
                self.env._(
                    "%(channel)s refused or did not answer the push of %(record)s:",
                    channel=channel.name,
                    record=record.display_name,
                ),
                message,
            )
            target.message_post(body=note, subtype_xmlid="mail.mt_note")
            pending = target.activity_ids.filtered(
                lambda a, summary=summary: a.activity_type_id == activity_type and a.summary == summary[:250]
            )
            if not pending:
                target.activity_schedule(
                    "oms_ecommerce.mail_activity_type_oms_sync",
                    summary=summary[:250],
                    note=note
                    + Markup("<p>%s</p>")
                    % self.env._("Fix what the message says (on the channel or on the platform), then press Retry."),
                    user_id=(channel.user_id or self.env.user).id,
                )

    def action_oms_sync_retry(self):
        """Push again what failed. The failed jobs are closed as cancelled (a new job does the work)."""
        self.check_access("write")
        failed = self.filtered(lambda r: r.oms_sync_state == "error")
        if not failed:
            raise UserError(self.env._("Nothing to retry: no push of these records failed."))
        failed.sudo().write({"oms_sync_state": "pending", "oms_sync_error": False})
        jobs = self.env["queue.job"].sudo().search(failed._oms_sync_failed_jobs_domain())
        jobs.button_cancelled()
        failed._oms_sync_enqueue()
        return True
