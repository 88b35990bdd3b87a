from odoo import api, models

from ..tools.qr import qr_data_uri


class ReportPackingSlip(models.AbstractModel):
    _name = "report.oms_ecommerce.report_packing_slip"
    _description = "Packing Slip"

    @api.model
    def _get_report_values(self, docids, data=None):
        pickings = self.env["stock.picking"].browse(docids)
        pickings._oms_check_print_access()
        reprinted = pickings.filtered("oms_slip_printed_at")
        if (data or {}).get("report_type") in ("pdf", "text") and self.env.context.get("oms_print_log", True):
            pickings._oms_log_print("packing_slip")
        parcels = {}
        for row in pickings._oms_parcel_rows():
            parcels.setdefault(row["picking"].id, []).append(row)
        uom = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()
        slips = {}
        for picking in pickings:
            order = picking.sale_id
            portal_url = order.get_base_url() + order.get_portal_url() if order else False
            rows = parcels[picking.id]
            slips[picking.id] = {
                "order": order,
                "gift": bool(order.oms_gift_message),
                "lines": picking._oms_slip_lines(),
                "portal_url": portal_url,
                "qr_src": qr_data_uri(portal_url) if portal_url else False,
                "channel": order.sudo().oms_channel_id.name or "",
                "return_instructions": order.sudo().oms_channel_id.return_instructions
                or picking.company_id.oms_return_instructions,
                "reprint": picking in reprinted,
                # Packed or tracked: the parcels as their labels and the manifest show them.
                "parcels": rows if any(row["package"] or row["tracking"] for row in rows) else [],
                "uom": uom,
                "cod": next((row for row in rows if row["cod"]), None),
                "cod_picking": rows[0]["cod_picking"],
            }
        return {
            "doc_ids": docids,
            "doc_model": "stock.picking",
            "docs": pickings,
            "slips": slips,
        }
