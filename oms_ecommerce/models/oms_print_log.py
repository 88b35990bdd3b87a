from odoo import api, fields, models


class OmsPrintLog(models.Model):
    _name = "oms.print.log"
    _check_company_auto = True
    _description = "Print of Shipping Documents"
    _order = "printed_at desc, id desc"
    _rec_name = "document"

    document = fields.Selection(
        [
            ("label_pdf", "Shipping labels (PDF)"),
            ("label_zpl", "Shipping labels (ZPL)"),
            ("packing_slip", "Packing slips"),
        ],
        required=True,
        readonly=True,
    )
    printed_at = fields.Datetime(string="Printed On", default=fields.Datetime.now, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Printed By", default=lambda self: self.env.user, required=True, readonly=True
    )
    picking_ids = fields.Many2many(
        "stock.picking",
        "oms_print_log_picking_rel",
        "log_id",
        "picking_id",
        string="Deliveries",
        readonly=True,
        check_company=True,
    )
    picking_count = fields.Integer(string="Delivery Count", compute="_compute_picking_count", store=True)
    package_count = fields.Integer(string="Parcels", readonly=True)
    reprint_count = fields.Integer(
        string="Reprinted", readonly=True, help="How many of these deliveries had this document printed before."
    )
    reprint = fields.Boolean(compute="_compute_picking_count", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True, index=True
    )

    @api.depends("picking_ids", "reprint_count")
    def _compute_picking_count(self):
        for log in self:
            log.picking_count = len(log.picking_ids)
            log.reprint = bool(log.reprint_count)
