from odoo import api, models


class ReportManifest(models.AbstractModel):
    _name = "report.oms_ecommerce.report_manifest"
    _description = "Courier Manifest"

    @api.model
    def _get_report_values(self, docids, data=None):
        manifests = self.env["oms.manifest"].browse(docids)
        tables = {}
        for manifest in manifests:
            pickings = manifest.picking_ids
            parcels = pickings._oms_parcel_rows()
            tables[manifest.id] = {
                "rows": pickings._oms_manifest_rows(parcels),
                "totals": pickings._oms_manifest_totals(parcels),
            }
        return {
            "doc_ids": docids,
            "doc_model": "oms.manifest",
            "docs": manifests,
            "columns": self.env["stock.picking"]._oms_manifest_columns(),
            "tables": tables,
        }
