from odoo import api, fields, models
from odoo.exceptions import ValidationError


class DeliveryCarrier(models.Model):
    """A courier that collects cash on delivery remits it with a payout of kind "cod"."""

    _inherit = "delivery.carrier"

    oms_cod_partner_id = fields.Many2one(
        "res.partner",
        string="COD Remitter",
        help="The courier company that remits the cash it collects.",
        check_company=True,
    )
    oms_fee_account_id = fields.Many2one(
        "account.account",
        string="COD Fee Account",
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Expense account of the fee the courier keeps from its COD remittances.",
        check_company=True,
    )
    oms_clearing_account_id = fields.Many2one(
        "account.account",
        string="COD Clearing Account",
        domain="[('reconcile', '=', True), ('account_type', '=', 'asset_current')]",
        help="Reconcilable account where a COD remittance waits until the money reaches the bank.",
        check_company=True,
    )

    @api.constrains("oms_clearing_account_id")
    def _check_oms_clearing_account(self):
        for carrier in self:
            if carrier.oms_clearing_account_id and not carrier.oms_clearing_account_id.reconcile:
                raise ValidationError(
                    self.env._(
                        "The COD clearing account of %(carrier)s must allow reconciliation.", carrier=carrier.name
                    )
                )
