import io
import logging
import math
import traceback

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.pdf import PdfReader

from .oms_intake import CONCURRENCY_ERRORS
from .stock_picking_batch import PRINT_CHUNK

_logger = logging.getLogger(__name__)


class OmsWavePrint(models.Model):
    """A wave's document built in the background; one active job per wave, whoever clicks.

    The record is what the user sees (progress, the document); OCA queue_job does the work, one job per chunk of
    PRINT_CHUNK deliveries and a last one that assembles the document. Each chunk's pages are kept as they are
    built, so a worker killed in the middle of a 1,000-delivery wave resumes at its chunk (queue_job's runner
    requeues the dead job), not from zero."""

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
    # The selection, fixed when the build starts: the deliveries in wave order, and why the others are skipped.
    picking_order = fields.Json(readonly=True, copy=False)
    skipped_reasons = fields.Json(readonly=True, copy=False)
    chunk_count = fields.Integer(readonly=True)
    chunk_done = fields.Integer(string="Chunks Built", readonly=True)
    part_ids = fields.Many2many(
        "ir.attachment", "oms_wave_print_part_rel", "print_id", "attachment_id", string="Built Chunks", readonly=True
    )

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
        job._enqueue(0)
        return job, True

    def _enqueue(self, step):
        """The queue job of build step ``step`` (a chunk, then the assembly), on its job function's channel
        (root.oms_wave_print)."""
        self.ensure_one()
        return self.with_delay(
            identity_key=f"oms.wave.print:{self.id}:{step}",
            description=self.env._("Wave %(wave)s: document, step %(step)s", wave=self.batch_id.name, step=step + 1),
        )._job_build(step)

    def _job_build(self, step):
        """A queue job: build step ``step``, then enqueue the next one. A step already built (the job run again
        after a lost commit) is skipped; a concurrency error is left to queue_job, which retries the step."""
        self.ensure_one()
        if self.state not in ("queued", "running"):
            return False
        if self._build_step(step) is False:
            self._enqueue(step + 1)
        return True

    def _run(self):
        """Build the whole document now, in this process (the steps not built yet): for tests and the shell.

        :return: True when the document is ready, False when the job failed
        """
        self.ensure_one()
        step = self.chunk_done
        while True:
            finished = self._build_step(step)
            if finished is not False:
                return finished
            step += 1

    def _build_step(self, step):
        """Render chunk ``step`` of the selection, or assemble the document after the last chunk.

        :return: False when more steps follow, True when the document is ready, None when the job failed (its
            reason is on the job and told to the user)
        """
        try:
            with self.env.cr.savepoint():
                if self.state == "queued":
                    self._start()
                if step < self.chunk_done:
                    return False  # built before (a job run twice)
                if step < self.chunk_count:
                    self._build_chunk(step)
                    return False
                self._assemble()
                return True
        except CONCURRENCY_ERRORS:
            raise
        except Exception as error:  # the job must end, failed, with the reason for the user
            self._fail(error)
            return None

    def _wave(self):
        """The wave as the user who asked (their rights, their language)."""
        return self.batch_id.with_user(self.user_id).with_context(lang=self.user_id.lang)

    def _start(self):
        """Fix the selection (what the user would have printed at their click) and the chunks."""
        selected, skipped = self._wave()._oms_wave_selection(self.content, self.reprint)
        if not selected:
            raise UserError(
                self.env._(
                    "Nothing to print in wave %(wave)s: %(reasons)s. Choose “Reprint” to print them again.",
                    wave=self.batch_id.name,
                    reasons=", ".join(f"{p.name} ({why})" for p, why in skipped.items()) or self.env._("no delivery"),
                )
            )
        self.write(
            {
                "state": "running",
                "started_at": fields.Datetime.now(),
                "progress": 0,
                "picking_order": selected.ids,
                "skipped_reasons": {str(p.id): why for p, why in skipped.items()},
                "chunk_count": math.ceil(len(selected) / PRINT_CHUNK),
                "chunk_done": 0,
            }
        )

    def _selection(self):
        wave = self._wave()
        skipped = {wave.env["stock.picking"].browse(int(pid)): why for pid, why in (self.skipped_reasons or {}).items()}
        return wave.env["stock.picking"].browse(self.picking_order or []), skipped

    def _build_chunk(self, index):
        """Render the slips and labels of chunk ``index`` and keep its pages."""
        selected, _skipped = self._selection()
        chunk = selected[index * PRINT_CHUNK : (index + 1) * PRINT_CHUNK]
        wave = self._wave()
        pdfs = iter(wave.env["ir.actions.report"]._oms_render_pdfs(wave._oms_chunk_reports(chunk, self.content)))
        pdf = wave._oms_pdf(chunk._oms_wave_pages(self.content, pdfs))
        part = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{self.batch_id.name}-part-{index + 1:04d}.pdf",
                    "raw": pdf,
                    "res_model": self._name,
                    "res_id": self.id,
                    "mimetype": "application/pdf",
                }
            )
        )
        done = min(len(selected), (index + 1) * PRINT_CHUNK)
        self.write(
            {
                "part_ids": [fields.Command.link(part.id)],
                "chunk_done": index + 1,
                "progress": min(99, int(100 * done / len(selected))),
            }
        )

    def _assemble(self):
        """The pick list and the built chunks in one document, attached to the wave; the prints logged."""
        selected, skipped = self._selection()
        wave = self._wave()
        pages = []
        if self.content != "labels":
            report, ids, data = wave._oms_pick_list_report(selected, skipped)
            pick_list = wave.env["ir.actions.report"]._oms_render_pdfs([(report, ids, data)])[0]
            pages += PdfReader(io.BytesIO(pick_list)).pages
        for part in self.part_ids.sorted("name"):
            pages += PdfReader(io.BytesIO(part.raw)).pages
        wave._oms_log_wave_prints(selected, self.content)
        pdf = wave._oms_pdf(pages, self.reverse)
        # The chunks' pages and readers go before the document is stored (a 5,000-delivery wave's chunks weigh
        # as much as the document), which is stored from its bytes, not through a base64 copy of them.
        del pages
        attachment = wave.sudo()._oms_attach_wave_pdf(pdf, selected, skipped, user=self.user_id)
        parts = self.part_ids
        self.write(
            {
                "state": "done",
                "progress": 100,
                "attachment_id": attachment.id,
                "delivery_count": len(selected),
                "skipped_count": len(skipped),
                "skipped_note": "\n".join(f"{p.name}: {why}" for p, why in skipped.items()) or False,
                "done_at": fields.Datetime.now(),
                "part_ids": [fields.Command.clear()],
            }
        )
        parts.sudo().unlink()

    def _job_build_failed(self, exc_info=None, exc_name=None, exc_message=None, **kwargs):
        """``on_fail_method`` of the build jobs: a step failed for good (retries exhausted on concurrency errors):
        the job ends failed, so that the wave can be printed again."""
        for job in self.sudo().exists().filtered(lambda j: j.state in ("queued", "running")):
            job._fail(UserError(exc_message or exc_name or self.env._("The background job failed.")))

    def _fail(self, error):
        """End the job, failed, with the reason told to the user who asked."""
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
        parts = self.part_ids
        self.write(
            {
                "state": "failed",
                "error": message,
                "done_at": fields.Datetime.now(),
                "part_ids": [fields.Command.clear()],
            }
        )
        parts.sudo().unlink()
        self.batch_id.message_post(
            body=self.env._("The wave document could not be built: %(error)s", error=message),
            partner_ids=self.user_id.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("The document of this job is not ready."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }
