from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Written by the packing service after its checks (as the system), never by hand.
PACKING_FIELDS = {"oms_picking_id", "oms_expected_weight", "oms_weight_override"}


class StockPackage(models.Model):
    _inherit = "stock.package"

    oms_picking_id = fields.Many2one(
        "stock.picking",
        string="Packed For",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="The delivery this parcel was packed and weighed for.",
        check_company=True,
    )
    oms_tracking_ref = fields.Char(
        string="Tracking Number", copy=False, help="The carrier's tracking number of this parcel."
    )
    oms_tracking_url = fields.Char(string="Tracking Link", compute="_compute_oms_tracking_url")
    oms_expected_weight = fields.Float(
        string="Expected Weight",
        digits="Stock Weight",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="Products' weights times quantities, plus the empty weight of the package type, when it was packed.",
    )
    oms_weight_override = fields.Text(
        string="Weight Override",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="Why a manager accepted a measured weight outside the tolerance.",
    )

    _oms_tracking_ref_uniq = models.Constraint(
        "UNIQUE (oms_tracking_ref)",
        "This tracking number is already used by another parcel: every parcel (backorders included) needs its own.",
    )

    @api.depends("oms_tracking_ref", "oms_picking_id.carrier_id")
    def _compute_oms_tracking_url(self):
        for package in self:
            carrier = package.oms_picking_id.carrier_id
            package.oms_tracking_url = (
                carrier._oms_tracking_url(package.oms_tracking_ref, package.oms_picking_id)
                if carrier and package.oms_tracking_ref
                else False
            )

    @api.constrains("oms_tracking_ref")
    def _check_oms_tracking_ref(self):
        for package in self.filtered("oms_tracking_ref"):
            if package.oms_tracking_ref != package.oms_tracking_ref.strip() or "," in package.oms_tracking_ref:
                raise ValidationError(
                    self.env._(
                        "Tracking number “%(number)s” of parcel %(package)s has spaces around it or a comma: "
                        "enter one number per parcel.",
                        number=package.oms_tracking_ref,
                        package=package.name,
                    )
                )

    def write(self, vals):
        guarded = PACKING_FIELDS.intersection(vals)
        if guarded and not (self.env.su or self.env.user.has_group("oms_ecommerce.group_oms_manager")):
            raise AccessError(
                self.env._(
                    "%(fields)s of a parcel are set by the packing screen only: pack the delivery again "
                    "(or ask an OMS manager).",
                    fields=", ".join(self._fields[name].string for name in sorted(guarded)),
                )
            )
        res = super().write(vals)
        if "oms_tracking_ref" in vals:
            self.oms_picking_id._oms_sync_tracking()
        return res
