import re

from markupsafe import Markup

from odoo import api, models

ZPL_UNSAFE = re.compile(r"[\^~\\\r\n]")


def zpl(value):
    """A value for a ZPL ^FD field: the command characters (^ ~ \\) and line breaks taken out.

    ZPL is not HTML: the result is marked safe so that QWeb does not turn “&” into “&amp;”.
    """
    return Markup(ZPL_UNSAFE.sub(" ", str(value or "")).strip())


class ReportShippingLabel(models.AbstractModel):
    _name = "report.oms_ecommerce.report_shipping_label"
    _description = "Shipping Label (PDF)"

    _document = "label_pdf"

    @api.model
    def _get_report_values(self, docids, data=None):
        pickings = self.env["stock.picking"].browse(docids)
        pickings._oms_check_print_access()
        labels = pickings._oms_label_values(images=self._document == "label_pdf")
        if (data or {}).get("report_type") in ("pdf", "text") and self.env.context.get("oms_print_log", True):
            pickings._oms_log_print(self._document)
        labels_by_picking = {}
        for label in labels:
            labels_by_picking.setdefault(label["picking"].id, []).append(label)
        return {
            "doc_ids": docids,
            "doc_model": "stock.picking",
            "docs": pickings,
            "labels": labels,
            "labels_by_picking": labels_by_picking,
            "zpl": zpl,
        }


class ReportShippingLabelZpl(models.AbstractModel):
    _name = "report.oms_ecommerce.report_shipping_label_zpl"
    _inherit = "report.oms_ecommerce.report_shipping_label"
    _description = "Shipping Label (ZPL)"

    _document = "label_zpl"
