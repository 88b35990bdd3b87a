from odoo import models


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def _oms_reconcile_payouts(self, payouts):
        """Reconcile the statement lines of ``self`` that bring the money of ``payouts``.

        A statement line matches a posted payout when its label or reference holds the payout's reference (or
        name) and its amount is the payout's net. Odoo 19 Community has no bank reconciliation widget (it is in
        Enterprise); this does what Odoo's own tests do instead (``AccountTestInvoicingCommon``
        ``pay_with_statement_line``): the statement line's suspense line moves to the clearing account and is
        reconciled with the payout's clearing line. ``action_undo_reconciliation`` undoes it as usual.
        Returns the statement lines reconciled.
        """
        done = self.browse()
        open_payouts = payouts.filtered(lambda p: p.clearing_line_id and not p.clearing_line_id.reconciled)
        for st_line in self.filtered(lambda st: not st.is_reconciled):
            label = " ".join(filter(None, [st_line.payment_ref, st_line.move_id.ref])).lower()
            for payout in open_payouts:
                clearing = payout.clearing_line_id
                if clearing.reconciled:
                    continue
                if not any(key and key.lower() in label for key in (payout.reference, payout.name)):
                    continue
                if st_line.foreign_currency_id:
                    amount, currency = st_line.amount_currency, st_line.foreign_currency_id
                else:
                    amount, currency = st_line.amount, st_line.currency_id
                if currency != clearing.currency_id or currency.compare_amounts(
                    amount, clearing.amount_residual_currency
                ):
                    continue
                _liquidity, suspense, _other = st_line.with_context(
                    skip_account_move_synchronization=True
                )._seek_for_lines()
                if len(suspense) != 1:
                    continue
                suspense.with_context(skip_account_move_synchronization=True).write(
                    {"account_id": clearing.account_id.id, "partner_id": clearing.partner_id.id}
                )
                (suspense + clearing).reconcile()
                payout.message_post(
                    body=self.env._(
                        "Reconciled with bank statement line %(line)s.", line=st_line.payment_ref or st_line.id
                    )
                )
                done |= st_line
                break
        return done
