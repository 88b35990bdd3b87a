from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.actions import window_action


class OmsHandover(models.TransientModel):
    _name = "oms.handover"
    _description = "Hand Over Parcels to a Courier"

    carrier_id = fields.Many2one("delivery.carrier", required=True)
    batch_ids = fields.Many2many(
        "stock.picking.batch", string="Waves", help="Only these waves' deliveries (empty: all)."
    )
    picking_ids = fields.Many2many(
        "stock.picking",
        string="Deliveries",
        compute="_compute_picking_ids",
        store=True,
        readonly=False,
        help="Shipped deliveries of the carrier not handed over yet.",
    )

    def _candidate_domain(self):
        self.ensure_one()
        domain = [
            ("picking_type_code", "=", "outgoing"),
            ("state", "=", "done"),
            ("carrier_id", "=", self.carrier_id.id),
            ("oms_manifest_id", "=", False),
            ("company_id", "in", self.env.companies.ids),
        ]
        if self.batch_ids:
            domain.append(("batch_id", "in", self.batch_ids.ids))
        return domain

    @api.depends("carrier_id", "batch_ids")
    def _compute_picking_ids(self):
        for wizard in self:
            wizard.picking_ids = (
                self.env["stock.picking"].search(wizard._candidate_domain(), order="id") if wizard.carrier_id else False
            )

    def action_hand_over(self):
        self.ensure_one()
        # Only what the carrier may take: its shipped deliveries not handed over yet (whatever was added by hand).
        pickings = self.picking_ids.filtered_domain(self._candidate_domain())
        if not pickings:
            raise UserError(
                self.env._(
                    "No shipped delivery of %(carrier)s is waiting to be handed over.", carrier=self.carrier_id.name
                )
            )
        manifests = self.env["oms.manifest"]
        for company, company_pickings in pickings.grouped("company_id").items():
            manifest = manifests.create({"carrier_id": self.carrier_id.id, "company_id": company.id})
            company_pickings.write({"oms_manifest_id": manifest.id})
            manifests |= manifest
        return window_action(manifests)
