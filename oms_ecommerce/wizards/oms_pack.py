from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.actions import window_action


class OmsPack(models.TransientModel):
    _name = "oms.pack"
    _inherit = ["barcodes.barcode_events_mixin"]
    _description = "Pack and Weigh a Delivery"

    picking_id = fields.Many2one("stock.picking", string="Delivery", required=True, readonly=True)
    next_picking_ids = fields.Many2many(
        "stock.picking",
        string="Next Deliveries",
        readonly=True,
        help="Deliveries of the selection or wave still to pack.",
    )
    packed_picking_ids = fields.Many2many(
        "stock.picking",
        "oms_pack_packed_picking_rel",
        string="Packed Before",
        readonly=True,
        help="Deliveries of the selection or wave packed on the previous screens; their labels print at the end.",
    )
    company_id = fields.Many2one(related="picking_id.company_id")
    partner_id = fields.Many2one(related="picking_id.partner_id", string="Ship To")
    order_id = fields.Many2one(related="picking_id.sale_id", string="Order")
    carrier_id = fields.Many2one(related="picking_id.carrier_id")
    gift_message = fields.Text(related="picking_id.sale_id.oms_gift_message")
    item_ids = fields.One2many("oms.pack.item", "wizard_id", string="Items")
    parcel_ids = fields.One2many("oms.pack.parcel", "wizard_id", string="Parcels")
    current_parcel = fields.Integer(
        string="Scanning Into Parcel",
        default=1,
        help="Scanned items go into this parcel; scan a box to start a new one.",
    )
    scanning = fields.Boolean(help="Items are counted by scanning: the first scan starts every count from zero.")
    last_scan = fields.Char(readonly=True)
    weight_uom_name = fields.Char(compute="_compute_weight_uom_name")
    problem = fields.Text(compute="_compute_problem")
    override_reason = fields.Text(
        help="A manager accepts weights outside the tolerance (or unknown expected weights) with a reason; "
        "it is written to the delivery's chatter."
    )
    print_label = fields.Boolean(string="Print Labels", default=True, help="Print the labels once packed.")

    def _compute_weight_uom_name(self):
        self.weight_uom_name = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()

    @api.depends("parcel_ids.status", "parcel_ids.weight")
    def _compute_problem(self):
        for wizard in self:
            parcels = wizard.parcel_ids.sorted("sequence")
            problems = [
                wizard.picking_id._oms_parcel_problem(parcel.sequence, len(parcels), parcel.weight, parcel._check())
                for parcel in parcels
                if parcel.status in ("over", "under", "missing")
            ]
            wizard.problem = "\n".join(problems) or False

    # ------------------------------------------------------------------ open

    @api.model
    def _action_open(self, pickings, packed=None):
        """The packing screen of the first of ``pickings``; the others follow (``packed``: done before)."""
        picking = pickings[0]
        move_lines = picking.move_line_ids.filtered(lambda ml: ml.quantity > 0 and not ml.result_package_id)
        if not move_lines:
            raise UserError(
                self.env._(
                    "%(picking)s has no reserved items to pack: check its availability first.",
                    picking=picking.name,
                )
            )
        package_type = picking.sale_id.sudo().oms_channel_id.package_type_id or self.env["stock.package.type"].search(
            [("company_id", "in", (False, picking.company_id.id)), ("package_use", "=", "disposable")],
            order="sequence, id",
            limit=1,
        )
        wizard = self.create(
            {
                "picking_id": picking.id,
                "next_picking_ids": [fields.Command.set(pickings[1:].ids)],
                "packed_picking_ids": [fields.Command.set(packed.ids)] if packed else False,
                "item_ids": [
                    fields.Command.create({"move_line_id": ml.id, "quantity": ml.quantity, "parcel": 1})
                    for ml in move_lines
                ],
                "parcel_ids": [fields.Command.create({"sequence": 1, "package_type_id": package_type.id})],
            }
        )
        return wizard._reopen()

    def _reopen(self):
        self.ensure_one()
        return window_action(
            self,
            self.env._("Pack %(picking)s", picking=self.picking_id.name),
            target="new",
            context={"dialog_size": "extra-large"},
        )

    # ------------------------------------------------------------- scanning

    def on_barcode_scanned(self, barcode):
        self._scan(barcode)

    def _scan(self, barcode):
        """One scan: a product barcode adds one item to the current parcel, a box barcode starts a parcel."""
        barcode = (barcode or "").strip()
        if not barcode:
            return
        package_type = self.env["stock.package.type"].search(
            [("barcode", "=", barcode), ("company_id", "in", (False, self.company_id.id))], limit=1
        )
        if package_type:
            self._scan_package_type(package_type)
            return
        items = self.item_ids.filtered(lambda i: barcode in (i.product_id.barcode, i.product_id.default_code))
        if not items:
            self._scan_other(barcode)
            return
        if not self.scanning:
            # The first scan: count from zero instead of the prefilled "everything in one parcel".
            self.item_ids.quantity = 0.0
            self.scanning = True
        product = items.product_id[:1]
        move_lines = items.move_line_id

        def step(move_line):  # one scanned item, in the line's unit (a line in dozens counts 1/12)
            return product.uom_id._compute_quantity(1.0, move_line.product_uom_id, round=False)

        counted_by_line = defaultdict(float)
        for other in items:
            counted_by_line[other.move_line_id] += other.quantity
        # The first line of this product with room left for one more item.
        move_line = next(
            (ml for ml in move_lines if ml.product_uom_id.compare(counted_by_line[ml] + step(ml), ml.quantity) <= 0),
            None,
        )
        if move_line is None:
            todo = sum(ml.product_uom_id._compute_quantity(ml.quantity, product.uom_id) for ml in move_lines)
            counted = sum(ml.product_uom_id._compute_quantity(counted_by_line[ml], product.uom_id) for ml in move_lines)
            raise UserError(
                self.env._(
                    "%(product)s scanned once more than ordered: %(todo)s to pack in %(picking)s, %(counted)s "
                    "already scanned. Put the extra item back.",
                    product=product.display_name,
                    todo=todo,
                    picking=self.picking_id.name,
                    counted=counted,
                )
            )
        current = self.current_parcel or 1
        item = items.filtered(lambda i: i.parcel == current and i.move_line_id == move_line)[:1]
        item = item or items.filtered(lambda i: i.move_line_id == move_line and not i.quantity)[:1]
        if item:
            item.write({"parcel": current, "quantity": item.quantity + step(move_line)})
        else:
            self.item_ids = [
                fields.Command.create({"move_line_id": move_line.id, "parcel": current, "quantity": step(move_line)})
            ]
        self._ensure_parcel(current)
        self.last_scan = self.env._("%(product)s → parcel %(parcel)s", product=product.display_name, parcel=current)

    def _scan_other(self, barcode):
        """Not an item nor a box: the carrier's tracking barcode of the current parcel, if it has none yet."""
        current = self.current_parcel or 1
        parcel = self.parcel_ids.filtered(lambda p: p.sequence == current)[:1]
        known = self.env["product.product"].search_count([("barcode", "=", barcode)], limit=1) or self.env[
            "stock.lot"
        ].search_count([("name", "=", barcode), ("company_id", "in", (False, self.company_id.id))], limit=1)
        if known or not parcel or parcel.tracking_ref:
            raise UserError(
                self.env._(
                    "Barcode %(barcode)s is not an item of %(picking)s (nor a box, nor a tracking number for a "
                    "parcel without one): put it aside.",
                    barcode=barcode,
                    picking=self.picking_id.name,
                )
            )
        parcel.tracking_ref = barcode
        self.last_scan = self.env._("tracking number %(number)s → parcel %(parcel)s", number=barcode, parcel=current)

    def _scan_package_type(self, package_type):
        current = self.current_parcel or 1
        if self.item_ids.filtered(lambda i: i.parcel == current and i.quantity):
            current = max([*self.parcel_ids.mapped("sequence"), current]) + 1
            self.current_parcel = current
        self._ensure_parcel(current)
        self.parcel_ids.filtered(lambda p: p.sequence == current).package_type_id = package_type
        self.last_scan = self.env._("%(box)s → parcel %(parcel)s", box=package_type.name, parcel=current)

    def _ensure_parcel(self, number):
        if not self.parcel_ids.filtered(lambda p: p.sequence == number):
            last = self.parcel_ids.sorted("sequence")[-1:]
            self.parcel_ids = [fields.Command.create({"sequence": number, "package_type_id": last.package_type_id.id})]

    @api.onchange("item_ids")
    def _onchange_item_ids(self):
        """A parcel number typed on an item gets its own parcel line to weigh."""
        for number in sorted(set(self.item_ids.filtered("quantity").mapped("parcel"))):
            if number > 0:
                self._ensure_parcel(number)

    # -------------------------------------------------------------- buttons

    def action_new_parcel(self):
        self.ensure_one()
        self.current_parcel = max([*self.parcel_ids.mapped("sequence"), 0]) + 1
        self._ensure_parcel(self.current_parcel)
        return self._reopen()

    def _parcels(self):
        """The parcels as the packing service takes them."""
        self.ensure_one()
        numbers = set(self.item_ids.filtered(lambda i: i.quantity > 0).mapped("parcel"))
        rows = self.parcel_ids.sorted("sequence")
        missing = numbers - set(rows.mapped("sequence"))
        if missing:
            raise UserError(
                self.env._(
                    "Parcel %(numbers)s has items but no line to weigh it: add it under Parcels.",
                    numbers=", ".join(map(str, sorted(missing))),
                )
            )
        parcels = []
        for row in rows:
            items = self.item_ids.filtered(lambda i, row=row: i.parcel == row.sequence and i.quantity > 0)
            if not items and not row.weight and not row.tracking_ref:
                continue  # an unused parcel line
            parcels.append(
                {
                    "lines": [(item.move_line_id, item.quantity) for item in items],
                    "package_type": row.package_type_id,
                    "weight": row.weight,
                    "tracking_ref": row.tracking_ref,
                }
            )
        return parcels

    def action_confirm(self):
        self.ensure_one()
        self.picking_id._oms_pack(self._parcels(), override_reason=self.override_reason)
        packed = self.packed_picking_ids | self.picking_id
        following = self.next_picking_ids.filtered(
            lambda p: (
                p.state not in ("done", "cancel")
                and p.move_line_ids.filtered(lambda ml: ml.quantity > 0 and not ml.result_package_id)
            )
        )
        if following:
            action = self._action_open(following, packed=packed)
            self.browse(action["res_id"]).print_label = self.print_label
            return action
        if self.print_label:
            # The labels of every delivery packed in this run (a wave: all of them, in order, at the end).
            return self.env.ref("oms_ecommerce.action_report_shipping_label").report_action(packed, config=False)
        return {"type": "ir.actions.act_window_close"}


