import logging
import traceback

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class OmsWavePrint(models.Model):
    """A wave's document built in the background; one active job per wave, whoever clicks."""

    _name = "oms.wave.print"
    _description = "Wave Print Job"
    _order = "id desc"

    batch_id = fields.Many2one("stock.picking.batch", string="Wave", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True)
    user_id = fields.Many2one("res.users", string="Requested By", required=True, default=lambda self: self.env.user)
    state = fields.Selection(
        [("queued", "Queued"), ("running", "Building"), ("done", "Ready"), ("failed", "Failed")],
        default="queued",
        required=True,
    )
    content = fields.Selection(
        [("all", "Pick list, slips and labels"), ("labels", "Labels only"), ("slips", "Slips only")],
        default="all",
        required=True,
    )
    reverse = fields.Boolean(string="Reverse Order")
    reprint = fields.Boolean()
    progress = fields.Integer(help="Percent of the wave's deliveries rendered.")
    delivery_count = fields.Integer(string="Printed Deliveries", readonly=True)
    skipped_count = fields.Integer(string="Skipped Deliveries", readonly=True)
    skipped_note = fields.Text(string="Skipped", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)
    error = fields.Text(readonly=True)
    started_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)

    _one_active_job_per_wave = models.UniqueIndex(
        "(batch_id) WHERE state IN ('queued', 'running')",
        "This wave's document is already being built.",
    )

    @api.model
    def _request(self, wave, content="all", reverse=False, reprint=False):
        """The wave's active job, created if there is none (concurrent clicks end in the same job)."""
        wave.check_access("read")
        self = self.sudo()  # the job is the system's, on behalf of the user (user_id)
        active = self.search([("batch_id", "=", wave.id), ("state", "in", ("queued", "running"))], limit=1)
        if active:
            return active, False
        try:
            with self.env.cr.savepoint():
                job = self.create(
                    {
                        "batch_id": wave.id,
                        "user_id": self.env.uid,
                        "content": content,
                        "reverse": reverse,
                        "reprint": reprint,
                    }
                )
        except UniqueViolation:
            # Another worker created it between our search and our insert: theirs is the job.
            job = self.search([("batch_id", "=", wave.id), ("state", "in", ("queued", "running"))], limit=1)
            return job, False
        self.env.ref("oms_ecommerce.ir_cron_oms_wave_print")._trigger()
        return job, True

    def _run(self, commit=None):
        """Build the document; ``commit`` (the cron's) makes the progress visible to the users meanwhile."""
        self.ensure_one()
        self.write({"state": "running", "started_at": fields.Datetime.now(), "progress": 0})
        if commit:
            commit()
        wave = self.batch_id.with_user(self.user_id).with_context(lang=self.user_id.lang)

        def progress(done, total):
            self.progress = int(100 * done / total)
            if commit:
                commit()

        try:
            pdf, printed, skipped = wave._oms_wave_pdf(
                content=self.content, reverse=self.reverse, reprint=self.reprint, progress=progress
            )
        except Exception as error:  # the job must end, failed, with the reason for the user
            _logger.warning("Wave print job %s failed:\n%s", self.id, traceback.format_exc())
            message = (
                error.args[0]
                if isinstance(error, UserError) and error.args
                else self.env._(
                    "Unexpected error (%(error)s); the details are in the server log. Print the wave again, or "
                    "tell your administrator if it happens again.",
                    error=type(error).__name__,
                )
            )
            if commit:
                # In the scheduled action: take back what this run wrote since its last commit (a database
                # error leaves the transaction unusable otherwise).
                self.env.cr.rollback()
            self.write({"state": "failed", "error": message, "done_at": fields.Datetime.now()})
            self.batch_id.message_post(
                body=self.env._("The wave document could not be built: %(error)s", error=message),
                partner_ids=self.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
            return False
        attachment = wave.sudo()._oms_attach_wave_pdf(pdf, printed, skipped, user=self.user_id)
        self.write(
            {
                "state": "done",
                "progress": 100,
                "attachment_id": attachment.id,
                "delivery_count": len(printed),
                "skipped_count": len(skipped),
                "skipped_note": "\n".join(f"{p.name}: {why}" for p, why in skipped.items()) or False,
                "done_at": fields.Datetime.now(),
            }
        )
        return True

    @api.model
    def _cron_run_jobs(self):
        """Build the queued wave documents, one job at a time; several workers never take the same job."""
        Cron = self.env["ir.cron"]
        # A worker killed while building (time or memory limit) leaves its job running: end it, so that the
        # wave can be printed again.
        stale = self.search(
            [("state", "=", "running"), ("started_at", "<", fields.Datetime.subtract(fields.Datetime.now(), hours=1))]
        )
        for job in stale:
            job.write(
                {"state": "failed", "error": self.env._("Interrupted (the worker stopped): print the wave again.")}
            )
            job.batch_id.message_post(
                body=self.env._("The wave document was interrupted: print the wave again."),
                partner_ids=job.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
        while True:
            self.env.flush_all()  # the jobs' states as written so far
            self.env.cr.execute(
                "SELECT id FROM oms_wave_print WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            )
            row = self.env.cr.fetchone()
            if not row:
                return
            job = self.browse(row[0])
            job._run(commit=Cron._commit_progress)
            if not Cron._commit_progress(1):
                # This run's time is up: the scheduled action comes back for the next jobs.
                self.env.ref("oms_ecommerce.ir_cron_oms_wave_print")._trigger()
                return

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("The document of this job is not ready."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }
