import json

from odoo import api, fields, models
from odoo.exceptions import AccessError

# Written by the printing code only (after its access check), with the print log (stock_picking_printing.py).
PRINT_FIELDS = frozenset({"oms_label_printed_at", "oms_slip_printed_at", "oms_print_log_ids"})


class StockPicking(models.Model):
    """A channel order's delivery: its fields and the step hooks (an Inventory operation moves the order's steps).

    The packing service is in ``stock_picking_packing.py``, the labels, slips and print log in
    ``stock_picking_printing.py``, the outbound push in ``stock_picking_sync.py``."""

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
                self.env._(
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