class OmsPackItem(models.TransientModel):
    _name = "oms.pack.item"
    _description = "Item to Pack"
    _order = "parcel, id"

    wizard_id = fields.Many2one("oms.pack", required=True, ondelete="cascade")
    move_line_id = fields.Many2one("stock.move.line", required=True, readonly=True)
    product_id = fields.Many2one(related="move_line_id.product_id")
    barcode = fields.Char(related="move_line_id.product_id.barcode")
    default_code = fields.Char(related="move_line_id.product_id.default_code", string="SKU")
    location_id = fields.Many2one(related="move_line_id.location_id", string="Bin")
    lot_id = fields.Many2one(related="move_line_id.lot_id")
    quantity_todo = fields.Float(related="move_line_id.quantity", string="To Pack")
    product_uom_id = fields.Many2one(related="move_line_id.product_uom_id")
    parcel = fields.Integer(default=1, required=True)
    quantity = fields.Float(digits="Product Unit")


class OmsPackParcel(models.TransientModel):
    _name = "oms.pack.parcel"
    _description = "Parcel to Weigh"
    _order = "sequence, id"

    wizard_id = fields.Many2one("oms.pack", required=True, ondelete="cascade")
    sequence = fields.Integer(string="Parcel", required=True, default=1)
    package_type_id = fields.Many2one("stock.package.type", string="Box")
    weight = fields.Float(string="Measured Weight", digits="Stock Weight")
    expected_weight = fields.Float(compute="_compute_check", digits="Stock Weight")
    deviation = fields.Float(compute="_compute_check", digits="Stock Weight")
    status = fields.Selection(
        [
            ("empty", "Empty"),
            ("to_weigh", "To weigh"),
            ("ok", "Within tolerance"),
            ("over", "Too heavy"),
            ("under", "Too light"),
            ("missing", "Product weight missing"),
        ],
        compute="_compute_check",
    )
    tracking_ref = fields.Char(string="Tracking Number")

    def _lines(self):
        return [
            (item.move_line_id, item.quantity)
            for item in self.wizard_id.item_ids
            if item.parcel == self.sequence and item.quantity > 0
        ]

    def _check(self):
        self.ensure_one()
        return self.wizard_id.picking_id._oms_check_parcel(self._lines(), self.package_type_id, self.weight)

    @api.depends("weight", "package_type_id", "sequence", "wizard_id.item_ids.quantity", "wizard_id.item_ids.parcel")
    def _compute_check(self):
        for parcel in self:
            lines = parcel._lines()
            check = parcel._check()
            parcel.expected_weight = check["expected"]
            parcel.deviation = check["deviation"] if parcel.weight else 0.0
            if not lines:
                parcel.status = "empty"
            elif check["missing"]:
                parcel.status = "missing"
            elif not parcel.weight:
                parcel.status = "to_weigh"
            elif check["ok"]:
                parcel.status = "ok"
            else:
                parcel.status = "over" if check["deviation"] > 0 else "under"
