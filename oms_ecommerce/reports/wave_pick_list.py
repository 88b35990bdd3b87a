from collections import defaultdict

from odoo import api, models


class ReportWavePickList(models.AbstractModel):
    _name = "report.oms_ecommerce.report_wave_pick_list"
    _description = "Wave Pick List"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        waves = self.env["stock.picking.batch"].browse(docids)
        Picking = self.env["stock.picking"]
        skipped = {int(key): why for key, why in (data.get("skipped") or {}).items()}
        lists = {}
        for wave in waves:
            pickings = Picking.browse(data["picking_ids"]) if data.get("picking_ids") else wave._oms_deliveries()
            rows = defaultdict(lambda: {"quantity": 0.0, "pickings": []})
            for move_line in pickings.move_line_ids.filtered("quantity"):
                row = rows[(move_line.location_id, move_line.product_id, move_line.product_uom_id)]
                row["quantity"] += move_line.quantity
                if move_line.picking_id.name not in row["pickings"]:
                    row["pickings"].append(move_line.picking_id.name)
            lines = [
                {"location": location, "product": product, "uom": uom, **values}
                for (location, product, uom), values in rows.items()
            ]
            lines.sort(
                key=lambda line: (
                    line["location"].complete_name or "",
                    line["product"].default_code or "",
                    line["product"].display_name,
                )
            )
            lists[wave.id] = {
                "lines": lines,
                "pickings": pickings,
                "skipped": [(Picking.browse(picking_id), why) for picking_id, why in skipped.items()],
            }
        return {"doc_ids": docids, "doc_model": "stock.picking.batch", "docs": waves, "lists": lists}
