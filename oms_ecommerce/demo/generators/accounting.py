from datetime import timedelta

from odoo import fields


class AccountingDemo:
    def _demo_account(self, code, name, account_type, reconcile=False):
        Account = self.env["account.account"]
        account = Account.search([("code", "=", code), ("company_ids", "in", self.env.company.id)], limit=1)
        return account or Account.create(
            {"code": code, "name": name, "account_type": account_type, "reconcile": reconcile}
        )

    # Longer than ~60 lines on purpose: demo data told as one story, step after step (not production code).
    def _generate_accounting(self):
        """Channels set up for accounting, their orders invoiced and paid by policy, one payout posted and one
        draft with a line to look at, one COD remittance in draft."""
        if not self.env.company.chart_template:
            return  # no chart of accounts in this database: nothing to book
        ref = self.env.ref
        clearing = self._demo_account("101901", "Marketplace Clearing", "asset_current", reconcile=True)
        cod_clearing = self._demo_account("101902", "COD Clearing", "asset_current", reconcile=True)
        fees = self._demo_account("623101", "Channel and Courier Fees", "expense")
        Journal = self.env["account.journal"]
        payments = Journal.search([("code", "=", "CHPAY"), ("company_id", "=", self.env.company.id)], limit=1)
        payments = payments or Journal.create({"name": "Channel Payments", "code": "CHPAY", "type": "bank"})
        marketplace_partner = self.env["res.partner"].create({"name": "Marketplace Payments Ltd", "is_company": True})
        courier_partner = self.env["res.partner"].create({"name": "Express Courier Inc.", "is_company": True})
        for xmlid, policy in (
            ("oms_ecommerce.channel_shop_us", "confirmed"),
            ("oms_ecommerce.channel_shop_eu", "shipped"),
            ("oms_ecommerce.channel_marketplace", "confirmed"),
        ):
            ref(xmlid).write(
                {
                    "invoice_policy": policy,
                    "payment_journal_id": payments.id,
                    "payout_partner_id": marketplace_partner.id,
                    "fee_account_id": fees.id,
                    "clearing_account_id": clearing.id,
                }
            )
        self.env["delivery.carrier"].search([("company_id", "in", (False, self.env.company.id))]).write(
            {
                "oms_cod_partner_id": courier_partner.id,
                "oms_fee_account_id": fees.id,
                "oms_clearing_account_id": cod_clearing.id,
            }
        )
        # What the scheduled action does every 30 minutes, without its commits.
        SaleOrder = self.env["sale.order"]
        SaleOrder.search(SaleOrder._oms_invoice_due_domain(), order="id")._oms_invoice()
        SaleOrder.search(SaleOrder._oms_payment_due_domain(), order="id")._oms_register_payment()
        SaleOrder.search(SaleOrder._oms_refund_due_domain(), order="id")._oms_refund()

        # The marketplace paid out its paid orders (2.5 % fee) - one posted, the next one waits in draft
        # with an order the marketplace reports but Odoo does not know.
        marketplace = ref("oms_ecommerce.channel_marketplace")
        paid = SaleOrder.search([("oms_channel_id", "=", marketplace.id), ("oms_payment_id", "!=", False)], order="id")
        Payout = self.env["oms.payout"]

        def lines(orders):
            result = []
            for order in orders:
                gross = order.oms_payment_id.amount
                fee = round(gross * 0.025, 2)
                result.append(
                    (0, 0, {"external_id": order.oms_external_id, "gross": gross, "fee": fee, "net": gross - fee})
                )
            return result

        if paid:
            posted = Payout.create(
                {
                    "reference": "MKT-PAYOUT-0001",
                    "date": fields.Date.today() - timedelta(days=1),
                    "channel_id": marketplace.id,
                    "line_ids": lines(paid[: len(paid) // 2 or 1]),
                }
            )
            posted.action_match()
            posted.action_post()
            draft = Payout.create(
                {
                    "reference": "MKT-PAYOUT-0002",
                    "date": fields.Date.today(),
                    "channel_id": marketplace.id,
                    "line_ids": [
                        *lines(paid[len(paid) // 2 or 1 :]),
                        (0, 0, {"external_id": "MARKETPLACE-9999", "gross": 25.0, "fee": 0.63, "net": 24.37}),
                    ],
                }
            )
            draft.action_match()
        # The courier's cash-on-delivery remittance for the COD orders it delivered.
        cod = SaleOrder.search(
            [("oms_payment_status", "=", "cod"), ("oms_step", "in", ("shipped", "delivered"))], order="id"
        )
        carrier = cod.carrier_id[:1]
        if carrier:
            remittance = Payout.create(
                {
                    "kind": "cod",
                    "reference": "COD-REMIT-0001",
                    "carrier_id": carrier.id,
                    "line_ids": [
                        (
                            0,
                            0,
                            {
                                "external_id": o.oms_external_id,
                                "gross": o.amount_total,
                                "fee": 1.5,
                                "net": o.amount_total - 1.5,
                            },
                        )
                        for o in cod.filtered(lambda o: o.carrier_id == carrier)
                    ],
                }
            )
            remittance.action_match()
