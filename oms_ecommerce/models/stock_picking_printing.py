import base64
import io

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.pdf import PdfReader

from ..tools.qr import qr_data_uri

PRINTED_FIELD = {
    "label_pdf": "oms_label_printed_at",
    "label_zpl": "oms_label_printed_at",
    "packing_slip": "oms_slip_printed_at",
}


class StockPicking(models.Model):
    """A delivery's shipping documents: whether its labels may print, the label and slip values, the print
    log, and the splitting of one rendered PDF into each delivery's pages (for waves)."""

    _inherit = "stock.picking"

    def _oms_label_problem(self):
        """Why this delivery gets no label (False: it gets one)."""
        self.ensure_one()
        try:
            self._oms_check_labels_printable()
        except UserError as error:
            return error.args[0].split("\n", 1)[-1].split(": ", 1)[-1]
        return False

    def _oms_check_labels_printable(self):
        """Labels only for weighed parcels whose weight passed the check (or a manager's override)."""
        problems = []
        for picking in self:
            parcels = picking._oms_parcels()
            if picking.state == "cancel":
                problems.append(self.env._("%(picking)s is cancelled.", picking=picking.name))
                continue
            if not parcels:
                problems.append(
                    self.env._("%(picking)s: nothing is packed yet; pack and weigh it first.", picking=picking.name)
                )
                continue
            unweighed = parcels.filtered(lambda p: p.shipping_weight <= 0)
            if unweighed:
                problems.append(
                    self.env._(
                        "%(picking)s: parcel %(packages)s has no weight; weigh it on the packing screen.",
                        picking=picking.name,
                        packages=", ".join(unweighed.mapped("name")),
                    )
                )
                continue
            for package in parcels - unweighed:
                if package.oms_picking_id == picking and package.oms_weight_override:
                    continue
                lines = [(ml, ml.quantity) for ml in picking.move_line_ids if ml.result_package_id == package]
                check = picking._oms_check_parcel(lines, package.package_type_id, package.shipping_weight)
                if not check["ok"]:
                    problems.append(
                        self.env._(
                            "%(picking)s: parcel %(package)s weighs %(weight).2f, expected %(expected).2f ± "
                            "%(allowed).2f%(missing)s; weigh it on the packing screen.",
                            picking=picking.name,
                            package=package.name,
                            weight=package.shipping_weight,
                            expected=check["expected"],
                            allowed=check["allowed"],
                            missing=self.env._(
                                " (no weight on %(products)s)",
                                products=", ".join(check["missing"].mapped("display_name")),
                            )
                            if check["missing"]
                            else "",
                        )
                    )
        if problems:
            raise UserError(self.env._("No shipping label printed:") + "\n" + "\n".join(problems))

    def _oms_label_values(self, images=True):
        """One dict per parcel with everything its shipping label shows, in picking order."""
        self._oms_check_labels_printable()
        uom = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()
        labels = []
        for row in self._oms_parcel_rows():
            if row["extra"]:
                continue  # a number without a parcel gets no label
            label = self._prepare_oms_label_values(row, uom)
            if images:
                label.update(self._oms_label_images(row["tracking"], row["tracking_url"]))
            labels.append(label)
        return labels

    def _prepare_oms_label_values(self, row, uom):
        """What the shipping label of one parcel (a row of ``_oms_parcel_rows``) shows, but its images."""
        picking, order = row["picking"], row["order"]
        partner = picking.partner_id
        carrier = picking.carrier_id
        warehouse_partner = picking.picking_type_id.warehouse_id.partner_id or picking.company_id.partner_id
        # The label reads in the customer's language (the template's t-lang), the amount in words too.
        lang = partner.lang or order.partner_id.lang or self.env.lang or "en_US"
        cod_words = ""
        if row["cod"]:
            cod_words = order.currency_id.with_context(lang=lang).amount_to_text(row["cod_amount"])
        return {
            "picking": picking,
            "package": row["package"],
            "order": order,
            "n": row["n"],
            "m": row["m"],
            "weight": row["weight"],
            "uom": uom,
            "ship_to": partner,
            "ship_to_name": partner.name or partner.commercial_partner_id.name or "",
            "ship_to_lines": [
                line for line in (partner._display_address(without_company=True) or "").split("\n") if line.strip()
            ],
            "phone": partner.phone or order.partner_id.phone or "",
            "return_name": warehouse_partner.name or "",
            "return_lines": [
                line
                for line in (warehouse_partner._display_address(without_company=True) or "").split("\n")
                if line.strip()
            ],
            "carrier": carrier.name or "",
            "service": order.oms_shipping_method or carrier.product_id.name or "",
            "reference": order.name or picking.origin or picking.name,
            "external_id": order.oms_external_id or "",
            "tracking": row["tracking"],
            "tracking_url": row["tracking_url"],
            "gift": bool(order.oms_gift_message),
            "cod": row["cod"],
            "cod_elsewhere": picking.with_context(lang=lang).env._(
                "Cash on delivery: collected with parcel 1 of %(picking)s", picking=row["cod_picking"].name
            )
            if row["cod_picking"] and not row["cod"]
            else "",
            "cod_amount": row["cod_amount"],
            "cod_currency": order.currency_id,
            "cod_words": cod_words,
            "reprint": bool(picking.oms_label_printed_at),
            "lang": lang,
        }

    def _oms_label_images(self, tracking, url):
        """The label's tracking barcode (Code 128) and QR code of the tracking page, as data URIs."""
        barcode = (
            self.env["ir.actions.report"].barcode("Code128", tracking, width=800, height=160, humanreadable=0, quiet=0)
            if tracking and tracking.isascii()
            else None
        )
        return {
            "barcode_src": "data:image/png;base64," + base64.b64encode(barcode).decode() if barcode else False,
            "qr_src": qr_data_uri(url) if url else False,
        }

    def _oms_slip_lines(self):
        """The packing slip's items: one per product and bin, with the sale price when there is one."""
        self.ensure_one()
        lines = []
        for move in self.move_ids.filtered(lambda m: m.state != "cancel" and m.product_id.type != "service"):
            sale_line = move.sale_line_id
            unit_price = sale_line.price_unit * (1.0 - (sale_line.discount or 0.0) / 100.0) if sale_line else 0.0
            parts = [(ml.location_id, ml.quantity) for ml in move.move_line_ids if ml.quantity] or [
                (move.location_id, move.product_uom_qty)
            ]
            for location, quantity in parts:
                lines.append(
                    {
                        "product": move.product_id,
                        "sku": move.product_id.default_code or "",
                        "barcode": move.product_id.barcode or "",
                        "quantity": quantity,
                        "uom": move.product_uom,
                        "bin": location.display_name,
                        "unit_price": unit_price,
                        "subtotal": unit_price * quantity,
                        "currency": sale_line.currency_id or self.company_id.currency_id,
                    }
                )
        return lines

    def _oms_check_print_access(self):
        """Shipping documents are the warehouse's: Inventory users print them (salespeople read deliveries)."""
        self.check_access("read")
        if not self.env.su and not self.env.user.has_group("stock.group_stock_user"):
            raise AccessError(self.env._("Only Inventory users print shipping labels and packing slips."))

    def _oms_log_print(self, document):
        """Remember who printed which document for these deliveries (one log per company); returns the
        reprinted ones. The log is written by the system: a packer reads it, nobody forges it."""
        self._oms_check_print_access()
        field = PRINTED_FIELD[document]
        reprinted = self.filtered(field)
        self.env["oms.print.log"].sudo().create(
            [
                {
                    "document": document,
                    "user_id": self.env.user.id,
                    "picking_ids": [fields.Command.set(pickings.ids)],
                    "reprint_count": len(pickings & reprinted),
                    "package_count": sum(len(p._oms_parcels()) for p in pickings) if document != "packing_slip" else 0,
                    "company_id": company.id,
                }
                for company, pickings in self.grouped("company_id").items()
            ]
        )
        self.sudo().write({field: fields.Datetime.now()})
        return reprinted

    def _oms_label_pages(self, pdf=None):
        """{delivery: its label pages}: one wkhtmltopdf run for all of ``self``, one page per parcel.

        :param pdf: the labels of ``self`` already rendered, in this order
        """
        if pdf is None:
            pdf, _type = self.env["ir.actions.report"]._render_qweb_pdf(
                "oms_ecommerce.action_report_shipping_label", self.ids
            )
        pages = list(PdfReader(io.BytesIO(pdf)).pages)
        result, index = {}, 0
        for picking in self:
            count = len(picking._oms_parcels())
            result[picking] = pages[index : index + count]
            index += count
        if index != len(pages):
            raise UserError(
                self.env._("The labels of %(count)s deliveries do not have one page per parcel.", count=len(self))
            )
        return result

    def _oms_slip_pages(self, pdf=None):
        """{delivery: its packing slip pages}: one wkhtmltopdf run; a long slip may take several pages.

        :param pdf: the packing slips of ``self`` already rendered, in this order
        """
        if pdf is None:
            pdf, _type = self.env["ir.actions.report"]._render_qweb_pdf(
                "oms_ecommerce.action_report_packing_slip", self.ids
            )
        pages = list(PdfReader(io.BytesIO(pdf)).pages)
        if len(pages) == len(self):  # one page per slip, the usual case: no need to read the pages
            return {picking: [page] for picking, page in zip(self, pages, strict=True)}
        # Each slip starts on a new page with its (invisible) marker; a long slip continues on the next pages.
        starts, index = [], 0
        for picking in self:
            marker = f"#OMS-SLIP:{picking.name}#"
            while index < len(pages) and marker not in "".join((pages[index].extract_text() or "").split()):
                index += 1
            if index == len(pages):
                raise UserError(
                    self.env._("The packing slip of %(picking)s is missing from its PDF.", picking=picking.name)
                )
            starts.append(index)
        result = {}
        for position, picking in enumerate(self):
            end = starts[position + 1] if position + 1 < len(starts) else len(pages)
            result[picking] = pages[starts[position] : end]
        return result

    def _oms_wave_pages(self, content, pdfs):
        """The pages of these deliveries in a wave document, delivery after delivery: its slip, then its labels.

        :param pdfs: an iterator of the rendered PDFs of ``stock.picking.batch._oms_chunk_reports(self, content)``
        """
        slip_pages = self._oms_slip_pages(next(pdfs)) if content != "labels" else {}
        label_pages = self._oms_label_pages(next(pdfs)) if content != "slips" else {}
        pages = []
        for picking in self:
            pages += slip_pages.get(picking, [])
            pages += label_pages.get(picking, [])
        return pages

    def action_oms_print_labels(self):
        self._oms_check_labels_printable()
        return self.env.ref("oms_ecommerce.action_report_shipping_label").report_action(self, config=False)

    def action_oms_print_slip(self):
        return self.env.ref("oms_ecommerce.action_report_packing_slip").report_action(self, config=False)

    def action_oms_view_prints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_print_log_action")
        action["name"] = self.env._("Prints of %(picking)s", picking=self.name)
        action["domain"] = [("picking_ids", "in", self.ids)]
        return action
