from odoo import api, fields, models

# Kinds of the manifest columns (see _oms_manifest_columns), in the PDF and in every XLSX export.
KINDS = ["text", "text", "text", "text", "text", "text", "text", "number", "money", "text"]


class OmsManifest(models.Model):
    _name = "oms.manifest"
    _check_company_auto = True
    _description = "Courier Manifest"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char(required=True, readonly=True, copy=False, default=lambda self: self.env._("New"))
    carrier_id = fields.Many2one("delivery.carrier", required=True, readonly=True, check_company=True)
    date = fields.Datetime(string="Handed Over", required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Handed Over By", readonly=True, default=lambda self: self.env.user)
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    picking_ids = fields.One2many("stock.picking", "oms_manifest_id", string="Deliveries", readonly=True)
    delivery_count = fields.Integer(string="Delivery Count", compute="_compute_totals")
    parcel_count = fields.Integer(string="Parcels", compute="_compute_totals")
    total_weight = fields.Float(string="Weight", digits="Stock Weight", compute="_compute_totals")
    cod_total = fields.Float(string="COD to Collect", compute="_compute_totals")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("oms.manifest") or self.env._("New")
        return super().create(vals_list)

    @api.depends("picking_ids")
    def _compute_totals(self):
        for manifest in self:
            totals = manifest.picking_ids._oms_manifest_totals()
            manifest.delivery_count = totals["deliveries"]
            manifest.parcel_count = totals["parcels"]
            manifest.total_weight = totals["weight"]
            manifest.cod_total = totals["cod"]

    def action_print(self):
        return self.env.ref("oms_ecommerce.action_report_manifest").report_action(self, config=False)

    def action_export_xlsx(self):
        self.ensure_one()
        return self.picking_ids._oms_export_xlsx(self.env._("Manifest %(name)s", name=self.name))
