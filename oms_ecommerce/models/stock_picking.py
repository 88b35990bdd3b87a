import base64
import io
import json
from collections import defaultdict

import qrcode
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero, float_round
from odoo.tools.pdf import PdfReader

PRINTED_FIELD = {
    "label_pdf": "oms_label_printed_at",
    "label_zpl": "oms_label_printed_at",
    "packing_slip": "oms_slip_printed_at",
}
# Written by the printing code only (after its access check), with the print log.
PRINT_FIELDS = frozenset({"oms_label_printed_at", "oms_slip_printed_at", "oms_print_log_ids"})


def qr_data_uri(value, box_size=4):
    """A PNG QR code (the ``qrcode`` library) as a data URI for reports."""
    image = qrcode.make(value, box_size=box_size, border=1)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class StockPicking(models.Model):
    _inherit = "stock.picking"

    oms_channel_id = fields.Many2one(related="sale_id.oms_channel_id", string="Channel")
    oms_external_id = fields.Char(related="sale_id.oms_external_id", string="Channel Reference")
    oms_package_ids = fields.One2many("stock.package", "oms_picking_id", string="Parcels", readonly=True)
    oms_parcel_count = fields.Integer(string="Parcel Count", compute="_compute_oms_parcel_count")
    oms_label_printed_at = fields.Datetime(string="Label Printed", readonly=True, copy=False, groups="base.group_user")
    oms_slip_printed_at = fields.Datetime(string="Slip Printed", readonly=True, copy=False, groups="base.group_user")
    oms_print_log_ids = fields.Many2many(
        "oms.print.log",
        "oms_print_log_picking_rel",
        "picking_id",
        "log_id",
        string="Prints",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )

    @api.depends("move_line_ids.result_package_id")
    def _compute_oms_parcel_count(self):
        for picking in self:
            picking.oms_parcel_count = len(picking._oms_parcels())

    @api.depends(
        "carrier_id", "carrier_tracking_ref", "move_line_ids.result_package_id", "oms_package_ids.oms_tracking_ref"
    )
    def _compute_carrier_tracking_url(self):
        """Several parcel numbers: Odoo's multi-tracking form ([[number, url], …]), one link per parcel."""
        res = super()._compute_carrier_tracking_url()
        for picking in self.filtered("carrier_id"):
            numbers = [row for row in picking._oms_parcel_rows() if row["tracking"]]
            links = [[row["tracking"], row["tracking_url"]] for row in numbers if row["tracking_url"]]
            if len(numbers) > 1 and links:
                picking.carrier_tracking_url = json.dumps(links)
        return res

    # ------------------------------------------------------------------ steps

    def _oms_is_packed(self):
        """Every product line of this delivery is in a package."""
        self.ensure_one()
        lines = self.move_line_ids.filtered(lambda ml: ml.quantity)
        return bool(lines) and all(ml.result_package_id for ml in lines)

    def _oms_orders(self):
        """The channel orders of these deliveries, for the step bookkeeping that follows an Odoo operation
        the user was allowed to do (an Inventory user packs and ships without rights on the order desk)."""
        return self.sale_id.sudo().filtered("oms_channel_id")

    def _action_done(self):
        res = super()._action_done()
        orders = self._oms_orders()
        orders._oms_reach_steps()  # shipped, or returned for a return
        orders._oms_on_shipped()
        return res

    def write(self, vals):
        printed = PRINT_FIELDS.intersection(vals)
        if printed and not self.env.su:
            raise AccessError(
                _(
                    "%(fields)s of a delivery are written when its documents are printed, never by hand.",
                    fields=", ".join(self._fields[name].string for name in sorted(printed)),
                )
            )
        res = super().write(vals)
        if "batch_id" in vals:
            self._oms_orders()._oms_reach_steps()
        if vals.get("carrier_tracking_ref"):
            # The "shipped" email waits for the tracking number: it is known now.
            waiting = self._oms_orders().oms_step_ids.filtered(lambda s: s.notification == "waiting")
            waiting._oms_notify()
        return res

    # ---------------------------------------------------------------- packing

    def action_oms_pack(self):
        """Open the packing screen for this delivery (the first one still to pack of a selection)."""
        to_pack = self.filtered(lambda p: p.state not in ("done", "cancel") and not p._oms_is_packed())
        if not to_pack:
            raise UserError(_("Nothing to pack: these deliveries are packed, done or cancelled."))
        return self.env["oms.pack"]._action_open(to_pack)

    def _oms_parcels(self):
        """The packages the delivery's items are in (packing screen or Odoo's Put in Pack), in packing order."""
        self.ensure_one()
        return self.move_line_ids.filtered("quantity").result_package_id.sorted("id")

    def _oms_parcel_rows(self):
        """The parcels of these deliveries as every document shows them: the one place that decides.

        Labels (PDF and ZPL), packing slips, manifests (PDF and XLSX), the API status, the customer's
        emails and the portal all read these rows, so that they agree. One dict per parcel, deliveries
        in order and parcels in packing order (a delivery without packages is one parcel), then one per
        tracking number beyond the parcels (``extra``: listed, never dropped):

        - ``picking``, ``order``, ``package`` (empty without packages), ``n`` of ``m`` (``n`` 0 when extra);
        - ``weight``: the parcel's measured weight (without packages: the delivery's);
        - ``tracking``, ``tracking_url`` ("" when none), ``own`` (the parcel's own number): a parcel packed
          for this delivery keeps its own number; the others take, in order, the numbers of the delivery's
          tracking reference ("a,b", Odoo's convention) that no parcel owns;
        - ``cod`` (this parcel collects the cash on delivery), ``cod_amount`` (what it collects, else 0.0),
          ``cod_picking`` (the delivery whose parcel 1 collects; empty when the order is not COD): the
          courier collects ``order._oms_cod_amount()`` once, with parcel 1 of the order's first shipment,
          not with its backorders.
        """
        rows = []
        for picking in self:
            order = picking.sale_id
            carrier = picking.carrier_id
            parcels = picking._oms_parcels()
            # A number of an earlier use of a package is not this delivery's.
            own = {p: p.oms_tracking_ref for p in parcels if p.oms_picking_id == picking and p.oms_tracking_ref}
            listed = dict.fromkeys(n.strip() for n in (picking.carrier_tracking_ref or "").split(",") if n.strip())
            free = [number for number in listed if number not in own.values()]
            cod_picking = self.browse()
            if order.oms_payment_status == "cod":
                cod_picking = picking
                while cod_picking.backorder_id:
                    cod_picking = cod_picking.backorder_id
            cod_amount = order._oms_cod_amount() if cod_picking else 0.0
            count = len(parcels) or 1
            slots = []  # (n, package, number)
            for index, package in enumerate(parcels or [parcels], start=1):
                slots.append((index, package, own.get(package) or (free.pop(0) if free else "")))
            slots += [(0, parcels.browse(), number) for number in free]  # more numbers than parcels: listed too
            for index, package, number in slots:
                if not index:
                    weight = 0.0
                elif package:
                    weight = package.shipping_weight
                else:
                    weight = picking.shipping_weight or picking.weight
                collect = index == 1 and cod_picking == picking
                rows.append(
                    {
                        "picking": picking,
                        "order": order,
                        "package": package,
                        "n": index,
                        "m": count,
                        "extra": not index,
                        "weight": weight,
                        "tracking": number,
                        "tracking_url": (carrier._oms_tracking_url(number, picking) if carrier else False) or "",
                        "own": package in own,
                        "cod": collect,
                        "cod_amount": cod_amount if collect else 0.0,
                        "cod_picking": cod_picking,
                    }
                )
        return rows

    def _oms_weight_tolerance(self):
        self.ensure_one()
        channel = self.sale_id.sudo().oms_channel_id
        if channel:
            return channel.weight_tolerance_percent, channel.weight_tolerance_abs
        return self.company_id.oms_weight_tolerance_percent, self.company_id.oms_weight_tolerance_abs

    def _oms_check_parcel(self, lines, package_type, weight):
        """Compare a parcel's measured weight with its expected weight.

        :param lines: [(stock.move.line, quantity)] going into the parcel
        :return: dict(expected, allowed, deviation, missing (products without weight), ok)
        """
        self.ensure_one()
        expected = package_type.base_weight or 0.0
        missing = self.env["product.product"]
        for move_line, quantity in lines:
            product = move_line.product_id
            if float_is_zero(product.weight, precision_digits=6):
                missing |= product
                continue
            expected += move_line.product_uom_id._compute_quantity(quantity, product.uom_id) * product.weight
        percent, absolute = self._oms_weight_tolerance()
        allowed = max(expected * (percent or 0.0) / 100.0, absolute or 0.0)
        precision = self.env["decimal.precision"].precision_get("Stock Weight")
        deviation = float_round(weight - expected, precision_digits=precision)
        ok = not missing and float_compare(abs(deviation), allowed, precision_digits=precision) <= 0
        return {"expected": expected, "allowed": allowed, "deviation": deviation, "missing": missing, "ok": ok}

    def _oms_parcel_problem(self, index, count, weight, check):
        """The sentence that explains why a parcel needs a manager's override."""
        uom = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()
        if check["missing"]:
            return _(
                "Parcel %(n)s of %(m)s of %(picking)s: no weight on %(products)s, so its expected weight is "
                "unknown. Set the product weight (Inventory tab of the product) or ask a manager to override.",
                n=index,
                m=count,
                picking=self.name,
                products=", ".join(check["missing"].mapped("display_name")),
            )
        percent = 100.0 * check["deviation"] / check["expected"] if check["expected"] else 0.0
        return _(
            "Parcel %(n)s of %(m)s of %(picking)s weighs %(weight).2f %(uom)s, expected %(expected).2f %(uom)s "
            "± %(allowed).2f %(uom)s (%(percent)+.0f%%): check its contents and weigh it again, or ask a manager "
            "to override with a reason.",
            n=index,
            m=count,
            picking=self.name,
            weight=weight,
            expected=check["expected"],
            allowed=check["allowed"],
            percent=percent,
            uom=uom,
        )

    def _oms_validate_parcels(self, parcels):
        """Refuse what cannot be packed, with what is wrong and how to fix it."""
        self.ensure_one()
        if self.state in ("done", "cancel"):
            raise UserError(
                _("%(picking)s is %(state)s: it cannot be packed any more.", picking=self.name, state=self.state)
            )
        if not parcels:
            raise UserError(_("Add at least one parcel to pack %(picking)s.", picking=self.name))
        taken = defaultdict(float)
        numbers = []
        for index, parcel in enumerate(parcels, start=1):
            lines = [(ml, qty) for ml, qty in parcel["lines"] if qty > 0]
            if not lines:
                raise UserError(
                    _("Parcel %(n)s of %(picking)s is empty: put items in it or remove it.", n=index, picking=self.name)
                )
            if parcel.get("weight", 0.0) <= 0:
                raise UserError(
                    _("Weigh parcel %(n)s of %(picking)s: enter its measured weight.", n=index, picking=self.name)
                )
            for move_line, quantity in lines:
                if move_line.picking_id != self:
                    raise UserError(
                        _(
                            "%(product)s is not an item of %(picking)s.",
                            product=move_line.product_id.display_name,
                            picking=self.name,
                        )
                    )
                if move_line.result_package_id:
                    raise UserError(
                        _(
                            "%(product)s of %(picking)s is already in package %(package)s: unpack it first.",
                            product=move_line.product_id.display_name,
                            picking=self.name,
                            package=move_line.result_package_id.name,
                        )
                    )
                taken[move_line] += quantity
            if parcel.get("tracking_ref"):
                numbers.append(parcel["tracking_ref"].strip())
        for move_line, quantity in taken.items():
            if move_line.product_uom_id.compare(quantity, move_line.quantity) > 0:
                raise UserError(
                    _(
                        "%(qty)s %(uom)s of %(product)s packed in %(picking)s, but only %(todo)s to ship: "
                        "remove the extra items.",
                        qty=quantity,
                        uom=move_line.product_uom_id.name,
                        product=move_line.product_id.display_name,
                        picking=self.name,
                        todo=move_line.quantity,
                    )
                )
        repeated = {n for n in numbers if numbers.count(n) > 1}
        used = self.env["stock.package"]
        if numbers:
            used = used.sudo().search([("oms_tracking_ref", "in", numbers)])
            stale = used.filtered(lambda p: p.oms_picking_id == self and p not in self._oms_parcels())
            stale.write({"oms_tracking_ref": False})
            used -= stale
        if repeated or used:
            raise UserError(
                _(
                    "Tracking number %(numbers)s is already used by another parcel: every parcel, backorders "
                    "included, needs its own number.",
                    numbers=", ".join(sorted(repeated | set(used.mapped("oms_tracking_ref")))),
                )
            )

    def _oms_pack(self, parcels, override_reason=None):
        """Put items into parcels, weigh and track them: the work behind the packing screen.

        :param parcels: list of dicts ``{"lines": [(stock.move.line, quantity)], "package_type":
            stock.package.type, "weight": measured weight, "tracking_ref": str}``
        :param override_reason: a manager's reason to accept weights outside the tolerance
        :return: the new packages, in parcel order
        """
        self.ensure_one()
        self._oms_validate_parcels(parcels)
        PackageType = self.env["stock.package.type"]
        checks = [
            self._oms_check_parcel(p["lines"], p.get("package_type") or PackageType, p["weight"]) for p in parcels
        ]
        problems = [
            self._oms_parcel_problem(index, len(parcels), parcel["weight"], check)
            for index, (parcel, check) in enumerate(zip(parcels, checks, strict=True), start=1)
            if not check["ok"]
        ]
        if problems:
            if not (override_reason or "").strip():
                raise UserError("\n".join(problems))
            if not self.env.user.has_group("oms_ecommerce.group_oms_manager"):
                raise AccessError(
                    _("Only an OMS manager can accept a weight outside the tolerance.") + "\n" + "\n".join(problems)
                )
        packages = self.env["stock.package"]
        for parcel, check in zip(parcels, checks, strict=True):
            move_lines = self.env["stock.move.line"]
            for move_line, quantity in parcel["lines"]:
                if quantity > 0:
                    move_lines |= move_line._oms_take(quantity)
            package_type = parcel.get("package_type") or PackageType
            package = move_lines._put_in_pack(package_type_id=package_type.id)
            move_lines.picked = True
            package.sudo().write(
                {
                    "shipping_weight": parcel["weight"],
                    "oms_picking_id": self.id,
                    "oms_expected_weight": check["expected"],
                    "oms_tracking_ref": (parcel.get("tracking_ref") or "").strip() or False,
                    "oms_weight_override": False if check["ok"] else override_reason.strip(),
                }
            )
            packages |= package
        if problems:
            self.message_post(
                body=Markup("<p>%s</p><ul>%s</ul><p>%s</p>")
                % (
                    _("Weight outside the tolerance accepted by %(user)s.", user=self.env.user.name),
                    Markup("").join(Markup("<li>%s</li>") % problem for problem in problems),
                    _("Reason: %(reason)s", reason=override_reason.strip()),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return packages

    def _oms_sync_tracking(self):
        """The delivery's tracking reference lists its parcels' numbers (Odoo's "a,b,c" convention)."""
        for picking in self:
            numbers = [row["tracking"] for row in picking._oms_parcel_rows() if row["own"]]
            value = ",".join(numbers)
            if numbers and picking.carrier_tracking_ref != value:
                picking.carrier_tracking_ref = value

    # --------------------------------------------------------------- printing

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
                problems.append(_("%(picking)s is cancelled.", picking=picking.name))
                continue
            if not parcels:
                problems.append(_("%(picking)s: nothing is packed yet; pack and weigh it first.", picking=picking.name))
                continue
            unweighed = parcels.filtered(lambda p: p.shipping_weight <= 0)
            if unweighed:
                problems.append(
                    _(
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
                        _(
                            "%(picking)s: parcel %(package)s weighs %(weight).2f, expected %(expected).2f ± "
                            "%(allowed).2f%(missing)s; weigh it on the packing screen.",
                            picking=picking.name,
                            package=package.name,
                            weight=package.shipping_weight,
                            expected=check["expected"],
                            allowed=check["allowed"],
                            missing=_(
                                " (no weight on %(products)s)",
                                products=", ".join(check["missing"].mapped("display_name")),
                            )
                            if check["missing"]
                            else "",
                        )
                    )
        if problems:
            raise UserError(_("No shipping label printed:") + "\n" + "\n".join(problems))

    def _oms_label_values(self, images=True):
        """One dict per parcel with everything its shipping label shows, in picking order."""
        self._oms_check_labels_printable()
        uom = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()
        report = self.env["ir.actions.report"]
        labels = []
        for row in self._oms_parcel_rows():
            if row["extra"]:
                continue  # a number without a parcel gets no label
            picking, order = row["picking"], row["order"]
            partner = picking.partner_id
            carrier = picking.carrier_id
            warehouse_partner = picking.picking_type_id.warehouse_id.partner_id or picking.company_id.partner_id
            cod_words = ""
            if row["cod"]:
                lang = partner.lang or order.partner_id.lang or self.env.lang or "en_US"
                cod_words = order.currency_id.with_context(lang=lang).amount_to_text(row["cod_amount"])
            tracking, url = row["tracking"], row["tracking_url"]
            label = {
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
                "tracking": tracking,
                "tracking_url": url,
                "gift": bool(order.oms_gift_message),
                "cod": row["cod"],
                "cod_elsewhere": _(
                    "Cash on delivery: collected with parcel 1 of %(picking)s", picking=row["cod_picking"].name
                )
                if row["cod_picking"] and not row["cod"]
                else "",
                "cod_amount": row["cod_amount"],
                "cod_currency": order.currency_id,
                "cod_words": cod_words,
                "reprint": bool(picking.oms_label_printed_at),
            }
            if images:
                label["barcode_src"] = (
                    "data:image/png;base64,"
                    + base64.b64encode(
                        report.barcode("Code128", tracking, width=800, height=160, humanreadable=0, quiet=0)
                    ).decode()
                    if tracking and tracking.isascii()
                    else False
                )
                label["qr_src"] = qr_data_uri(url) if url else False
            labels.append(label)
        return labels

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
            raise AccessError(_("Only Inventory users print shipping labels and packing slips."))

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
            raise UserError(_("The labels of %(count)s deliveries do not have one page per parcel.", count=len(self)))
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
                raise UserError(_("The packing slip of %(picking)s is missing from its PDF.", picking=picking.name))
            starts.append(index)
        result = {}
        for position, picking in enumerate(self):
            end = starts[position + 1] if position + 1 < len(starts) else len(pages)
            result[picking] = pages[starts[position] : end]
        return result

    def action_oms_print_labels(self):
        self._oms_check_labels_printable()
        return self.env.ref("oms_ecommerce.action_report_shipping_label").report_action(self, config=False)

    def action_oms_print_slip(self):
        return self.env.ref("oms_ecommerce.action_report_packing_slip").report_action(self, config=False)

    def action_oms_view_prints(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Prints of %(picking)s", picking=self.name),
            "res_model": "oms.print.log",
            "view_mode": "list,form",
            "domain": [("picking_ids", "in", self.ids)],
        }


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        self.picking_id._oms_orders()._oms_reach_steps()  # reserved: processing
        return res


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    def _put_in_pack(self, package_id=False, package_type_id=False, package_name=False):
        package = super()._put_in_pack(
            package_id=package_id, package_type_id=package_type_id, package_name=package_name
        )
        self.picking_id._oms_orders()._oms_reach_steps()
        return package

    def _oms_take(self, quantity):
        """This line, or a new line split off it, holding exactly ``quantity`` (for one parcel)."""
        self.ensure_one()
        if self.product_uom_id.compare(quantity, self.quantity) >= 0:
            return self
        # Lower the reservation first, then reserve the split-off part again.
        self.quantity -= quantity
        return self.copy({"quantity": quantity, "move_id": self.move_id.id, "result_package_id": False})
