from odoo import api, models

from .shipping_label import zpl


class ReportRmaLabel(models.AbstractModel):
    _name = "report.oms_ecommerce.report_rma_label"
    _description = "Return Label (PDF)"

    _images = True

    @api.model
    def _get_report_values(self, docids, data=None):
        rmas = self.env["rma"].browse(docids)
        rmas.check_access("read")
        return {
            "doc_ids": docids,
            "doc_model": "rma",
            "docs": rmas,
            "labels": rmas._oms_label_values(images=self._images),
            "zpl": zpl,
        }


class ReportRmaLabelZpl(models.AbstractModel):
    _name = "report.oms_ecommerce.report_rma_label_zpl"
    _inherit = "report.oms_ecommerce.report_rma_label"
    _description = "Return Label (ZPL)"

    _images = False
