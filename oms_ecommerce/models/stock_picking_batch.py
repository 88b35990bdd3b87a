import io
from datetime import datetime

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.pdf import PdfReader, PdfWriter

from ..tools.actions import window_action

# Above this many deliveries a wave's document is built in the background (system parameter to change it).
BACKGROUND_PRINT_THRESHOLD = 50
BACKGROUND_PRINT_PARAM = "oms_ecommerce.wave_background_threshold"
# Deliveries per wkhtmltopdf run when a wave's slips and labels are rendered.
PRINT_CHUNK = 100


class StockPickingBatch(models.Model):
    _inherit = "stock.picking.batch"

    oms_wave_rule_id = fields.Many2one(
        "oms.wave.rule", string="Wave Rule", readonly=True, index="btree_not_null", check_company=True
    )
    oms_delivery_count = fields.Integer(string="Deliveries", compute="_compute_oms_progress")
    oms_printed_count = fields.Integer(string="Labels Printed", compute="_compute_oms_progress")
    oms_packed_count = fields.Integer(string="Packed", compute="_compute_oms_progress")
    oms_shipped_count = fields.Integer(string="Shipped", compute="_compute_oms_progress")
    oms_print_job_ids = fields.One2many("oms.wave.print", "batch_id", string="Print Jobs")

    @api.depends("picking_ids.state", "picking_ids.oms_label_printed_at", "picking_ids.move_line_ids.result_package_id")
    def _compute_oms_progress(self):
        for wave in self:
            deliveries = wave._oms_deliveries()
            wave.oms_delivery_count = len(deliveries)
            wave.oms_printed_count = len(deliveries.filtered("oms_label_printed_at"))
            wave.oms_packed_count = len(deliveries.filtered(lambda p: p.state == "done" or p._oms_is_packed()))
            wave.oms_shipped_count = len(deliveries.filtered(lambda p: p.state == "done"))

    @api.model
    def _oms_background_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param(BACKGROUND_PRINT_PARAM)
        return int(value) if value and value.isdigit() else BACKGROUND_PRINT_THRESHOLD

    def _oms_deliveries(self):
        """The wave's outgoing deliveries, in wave order: most urgent ship-by first, as the wave rules fill them."""
        deliveries = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")
        return deliveries.sorted(lambda p: (p.sale_id.oms_ship_by or p.scheduled_date or datetime.max, p.id))

    def action_oms_pack(self):
        """Pack the wave's deliveries one after the other, in the wave's order."""
        return self._oms_deliveries().action_oms_pack()

    def action_oms_print_wave(self):
        self.ensure_one()
        return window_action(
            self.env["oms.wave.print.wizard"],
            self.env._("Print Wave %(wave)s", wave=self.name),
            target="new",
            context={"default_batch_id": self.id},
        )

    def action_oms_print_wave_zpl(self):
        self.ensure_one()
        deliveries = self._oms_deliveries().filtered(lambda p: p._oms_parcels())
        if not deliveries:
            raise UserError(self.env._("Wave %(wave)s has no packed delivery yet.", wave=self.name))
        return self.env.ref("oms_ecommerce.action_report_shipping_label_zpl").report_action(deliveries, config=False)

    def action_oms_view_print_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_wave_print_action")
        action["name"] = self.env._("Print Jobs")
        action["domain"] = [("batch_id", "=", self.id)]
        return action

    # ----------------------------------------------------------- the document

    def _oms_wave_selection(self, content="all", reprint=False):
        """(deliveries to print, {delivery: why it is skipped}) in wave order."""
        self.ensure_one()
        skipped = {}
        selected = self.env["stock.picking"]
        for picking in self._oms_deliveries():
            if content != "slips" and not picking._oms_parcels():
                skipped[picking] = self.env._("not packed yet")
            elif not reprint and content != "slips" and picking.oms_label_printed_at:
                skipped[picking] = self.env._("label already printed")
            elif not reprint and content == "slips" and picking.oms_slip_printed_at:
                skipped[picking] = self.env._("slip already printed")
            elif content != "slips" and (problem := picking._oms_label_problem()):
                skipped[picking] = problem
            else:
                selected |= picking
        return selected, skipped

    def _oms_wave_pdf(self, content="all", reverse=False, reprint=False, progress=None):
        """The wave's document: a pick list, then for each delivery its packing slip and its labels.

        Slips and labels are rendered PRINT_CHUNK deliveries per wkhtmltopdf run, the runs in parallel
        (``ir.actions.report._oms_render_pdfs``), and merged page by page.
        :param content: ``all``, ``labels`` or ``slips``
        :param reverse: pages in reverse order, for printers that stack face up
        :param progress: called with (done, total) deliveries after each chunk
        :return: (pdf bytes, printed deliveries, {skipped delivery: reason})
        """
        self.ensure_one()
        selected, skipped = self._oms_wave_selection(content, reprint)
        if not selected:
            raise UserError(
                self.env._(
                    "Nothing to print in wave %(wave)s: %(reasons)s. Choose “Reprint” to print them again.",
                    wave=self.name,
                    reasons=", ".join(f"{p.name} ({why})" for p, why in skipped.items()) or self.env._("no delivery"),
                )
            )
        # One report per wkhtmltopdf run: the pick list, then per PRINT_CHUNK deliveries their slips and their
        # labels; the runs convert in parallel while the next report's HTML is rendered.
        chunks = [selected[start : start + PRINT_CHUNK] for start in range(0, len(selected), PRINT_CHUNK)]
        jobs, chunk_of_job = [], []
        if content != "labels":  # a label printer gets labels only
            jobs.append(self._oms_pick_list_report(selected, skipped))
            chunk_of_job.append(None)
        for chunk in chunks:
            chunk_jobs = self._oms_chunk_reports(chunk, content)
            jobs += chunk_jobs
            chunk_of_job += [chunk] * len(chunk_jobs)

        def jobs_done(count):
            if progress:
                done = chunk_of_job[count - 1]
                if done and (count == len(jobs) or chunk_of_job[count] != done):  # the chunk's last report
                    progress(sum(len(c) for c in chunks[: chunks.index(done) + 1]), len(selected))

        pdfs = iter(self.env["ir.actions.report"]._oms_render_pdfs(jobs, progress=jobs_done))
        pages = list(PdfReader(io.BytesIO(next(pdfs))).pages) if content != "labels" else []
        for chunk in chunks:
            pages += chunk._oms_wave_pages(content, pdfs)
        self._oms_log_wave_prints(selected, content)
        return self._oms_pdf(pages, reverse), selected, skipped

    def _oms_pick_list_report(self, selected, skipped):
        """The wave's pick list as a report job of ``ir.actions.report._oms_render_pdfs``."""
        return (
            "oms_ecommerce.action_report_wave_pick_list",
            self.ids,
            {"picking_ids": selected.ids, "skipped": {p.id: why for p, why in skipped.items()}},
        )

    @api.model
    def _oms_chunk_reports(self, pickings, content):
        """The report jobs of a chunk of deliveries: their slips, then their labels (as ``content`` asks). Rendering
        logs no print: the prints are logged once, for the whole document (``_oms_log_wave_prints``)."""
        jobs = []
        if content != "labels":
            jobs.append(("oms_ecommerce.action_report_packing_slip", pickings.ids, None))
        if content != "slips":
            jobs.append(("oms_ecommerce.action_report_shipping_label", pickings.ids, None))
        return jobs

    @api.model
    def _oms_log_wave_prints(self, printed, content):
        if content != "slips":
            printed._oms_log_print("label_pdf")
        if content != "labels":
            printed._oms_log_print("packing_slip")

    @api.model
    def _oms_pdf(self, pages, reverse=False):
        """One PDF of ``pages`` (last page first when ``reverse``)."""
        writer = PdfWriter()
        for page in reversed(pages) if reverse else pages:
            writer.add_page(page)
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    def _oms_attach_wave_pdf(self, pdf, printed, skipped, user=None):
        """The wave's PDF attached to the wave, and its printer told."""
        self.ensure_one()
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "Wave %(wave)s - %(date)s.pdf", wave=self.name, date=fields.Date.context_today(self)
                ),
                "type": "binary",
                "raw": pdf,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )
        body = self.env._(
            "Wave document ready: %(count)s deliveries printed%(skipped)s.",
            count=len(printed),
            skipped=self.env._("; skipped: %(list)s", list=", ".join(f"{p.name} ({why})" for p, why in skipped.items()))
            if skipped
            else "",
        )
        self.message_post(
            body=body,
            attachment_ids=attachment.ids,
            partner_ids=(user or self.env.user).partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )
        return attachment
