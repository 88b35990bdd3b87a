from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.xlsx import download_action, xlsx_workbook

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


class StockPickingManifest(models.Model):
    _inherit = "stock.picking"

    oms_manifest_id = fields.Many2one(
        "oms.manifest", string="Manifest", readonly=True, copy=False, index="btree_not_null"
    )
    oms_handed_over_at = fields.Datetime(related="oms_manifest_id.date", string="Handed Over", store=True)

    def _oms_manifest_columns(self):
        """(title, kind) of the manifest columns: a row per parcel."""
        titles = [
            self.env._("Delivery"),
            self.env._("Order"),
            self.env._("Channel Ref."),
            self.env._("Customer"),
            self.env._("Destination"),
            self.env._("Parcel"),
            self.env._("Tracking Number"),
            self.env._("Weight"),
            self.env._("COD Amount"),
            self.env._("Currency"),
        ]
        return list(zip(titles, KINDS, strict=True))

    def _oms_manifest_rows(self, parcels=None):
        """One row per parcel (columns above) from the deliveries' parcel rows (``_oms_parcel_rows``), the COD
        amount on the parcel that collects it; a tracking number beyond the parcels has a row without parcel."""
        parcels = self._oms_parcel_rows() if parcels is None else parcels
        rows = []
        for parcel in parcels:
            picking, order = parcel["picking"], parcel["order"]
            partner = picking.partner_id
            rows.append(
                [
                    picking.name,
                    order.name or picking.origin or "",
                    order.oms_external_id or "",
                    partner.name or "",
                    ", ".join(filter(None, [partner.zip, partner.city, partner.country_id.code])),
                    "" if parcel["extra"] else f"{parcel['n']}/{parcel['m']}",
                    parcel["tracking"],
                    parcel["weight"],
                    parcel["cod_amount"],
                    order.currency_id.name if parcel["cod"] else "",
                ]
            )
        return rows

    def _oms_manifest_totals(self, parcels=None):
        parcels = self._oms_parcel_rows() if parcels is None else parcels
        return {
            "deliveries": len(self),
            "parcels": len([parcel for parcel in parcels if not parcel["extra"]]),
            "weight": sum(parcel["weight"] for parcel in parcels),
            "cod": sum(parcel["cod_amount"] for parcel in parcels),
        }

    def _oms_xlsx(self, title):
        """The manifest columns of these deliveries as an XLSX workbook (bytes), totals in the last row."""
        parcels = self._oms_parcel_rows()
        totals = self._oms_manifest_totals(parcels)
        return xlsx_workbook(
            title,
            self._oms_manifest_columns(),
            self._oms_manifest_rows(parcels),
            totals={5: totals["parcels"], 7: totals["weight"], 8: totals["cod"]},
            total_label=self.env._("Total"),
        )

    def _oms_export_xlsx(self, title):
        if not self:
            raise UserError(self.env._("Select the deliveries to export."))
        return download_action(self.env, f"{title}.xlsx", self._oms_xlsx(title))

    def action_oms_export_xlsx(self):
        return self._oms_export_xlsx(self.env._("Deliveries"))


class StockPickingBatchManifest(models.Model):
    _inherit = "stock.picking.batch"

    def action_oms_export_xlsx(self):
        return self._oms_deliveries()._oms_export_xlsx(
            self.env._("Waves %(names)s", names=", ".join(self.mapped("name")))[:60]
        )

    def action_oms_hand_over(self):
        deliveries = self._oms_deliveries()
        carriers = deliveries.carrier_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Hand Over to the Courier"),
            "res_model": "oms.handover",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_carrier_id": carriers[:1].id,
                "default_batch_ids": [fields.Command.set(self.ids)],
            },
        }


class OmsHandover(models.TransientModel):
    _name = "oms.handover"
    _description = "Hand Over Parcels to a Courier"

    carrier_id = fields.Many2one("delivery.carrier", required=True)
    batch_ids = fields.Many2many(
        "stock.picking.batch", string="Waves", help="Only these waves' deliveries (empty: all)."
    )
    picking_ids = fields.Many2many(
        "stock.picking",
        string="Deliveries",
        compute="_compute_picking_ids",
        store=True,
        readonly=False,
        help="Shipped deliveries of the carrier not handed over yet.",
    )

    def _candidate_domain(self):
        self.ensure_one()
        domain = [
            ("picking_type_code", "=", "outgoing"),
            ("state", "=", "done"),
            ("carrier_id", "=", self.carrier_id.id),
            ("oms_manifest_id", "=", False),
            ("company_id", "in", self.env.companies.ids),
        ]
        if self.batch_ids:
            domain.append(("batch_id", "in", self.batch_ids.ids))
        return domain

    @api.depends("carrier_id", "batch_ids")
    def _compute_picking_ids(self):
        for wizard in self:
            wizard.picking_ids = (
                self.env["stock.picking"].search(wizard._candidate_domain(), order="id") if wizard.carrier_id else False
            )

    def action_hand_over(self):
        self.ensure_one()
        # Only what the carrier may take: its shipped deliveries not handed over yet (whatever was added by hand).
        pickings = self.picking_ids.filtered_domain(self._candidate_domain())
        if not pickings:
            raise UserError(
                self.env._(
                    "No shipped delivery of %(carrier)s is waiting to be handed over.", carrier=self.carrier_id.name
                )
            )
        manifests = self.env["oms.manifest"]
        for company, company_pickings in pickings.grouped("company_id").items():
            manifest = manifests.create({"carrier_id": self.carrier_id.id, "company_id": company.id})
            company_pickings.write({"oms_manifest_id": manifest.id})
            manifests |= manifest
        return {
            "type": "ir.actions.act_window",
            "res_model": "oms.manifest",
            "view_mode": "form" if len(manifests) == 1 else "list,form",
            "res_id": manifests[:1].id,
            "domain": [("id", "in", manifests.ids)],
        }
