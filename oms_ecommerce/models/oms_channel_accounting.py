from odoo import api, fields, models
from odoo.exceptions import ValidationError


class OmsChannel(models.Model):
    """Accounting settings of a sales channel: when its orders are invoiced, where their payments
    land, and how its payouts are booked (see README, "Accounting")."""

    _inherit = "oms.channel"

    invoice_policy = fields.Selection(
        [
            ("confirmed", "When the order is confirmed"),
            ("shipped", "When the order is shipped"),
            ("never", "Never: the marketplace invoices the customer"),
        ],
        string="Invoicing",
        default="confirmed",
        required=True,
        tracking=True,
        help="When the invoicing cron invoices this channel's orders. Orders of a channel that never invoices are "
        "booked as revenue when their payout is posted.",
    )
    payment_journal_id = fields.Many2one(
        "account.journal",
        string="Payment Journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        tracking=True,
        help="Journal of the payments of orders the channel says are paid. The payment clears the invoice; the "
        "channel's payout later clears the payment's outstanding line.",
    )
    payout_partner_id = fields.Many2one(
        "res.partner",
        string="Payout Partner",
        check_company=True,
        help="The marketplace or payment provider that sends the payouts of this channel.",
    )
    payout_journal_id = fields.Many2one(
        "account.journal",
        string="Payout Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Miscellaneous journal of the payout entries (default: the company's first miscellaneous journal).",
    )
    fee_account_id = fields.Many2one(
        "account.account",
        string="Fee Account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Expense account of the fees the channel keeps from its payouts.",
    )
    clearing_account_id = fields.Many2one(
        "account.account",
        string="Clearing Account",
        check_company=True,
        domain="[('reconcile', '=', True), ('account_type', '=', 'asset_current')]",
        help="Reconcilable current asset account where the net of a payout waits until the money reaches the bank.",
    )
    payout_income_account_id = fields.Many2one(
        "account.account",
        string="Marketplace Revenue Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="For a channel that never invoices: the gross of its paid-out orders is revenue on this account "
        "(default: the company's income account).",
    )

    @api.constrains("clearing_account_id")
    def _check_clearing_account(self):
        for channel in self:
            if channel.clearing_account_id and not channel.clearing_account_id.reconcile:
                raise ValidationError(
                    self.env._(
                        "The clearing account %(account)s of channel %(channel)s must allow reconciliation.",
                        account=channel.clearing_account_id.display_name,
                        channel=channel.name,
                    )
                )
