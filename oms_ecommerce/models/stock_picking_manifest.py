from odoo import fields, models
from odoo.exceptions import UserError

from ..tools.xlsx import download_action, xlsx_workbook
from .oms_manifest import KINDS


class StockPickingManifest(models.Model):
    _inherit = "stock.picking"

    oms_manifest_id = fields.Many2one(
        "oms.manifest",
        string="Manifest",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
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
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_handover_action")
        action["name"] = self.env._("Hand Over to the Courier")
        action["context"] = {
            "default_carrier_id": carriers[:1].id,
            "default_batch_ids": [fields.Command.set(self.ids)],
        }
        return action
