from odoo import api, fields, models


class OmsWavePrintWizard(models.TransientModel):
    _name = "oms.wave.print.wizard"
    _description = "Print a Wave"

    batch_id = fields.Many2one("stock.picking.batch", string="Wave", required=True)
    content = fields.Selection(
        [("all", "Pick list, slips and labels"), ("labels", "Labels only"), ("slips", "Slips only")],
        default="all",
        required=True,
    )
    reverse = fields.Boolean(string="Reverse Order", help="Last page first, for printers that stack pages face up.")
    reprint = fields.Boolean(help="Also print the deliveries whose label (or slip) was printed before.")
    delivery_count = fields.Integer(compute="_compute_counts")
    skipped_count = fields.Integer(compute="_compute_counts")
    background = fields.Boolean(compute="_compute_counts")

    @api.depends("batch_id", "content", "reprint")
    def _compute_counts(self):
        for wizard in self:
            selected, skipped = wizard.batch_id._oms_wave_selection(wizard.content, wizard.reprint)
            wizard.delivery_count = len(selected)
            wizard.skipped_count = len(skipped)
            wizard.background = len(selected) > wizard.batch_id._oms_background_threshold()

    def action_print(self):
        self.ensure_one()
        wave = self.batch_id
        if self.background:
            job, created = self.env["oms.wave.print"]._request(wave, self.content, self.reverse, self.reprint)
            message = (
                self.env._(
                    "The document of wave %(wave)s is being built; you get a notification when it is ready.",
                    wave=wave.name,
                )
                if created
                else self.env._(
                    "Wave %(wave)s is already being printed by %(user)s (%(progress)s%%): its document will be "
                    "attached to the wave.",
                    wave=wave.name,
                    user=job.user_id.name,
                    progress=job.progress,
                )
                if job
                else self.env._(
                    "Wave %(wave)s is already being printed: its document will be attached to the wave.", wave=wave.name
                )
            )
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "message": message,
                    "type": "info",
                    "sticky": False,
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        pdf, printed, skipped = wave._oms_wave_pdf(content=self.content, reverse=self.reverse, reprint=self.reprint)
        attachment = wave._oms_attach_wave_pdf(pdf, printed, skipped)
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}
