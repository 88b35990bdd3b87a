from odoo import fields, models


class AccountMove(models.Model):
    """A credit note prepared for a refund made on a channel (Shopify, WooCommerce) knows that refund: the same
    refund never gets a second credit note, also under concurrent webhook deliveries."""

    _inherit = "account.move"

    oms_platform_refund_id = fields.Char(
        string="Channel Refund ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The channel's id of the refund this credit note was prepared for.",
    )
    oms_refund_channel_id = fields.Many2one(
        "oms.channel",
        string="Refund Channel",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The channel on which the refund of this credit note was made.",
        check_company=True,
    )

    _oms_platform_refund_uniq = models.Constraint(
        "UNIQUE (oms_refund_channel_id, oms_platform_refund_id)",
        "This channel refund already has a credit note.",
    )

    def button_cancel(self):
        """A channel's cancellation of its order cancels the order's draft invoices (Odoo's ``_action_cancel``),
        but not the draft credit note of a refund the platform already paid back: the money left, the accountant
        still has to credit it."""
        if self.env.context.get("oms_keep_platform_refunds"):
            self = self.filtered(lambda move: not (move.move_type == "out_refund" and move.oms_platform_refund_id))
        return super().button_cancel()
