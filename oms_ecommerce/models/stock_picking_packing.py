from collections import defaultdict

from markupsafe import Markup

from odoo import models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero, float_round


class StockPicking(models.Model):
    """The packing service of a delivery: parcels, their weight checks and the packing itself (the packing
    screen, ``wizards/oms_pack.py``, calls it)."""

    _inherit = "stock.picking"

    def action_oms_pack(self):
        """Open the packing screen for this delivery (the first one still to pack of a selection)."""
        to_pack = self.filtered(lambda p: p.state not in ("done", "cancel") and not p._oms_is_packed())
        if not to_pack:
            raise UserError(self.env._("Nothing to pack: these deliveries are packed, done or cancelled."))
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
        return [row for picking in self for row in picking._oms_picking_parcel_rows()]

    def _oms_picking_parcel_rows(self):
        """The rows of ``_oms_parcel_rows`` for one delivery."""
        self.ensure_one()
        picking = self
        order = picking.sale_id
        carrier = picking.carrier_id
        parcels = picking._oms_parcels()
        # A number of an earlier use of a package is not this delivery's.
        own = {p: p.oms_tracking_ref for p in parcels if p.oms_picking_id == picking and p.oms_tracking_ref}
        listed = dict.fromkeys(n.strip() for n in (picking.carrier_tracking_ref or "").split(",") if n.strip())
        free = [number for number in listed if number not in own.values()]
        cod_picking = picking._oms_cod_picking()
        cod_amount = order._oms_cod_amount() if cod_picking else 0.0
        count = len(parcels) or 1
        slots = []  # (n, package, number)
        for index, package in enumerate(parcels or [parcels], start=1):
            slots.append((index, package, own.get(package) or (free.pop(0) if free else "")))
        slots += [(0, parcels.browse(), number) for number in free]  # more numbers than parcels: listed too
        rows = []
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

    def _oms_cod_picking(self):
        """The delivery whose parcel 1 collects the order's cash on delivery: the order's first shipment, of
        which this delivery may be a backorder; empty when the order is not COD."""
        self.ensure_one()
        if self.sale_id.oms_payment_status != "cod":
            return self.browse()
        cod_picking = self
        while cod_picking.backorder_id:
            cod_picking = cod_picking.backorder_id
        return cod_picking

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
            return self.env._(
                "Parcel %(n)s of %(m)s of %(picking)s: no weight on %(products)s, so its expected weight is "
                "unknown. Set the product weight (Inventory tab of the product) or ask a manager to override.",
                n=index,
                m=count,
                picking=self.name,
                products=", ".join(check["missing"].mapped("display_name")),
            )
        percent = 100.0 * check["deviation"] / check["expected"] if check["expected"] else 0.0
        return self.env._(
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
                self.env._(
                    "%(picking)s is %(state)s: it cannot be packed any more.", picking=self.name, state=self.state
                )
            )
        if not parcels:
            raise UserError(self.env._("Add at least one parcel to pack %(picking)s.", picking=self.name))
        taken, numbers = self._oms_check_parcel_contents(parcels)
        self._oms_check_packed_quantities(taken)
        self._oms_check_tracking_numbers(numbers)

    def _oms_check_parcel_contents(self, parcels):
        """Each parcel holds items of this delivery not packed yet, and is weighed.

        :return: ({move line: quantity packed}, [the tracking numbers typed in])
        """
        taken = defaultdict(float)
        numbers = []
        for index, parcel in enumerate(parcels, start=1):
            lines = [(ml, qty) for ml, qty in parcel["lines"] if qty > 0]
            if not lines:
                raise UserError(
                    self.env._(
                        "Parcel %(n)s of %(picking)s is empty: put items in it or remove it.",
                        n=index,
                        picking=self.name,
                    )
                )
            if parcel.get("weight", 0.0) <= 0:
                raise UserError(
                    self.env._(
                        "Weigh parcel %(n)s of %(picking)s: enter its measured weight.", n=index, picking=self.name
                    )
                )
            for move_line, quantity in lines:
                if move_line.picking_id != self:
                    raise UserError(
                        self.env._(
                            "%(product)s is not an item of %(picking)s.",
                            product=move_line.product_id.display_name,
                            picking=self.name,
                        )
                    )
                if move_line.result_package_id:
                    raise UserError(
                        self.env._(
                            "%(product)s of %(picking)s is already in package %(package)s: unpack it first.",
                            product=move_line.product_id.display_name,
                            picking=self.name,
                            package=move_line.result_package_id.name,
                        )
                    )
                taken[move_line] += quantity
            if parcel.get("tracking_ref"):
                numbers.append(parcel["tracking_ref"].strip())
        return taken, numbers

    def _oms_check_packed_quantities(self, taken):
        """No more of an item is packed than the delivery ships."""
        for move_line, quantity in taken.items():
            if move_line.product_uom_id.compare(quantity, move_line.quantity) > 0:
                raise UserError(
                    self.env._(
                        "%(qty)s %(uom)s of %(product)s packed in %(picking)s, but only %(todo)s to ship: "
                        "remove the extra items.",
                        qty=quantity,
                        uom=move_line.product_uom_id.name,
                        product=move_line.product_id.display_name,
                        picking=self.name,
                        todo=move_line.quantity,
                    )
                )

    def _oms_check_tracking_numbers(self, numbers):
        """Every parcel has its own tracking number; a number this delivery's parcels no longer use is freed."""
        repeated = {n for n in numbers if numbers.count(n) > 1}
        used = self.env["stock.package"]
        if numbers:
            used = used.sudo().search([("oms_tracking_ref", "in", numbers)])
            stale = used.filtered(lambda p: p.oms_picking_id == self and p not in self._oms_parcels())
            stale.write({"oms_tracking_ref": False})
            used -= stale
        if repeated or used:
            raise UserError(
                self.env._(
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
                    self.env._("Only an OMS manager can accept a weight outside the tolerance.")
                    + "\n"
                    + "\n".join(problems)
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
                    self.env._("Weight outside the tolerance accepted by %(user)s.", user=self.env.user.name),
                    Markup("").join(Markup("<li>%s</li>") % problem for problem in problems),
                    self.env._("Reason: %(reason)s", reason=override_reason.strip()),
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
