# Longer than ~950 lines on purpose: the accounting domain's scenarios (invoicing policies, payments, payout import, matching and posting, COD, margins, reports) share one accounting set-up.
import base64
import io
from datetime import datetime, time, timedelta
from unittest.mock import patch

import openpyxl
import psycopg2

from odoo import fields
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import AccessError, LockError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..wizards import oms_payout_import
from .common import OmsAccountingCommon, OmsCommon, in_chain_order, order_payload

# 2 mugs at 12.50 + 1 tea at 8.00 - 10 % + shipping 4.99, untaxed (the test products have no taxes)
TOTAL = 37.19


@tagged("post_install", "-at_install")
class TestAccounting(OmsCommon, OmsAccountingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.mug | cls.tea | cls.carrier.product_id).write({"taxes_id": [fields.Command.clear()]})
        Account = cls.env["account.account"]
        cls.fee_account = Account.create({"name": "Channel fees", "code": "OMS601", "account_type": "expense"})
        cls.clearing = Account.create(
            {"name": "Channel clearing", "code": "OMS102", "account_type": "asset_current", "reconcile": True}
        )
        cls.cod_clearing = Account.create(
            {"name": "COD clearing", "code": "OMS103", "account_type": "asset_current", "reconcile": True}
        )
        cls.pay_journal = cls.env["account.journal"].create(
            {"name": "Test Shop Payments", "code": "TSPAY", "type": "bank", "company_id": cls.company.id}
        )
        cls.bank = cls.company_data["default_journal_bank"]
        cls.misc = cls.company_data["default_journal_misc"]
        cls.marketplace = cls.env["res.partner"].create({"name": "Marketplace Inc"})
        cls.courier = cls.env["res.partner"].create({"name": "OMS Post Ltd"})
        cls.channel.write(
            {
                "invoice_policy": "confirmed",
                "payment_journal_id": cls.pay_journal.id,
                "payout_partner_id": cls.marketplace.id,
                "payout_journal_id": cls.misc.id,
                "fee_account_id": cls.fee_account.id,
                "clearing_account_id": cls.clearing.id,
            }
        )
        cls.carrier.write(
            {
                "oms_cod_partner_id": cls.courier.id,
                "oms_fee_account_id": cls.fee_account.id,
                "oms_clearing_account_id": cls.cod_clearing.id,
            }
        )
        cls.accountant = cls.env["res.users"].create(
            {
                "name": "OMS Accountant",
                "login": "oms_accountant",
                "email": "acc@example.com",
                "group_ids": [
                    fields.Command.set(
                        [
                            cls.env.ref("oms_ecommerce.group_oms_user").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )

    # ------------------------------------------------------------------
    def order(self, ext, status="paid", amount=TOTAL, confirm=True, channel=None, **overrides):
        payment = {"status": status, "method": "card", "amount": amount, "reference": f"ch_{ext}"}
        [(code, body)] = self.receive(order_payload(ext, payment=payment, **overrides), channel=channel)
        self.assertEqual(code, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        if confirm and order.state != "sale":
            order.action_confirm()
        return order

    def run_cron(self):
        """The scheduled action enqueues the due batches; queue_job's runner performs them."""
        with trap_jobs() as trap:
            count = self.env["sale.order"]._cron_oms_accounting()
            trap.perform_enqueued_jobs()
        return count

    def invoice(self, order):
        return order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")

    def payout(self, lines, reference="PO-1", kind="channel", **vals):
        return self.env["oms.payout"].create(
            {
                "reference": reference,
                "kind": kind,
                "channel_id": self.channel.id if kind == "channel" else False,
                "carrier_id": self.carrier.id if kind == "cod" else False,
                "line_ids": [
                    fields.Command.create(
                        {"external_id": ext, "gross": gross, "fee": fee, "refund": refund, "net": net}
                    )
                    for ext, gross, fee, refund, net in lines
                ],
                **vals,
            }
        )

    def balance(self, account, move):
        return sum(move.line_ids.filtered(lambda line: line.account_id == account).mapped("balance"))

    # ------------------------------------------------------------------
    # 1. Invoices and payments by channel policy
    # ------------------------------------------------------------------
    def test_confirmed_policy_paid_order_invoiced_and_paid(self):
        order = self.order("A1")
        self.assertFalse(order.invoice_ids, "nothing is invoiced in the request")
        self.run_cron()
        invoice = self.invoice(order)
        self.assertEqual(len(invoice), 1)
        self.assertRecordValues(invoice, [{"amount_total": TOTAL, "payment_state": "paid", "amount_residual": 0.0}])
        payment = order.oms_payment_id
        self.assertRecordValues(
            payment, [{"amount": TOTAL, "memo": "ch_A1", "journal_id": self.pay_journal.id, "state": "paid"}]
        )
        self.assertIn(invoice, payment.reconciled_invoice_ids)
        # Asked to pay it again (a stale list of a run): nothing happens, and it is no error.
        order._oms_register_payment()
        self.assertFalse(order.oms_accounting_error)
        # A second run does nothing more
        self.run_cron()
        self.assertEqual(len(order.invoice_ids), 1)
        self.assertEqual(self.env["account.payment"].search_count([("memo", "=", "ch_A1")]), 1)

    def test_partial_payment_leaves_invoice_open(self):
        order = self.order("A2", amount=30.0)
        self.run_cron()
        invoice = self.invoice(order)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 7.19, places=2)

    def test_paid_order_without_an_amount_pays_the_invoice(self):
        # API.md makes payment.amount optional: "paid" without an amount means the invoice was collected.
        [(code, body)] = self.receive(
            order_payload("A3", payment={"status": "paid", "method": "card", "reference": "ch_A3"})
        )
        self.assertEqual(code, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        order.action_confirm()
        self.run_cron()
        self.assertRecordValues(self.invoice(order), [{"payment_state": "paid", "amount_residual": 0.0}])
        self.assertEqual(order.oms_payment_id.amount, TOTAL)

    def test_cod_and_pending_orders_stay_open(self):
        cod = self.order("C1", status="cod")
        pending = self.order("P1", status="pending")
        self.run_cron()
        for order in cod | pending:
            self.assertRecordValues(self.invoice(order), [{"payment_state": "not_paid", "amount_residual": TOTAL}])
            self.assertFalse(order.oms_payment_id)

    def test_shipped_policy_waits_for_the_delivery(self):
        self._put_in_stock()
        self.channel.invoice_policy = "shipped"
        order = self.order("S1", status="cod")
        self.run_cron()
        self.assertFalse(order.invoice_ids)
        self.ship(order.picking_ids)
        self.run_cron()
        self.assertEqual(self.invoice(order).amount_total, TOTAL)

    def test_nothing_matched_nothing_posted(self):
        payout = self.payout([("NOPE-1", 10.0, 1.0, 0.0, 9.0)])
        payout.action_match()
        with self.assertRaisesRegex(UserError, "has no matched line to post"):
            payout.with_user(self.accountant).action_post()
        self.assertRecordValues(payout, [{"state": "draft", "move_id": False}])
        header_only = self._import(b"order_id,gross,fee,net\n", reference="IMP-EMPTY")
        with self.assertRaises(UserError):
            header_only.action_preview()
        self.assertFalse(self.env["oms.payout"].search([("reference", "=", "IMP-EMPTY")]))

    def test_never_policy_makes_no_invoice(self):
        # A channel that invoices on confirmation, invoiced in the same run: the cron did run.
        other = self.channel.copy({"name": "Control Shop", "code": "control-shop", "secret": "s3cret-control"})
        control = self.order("N0", channel=other)
        self.channel.invoice_policy = "never"
        order = self.order("N1")
        self.run_cron()
        self.assertFalse(order.invoice_ids)
        self.assertFalse(order.oms_payment_id)
        self.assertEqual(control.invoice_ids.payment_state, "paid")

    def test_failed_invoice_does_not_block_the_others(self):
        good, bad = self.order("F1"), self.order("F2")
        create_invoices = type(self.env["sale.order"])._create_invoices

        def failing(orders, *args, **kwargs):
            if bad in orders:
                raise UserError(orders.env._("Boom: no income account"))
            return create_invoices(orders, *args, **kwargs)

        with patch.object(type(self.env["sale.order"]), "_create_invoices", failing):
            self.run_cron()
        self.assertEqual(self.invoice(good).payment_state, "paid")
        self.assertFalse(bad.invoice_ids)
        self.assertIn("Boom: no income account", bad.oms_accounting_error)
        self.assertTrue(bad.activity_ids.filtered(lambda a: "Invoicing" in (a.summary or "")))
        # Skipped until retried; the retry invoices it
        self.run_cron()
        self.assertFalse(bad.invoice_ids)
        bad.action_oms_retry_accounting()
        self.assertFalse(bad.oms_accounting_error)
        self.assertEqual(self.invoice(bad).payment_state, "paid")

    def test_cron_enqueues_one_job_per_batch(self):
        orders = self.order("B1") | self.order("B2") | self.order("B3")
        with trap_jobs() as trap:
            count = self.env["sale.order"]._cron_oms_accounting(batch_size=2)
            # the demo database may hold other channel orders due: batches of at most 2, every due order in one
            jobs = trap.enqueued_jobs
            self.assertEqual(len(jobs), count)
            self.assertTrue(all(0 < len(job.recordset) <= 2 for job in jobs))
            invoicing = [job for job in jobs if job.args == ("_oms_invoice",)]
            self.assertEqual(sum((job.recordset for job in invoicing), self.env["sale.order"]) & orders, orders)
            # Asked again while they wait: the same jobs (identity keys), nothing enqueued twice.
            self.env["sale.order"]._cron_oms_accounting(batch_size=2)
            trap.assert_jobs_count(count)
            self.assertFalse(any(self.invoice(o) for o in orders), "nothing is done before the jobs run")
            trap.perform_enqueued_jobs()
        self.assertTrue(all(self.invoice(o).payment_state == "paid" for o in orders))
        # A job run twice (a worker killed after its commit): its orders are no longer due, nothing is done twice.
        self.assertEqual(invoicing[0].perform(), 0)
        self.assertEqual(len(orders.invoice_ids), 3)

    def test_cancelled_paid_order_gets_credit_note(self):
        order = self.order("R1")
        self.run_cron()
        invoice = self.invoice(order)
        order._oms_cancel_from_channel()
        self.run_cron()
        refund = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertRecordValues(
            refund,
            [{"state": "posted", "amount_total": TOTAL, "reversed_entry_id": invoice.id, "amount_residual": TOTAL}],
        )
        self.run_cron()
        self.assertEqual(len(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)

    def test_cancelled_unpaid_order_credit_note_reconciled(self):
        order = self.order("R2", status="cod")
        self.run_cron()
        order._oms_cancel_from_channel()
        self.run_cron()
        refund = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.amount_residual, 0.0)
        self.assertEqual(self.invoice(order).payment_state, "reversed")

    def return_goods(self, order, quantities=None):
        """Ship the order, then receive back ``quantities`` ({product: qty}; everything by default)."""
        picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({"picking_id": picking.id})
        )
        for line in wizard.product_return_moves:
            line.quantity = (quantities or {}).get(line.product_id, 0.0) if quantities else line.move_id.quantity
        action = wizard.action_create_returns()
        self.ship(self.env["stock.picking"].browse(action["res_id"]))
        self.assertEqual(order.oms_step, "returned")

    def refunds(self, order):
        return order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")

    def test_returned_order_gets_credit_note(self):
        # Invoiced on ordered quantities: the credit note lowers the invoiced quantity, which must not make the
        # order "to invoice" again on the next run (a new invoice and credit note every run).
        self._put_in_stock()
        order = self.order("R3")
        self.ship(order.picking_ids)
        self.run_cron()
        self.return_goods(order)
        self.run_cron()
        self.run_cron()
        self.assertEqual(len(self.invoice(order)), 1)
        refund = self.refunds(order)
        # the goods (2 mugs, 1 tea at -10 %), not the shipping
        self.assertRecordValues(refund, [{"state": "posted", "amount_total": 32.2}])
        self.assertFalse(order.oms_accounting_error)

    def test_returned_order_delivered_quantities_credited_once(self):
        (self.mug | self.tea).invoice_policy = "delivery"
        self._put_in_stock()
        order = self.order("R4", status="cod")
        self.ship(order.picking_ids)
        self.run_cron()
        self.assertEqual(self.invoice(order).amount_total, TOTAL)
        self.return_goods(order)
        self.run_cron()
        self.run_cron()
        self.assertFalse(order.oms_accounting_error)
        self.assertEqual(len(self.invoice(order)), 1)
        self.assertRecordValues(self.refunds(order), [{"amount_total": 32.2, "amount_residual": 0.0}])
        # the unpaid invoice is reconciled with the credit note: the shipping is what stays open
        self.assertAlmostEqual(self.invoice(order).amount_residual, 4.99, places=2)

    def test_partial_return_credits_the_returned_quantities(self):
        self._put_in_stock()
        order = self.order("R5")
        self.ship(order.picking_ids)
        self.run_cron()
        self.return_goods(order, {self.mug: 1})
        self.run_cron()
        self.run_cron()
        refund = self.refunds(order)
        self.assertRecordValues(refund, [{"amount_total": 12.5, "amount_residual": 12.5}])
        self.assertEqual(refund.invoice_line_ids.product_id, self.mug)
        self.assertEqual(len(self.invoice(order)), 1)
        # a second return gets its own credit note
        self.return_goods(order, {self.tea: 1})
        self.run_cron()
        self.assertEqual(sorted(self.refunds(order).mapped("amount_total")), [7.2, 12.5])

    # ------------------------------------------------------------------
    # 2. Payouts
    # ------------------------------------------------------------------
    def test_payout_with_fees_and_refund_reconciles_several_invoices(self):
        paid = self.order("P10")
        pending = self.order("P11", status="pending")
        cancelled = self.order("P12")
        self.run_cron()
        cancelled._oms_cancel_from_channel()
        self.run_cron()
        payout = self.payout(
            [
                ("P10", TOTAL, 3.72, 0.0, 33.47),
                ("P11", TOTAL, 3.72, 0.0, 33.47),
                ("P12", TOTAL, 0.0, TOTAL, 0.0),
            ]
        )
        payout.action_match()
        self.assertEqual(payout.line_ids.mapped("match_state"), ["matched"] * 3)
        payout.with_user(self.accountant).action_post()
        move = payout.move_id
        self.assertEqual(move.state, "posted")
        self.assertEqual(payout.action_view_move()["res_id"], move.id)
        self.assertIn(payout.reference, move.ref)
        self.assertEqual(
            set(move.line_ids.filtered(lambda line: line.account_id == self.clearing).partner_id.ids),
            {self.marketplace.id},
        )
        self.assertAlmostEqual(self.balance(self.fee_account, move), 7.44, places=2)
        self.assertAlmostEqual(self.balance(self.clearing, move), 66.94, places=2)
        self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, places=2)
        # the unpaid invoice is paid by the payout; the paid ones' payment lines and the credit note are cleared
        self.assertRecordValues(self.invoice(pending), [{"payment_state": "paid", "amount_residual": 0.0}])
        for order in paid | cancelled:
            line = order.oms_payment_id.move_id.line_ids.filtered(
                lambda aml, order=order: aml.account_id == order.oms_payment_id.outstanding_account_id
            )
            self.assertTrue(line.reconciled)
            self.assertEqual(line.amount_residual, 0.0)
        refund = cancelled.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.amount_residual, 0.0)
        self.assertTrue(refund.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable").reconciled)
        self.assertTrue(all((paid | pending | cancelled).mapped("oms_paid_out")))
        self.assertRecordValues(
            payout, [{"state": "posted", "gross_total": 111.57, "fee_total": 7.44, "net_total": 66.94}]
        )

    def test_mismatched_lines_are_listed_and_block_nothing(self):
        good = self.order("M1", status="pending")
        already = self.order("M2", status="pending")
        differs = self.order("M3", status="pending")
        uninvoiced = self.order("M4", status="pending", confirm=False)
        net_wrong = self.order("M5", status="pending")
        self.run_cron()
        # M2 was paid at the bank directly
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice(already).ids
        ).create({"journal_id": self.bank.id})._create_payments()
        payout = self.payout(
            [
                ("M1", TOTAL, 1.0, 0.0, TOTAL - 1.0),
                ("M2", TOTAL, 1.0, 0.0, TOTAL - 1.0),
                ("M3", 40.0, 1.0, 0.0, 39.0),
                ("M4", TOTAL, 1.0, 0.0, TOTAL - 1.0),
                ("M5", TOTAL, 1.0, 0.0, 10.0),
                ("NOPE", 10.0, 0.0, 0.0, 10.0),
                ("M1", TOTAL, 1.0, 0.0, TOTAL - 1.0),
            ]
        )
        payout.action_post()
        states = dict(zip(payout.line_ids.ids, payout.line_ids.mapped("match_state"), strict=True))
        self.assertEqual(
            list(states.values()),
            [
                "matched",
                "already_paid",
                "amount_differs",
                "not_invoiced",
                "net_differs",
                "unknown_order",
                "duplicate",
            ],
        )
        self.assertTrue(all(payout.mismatch_line_ids.mapped("reason")))
        self.assertIn("37.19", payout.line_ids[2].reason)
        self.assertEqual(payout.mismatch_count, 6)
        self.assertEqual(payout.matched_count, 1)
        self.assertEqual(self.invoice(good).payment_state, "paid")
        self.assertEqual(self.invoice(differs).payment_state, "not_paid")
        self.assertAlmostEqual(self.balance(self.clearing, payout.move_id), TOTAL - 1.0, places=2)
        self.assertFalse(uninvoiced.oms_paid_out)
        self.assertFalse(net_wrong.oms_paid_out)
        # a second payout of an order already paid out is a mismatch too
        again = self.payout([("M1", TOTAL, 0.0, 0.0, TOTAL)], reference="PO-2")
        again.action_match()
        self.assertEqual(again.line_ids.match_state, "already_paid")

    def test_cod_remittance(self):
        order = self.order("COD1", status="cod")
        self.run_cron()
        remittance = self.payout([("COD1", TOTAL, 2.0, 0.0, TOTAL - 2.0)], reference="REM-1", kind="cod")
        self.assertEqual(remittance.partner_id, self.courier)
        self.assertEqual(remittance.clearing_account_id, self.cod_clearing)
        remittance.action_post()
        self.assertEqual(remittance.line_ids.match_state, "matched")
        self.assertRecordValues(self.invoice(order), [{"payment_state": "paid", "amount_residual": 0.0}])
        self.assertAlmostEqual(self.balance(self.fee_account, remittance.move_id), 2.0, places=2)
        self.assertAlmostEqual(self.balance(self.cod_clearing, remittance.move_id), TOTAL - 2.0, places=2)
        # a paid (non-COD) order is not in a courier's remittance
        other = self.order("COD2")
        self.run_cron()
        rem2 = self.payout([("COD2", TOTAL, 0.0, 0.0, TOTAL)], reference="REM-2", kind="cod")
        rem2.action_match()
        self.assertEqual(rem2.line_ids.match_state, "unknown_order")
        self.assertFalse(other.oms_paid_out)

    def test_never_policy_payout_books_revenue(self):
        self.channel.invoice_policy = "never"
        income = self.env["account.account"].create(
            {"name": "Marketplace sales", "code": "OMS401", "account_type": "income"}
        )
        self.channel.payout_income_account_id = income
        self.order("N2")
        payout = self.payout([("N2", TOTAL, 5.0, 0.0, TOTAL - 5.0)])
        payout.action_post()
        self.assertEqual(payout.line_ids.match_state, "matched")
        self.assertAlmostEqual(self.balance(income, payout.move_id), -TOTAL, places=2)
        self.assertAlmostEqual(self.balance(self.clearing, payout.move_id), TOTAL - 5.0, places=2)

    def test_post_twice_refused_cancel_and_repost(self):
        order = self.order("T1", status="pending")
        self.run_cron()
        payout = self.payout([("T1", TOTAL, 1.0, 0.0, TOTAL - 1.0)])
        payout.action_post()
        with self.assertRaisesRegex(UserError, "only a draft payout"):
            payout.action_post()
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "Payout PO-1")]), 1)
        first_move = payout.move_id
        payout.action_cancel()
        self.assertEqual(first_move.state, "cancel")
        self.assertEqual(self.invoice(order).payment_state, "not_paid")
        self.assertFalse(order.oms_paid_out)
        payout.action_draft()
        payout.action_post()
        self.assertNotEqual(payout.move_id, first_move)
        self.assertEqual(self.invoice(order).payment_state, "paid")
        with self.assertRaises(UserError):
            payout.unlink()

    def test_multi_currency_channel(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        today = fields.Date.context_today(self.env.user)
        later = today + timedelta(days=10)
        self.env["res.currency.rate"].search([("currency_id", "=", eur.id)]).unlink()
        self.env["res.currency.rate"].create(
            [
                {
                    "currency_id": eur.id,
                    "name": today - timedelta(days=400),
                    "rate": 0.5,
                    "company_id": self.company.id,
                },
                {"currency_id": eur.id, "name": later, "rate": 0.4, "company_id": self.company.id},
            ]
        )
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        channel = self.channel.copy(
            {"name": "EU Shop", "code": "eu-shop", "pricelist_id": pricelist.id, "currency_id": eur.id}
        )
        channel.write(
            {
                "invoice_policy": "confirmed",
                "payment_journal_id": self.pay_journal.id,
                "payout_partner_id": self.marketplace.id,
                "fee_account_id": self.fee_account.id,
                "clearing_account_id": self.clearing.id,
            }
        )
        order = self.order("E1", status="pending", channel=channel, currency="EUR")
        self.assertEqual(order.currency_id, eur)
        self.run_cron()
        invoice = self.invoice(order)
        self.assertRecordValues(invoice, [{"currency_id": eur.id, "amount_total": TOTAL}])
        self.assertAlmostEqual(invoice.amount_total_signed, TOTAL * 2, places=2)  # 1 EUR = 2 USD
        payout = self.env["oms.payout"].create(
            {
                "reference": "EU-1",
                "channel_id": channel.id,
                "date": later,
                "line_ids": [
                    fields.Command.create({"external_id": "E1", "gross": TOTAL, "fee": 2.0, "net": TOTAL - 2})
                ],
            }
        )
        self.assertEqual(payout.currency_id, eur)
        payout.action_post()
        self.assertEqual(payout.line_ids.match_state, "matched")
        self.assertRecordValues(invoice, [{"payment_state": "paid", "amount_residual": 0.0}])
        net_line = payout.clearing_line_id
        self.assertRecordValues(net_line, [{"currency_id": eur.id, "amount_currency": TOTAL - 2.0}])
        # at the payout date's rate: receivable 37.19 EUR = 92.98 USD, fee 2 EUR = 5 USD, net takes the rest
        self.assertAlmostEqual(net_line.balance, 87.98, places=2)
        fee_line = payout.move_id.line_ids.filtered(lambda line: line.account_id == self.fee_account)
        self.assertAlmostEqual(fee_line.balance, 5.0, places=2)
        receivable = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertTrue(receivable.full_reconcile_id, "exchange difference booked by Odoo's reconciliation")

    def test_bank_statement_line_reconciles_clearing(self):
        self.order("BK1", status="pending")
        self.run_cron()
        payout = self.payout([("BK1", TOTAL, 2.19, 0.0, 35.0)], reference="AMZ-7781")
        payout.action_post()
        st_line = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "payment_ref": "Settlement amz-7781", "amount": 35.0, "date": payout.date}
        )
        other = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "payment_ref": "Settlement AMZ-7781", "amount": 34.0, "date": payout.date}
        )
        payout.action_reconcile_bank()
        self.assertTrue(st_line.is_reconciled)
        self.assertFalse(other.is_reconciled, "a different amount is not this payout")
        self.assertTrue(payout.clearing_line_id.reconciled)
        self.assertTrue(payout.bank_reconciled)
        self.assertEqual(self.clearing.current_balance if "current_balance" in self.clearing._fields else 0.0, 0.0)
        with self.assertRaises(UserError):
            payout.action_reconcile_bank()

    def test_oms_user_cannot_post_payouts(self):
        self.order("AC1", status="pending")
        self.run_cron()
        payout = self.payout([("AC1", TOTAL, 0.0, 0.0, TOTAL)])
        self.assertEqual(payout.with_user(self.oms_user).reference, "PO-1")  # may read
        # the accountant check itself refuses (not the missing write access further on)
        for action in ("action_post", "action_cancel", "action_draft", "action_reconcile_bank"):
            with self.assertRaisesRegex(AccessError, "Only users with Billing or Accounting rights"):
                getattr(payout.with_user(self.oms_user), action)()
        with self.assertRaises(AccessError):
            payout.with_user(self.oms_user).write({"reference": "X"})
        self.assertEqual(payout.state, "draft")
        payout.with_user(self.accountant).action_post()
        self.assertEqual(payout.state, "posted")

    def test_match_query_count(self):
        self.order("Q1", status="pending")
        self.run_cron()
        lines = [("Q1", TOTAL, 1.0, 0.0, TOTAL - 1.0)] + [(f"X{i}", 10.0, 0.0, 0.0, 10.0) for i in range(99)]
        payout = self.payout(lines)
        self.env.invalidate_all()
        # 100 lines: grouped queries, not one per line (OCA rma_sale's _get_invoiced adds one read of the
        # orders' returns when the matching reads their invoices)
        with self.assertQueryCount(__system__=25):
            payout.line_ids._oms_match()
            self.env.flush_all()
        self.assertEqual(payout.matched_count, 1)

    def test_match_reads_open_items_once(self):
        # Matching is linear: the open items of all the payout's orders are grouped by order once, not
        # filtered again for every line.
        orders = self.order("Q2", status="pending") | self.order("Q3", status="pending") | self.order("Q4")
        self.run_cron()
        payout = self.payout([(o.oms_external_id, TOTAL, 0.0, 0.0, TOTAL) for o in orders])
        AccountMoveLine = type(self.env["account.move.line"])
        calls = []
        filtered = AccountMoveLine.filtered

        def counting(records, func):
            calls.append(len(records))
            return filtered(records, func)

        with patch.object(AccountMoveLine, "filtered", counting):
            payout.line_ids._oms_match()
        self.assertEqual(payout.matched_count, 3)
        self.assertFalse(calls, "journal items filtered per line")

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------
    def _import(self, content, filename="payout.csv", reference="IMP-1", user=None):
        return (
            self.env["oms.payout.import"]
            .with_user(user or self.env.user)
            .create(
                {
                    "channel_id": self.channel.id,
                    "reference": reference,
                    "file": base64.b64encode(content),
                    "filename": filename,
                }
            )
        )

    def test_import_csv_with_preview(self):
        self.order("I1", status="pending")
        self.run_cron()
        bad = self._import(b"Order ID;Gross;Fees;Net\nI1;37,19;1.00;36.19\nI2;12.00;abc;12\n")
        bad.action_preview()
        self.assertEqual(bad.problem_count, 1)
        self.assertIn("row 3, column fee", bad.line_ids[1].problem)
        with self.assertRaisesRegex(UserError, "row 3, column fee"):
            bad.action_create()
        self.assertFalse(self.env["oms.payout"].search([("reference", "=", "IMP-1")]))
        with self.assertRaisesRegex(UserError, "lacks the columns"):
            self._import(b"foo,bar\n1,2\n").action_preview()
        ambiguous = self._import(b"order_id;gross;fee\nI1;1,234;1\n")
        ambiguous.action_preview()
        self.assertIn("ambiguous", ambiguous.line_ids.problem)
        separators = self._import(
            b'order_id;gross;fee;refund\nI1;"1.234,50";-2,50;-1\nI2;"1,234.50";"1 000,00";0\n', reference="IMP-2"
        )
        separators.action_preview()
        self.assertRecordValues(
            separators.line_ids,
            [
                {"gross": 1234.5, "fee": 2.5, "refund": 1.0, "net": 1231.0, "problem": False},
                {"gross": 1234.5, "fee": 1000.0, "refund": 0.0, "net": 234.5, "problem": False},
            ],
        )
        good = self._import(b"order_id,gross,fee,net\nI1,37.19,1.00,36.19\n")
        action = good.action_create()
        payout = self.env["oms.payout"].browse(action["res_id"])
        kept = payout.message_ids.attachment_ids
        self.assertEqual(
            (kept.name, base64.b64decode(kept.datas)), ("payout.csv", b"order_id,gross,fee,net\nI1,37.19,1.00,36.19\n")
        )
        self.assertRecordValues(
            payout.line_ids, [{"external_id": "I1", "gross": TOTAL, "fee": 1.0, "net": 36.19, "match_state": "matched"}]
        )

    def test_import_large_file_in_jobs(self):
        """A file of more rows than oms_ecommerce.payout_background_rows: the preview shows the first rows and
        every row with a problem; the draft payout is created at once, its lines by a chain of jobs (as the
        accountant), matched by the last one; the payout shows the progress and cannot be posted meanwhile."""
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.payout_background_rows", "3")
        order = self.order("L1", status="pending")
        self.run_cron()
        rows = [b"L1,37.19,1.00,36.19"] + [f"L-UNKNOWN-{n},10,0,10".encode() for n in range(2, 6)]
        header = b"order_id,gross,fee,net\n"
        bad = self._import(header + b"\n".join([*rows, b"L6,abc,0,1"]) + b"\n", "big.csv", "BIG-BAD", self.accountant)
        with patch.object(oms_payout_import, "PREVIEW_ROWS", 2):
            bad.action_preview()
        self.assertEqual(bad.row_count, 6)
        self.assertTrue(bad.background)
        self.assertEqual(bad.line_ids.mapped("row"), [2, 3, 7], "the first two rows and the one with a problem")
        with self.assertRaisesRegex(UserError, "row 7, column gross"):
            bad.action_create()

        content = header + b"\n".join(rows) + b"\n"
        wizard = self._import(content, "big.csv", "BIG", self.accountant)
        with patch.object(oms_payout_import, "PAYOUT_CHUNK", 2), trap_jobs() as trap:
            result = wizard.action_create()
            payout = self.env["oms.payout"].search([("reference", "=", "BIG")])
            self.assertEqual(result["params"]["next"]["res_id"], payout.id)
            self.assertFalse(payout.line_ids, "no line created in the request")
            self.assertEqual(base64.b64decode(payout.message_ids.attachment_ids.datas), content)
            progress = payout.import_progress_id
            self.assertRecordValues(progress, [{"kind": "payout_import", "user_id": self.accountant.id, "total": 6}])
            trap.assert_jobs_count(3, only=progress._oms_job_payout_rows)
            trap.assert_jobs_count(1, only=progress._oms_job_payout_match)
            trap.assert_enqueued_job(
                progress._oms_job_payout_rows,
                args=(
                    [
                        {"sequence": 2, "external_id": "L1", "gross": TOTAL, "fee": 1.0, "refund": 0.0, "net": 36.19},
                        {"sequence": 3, "external_id": "L-UNKNOWN-2", "gross": 10.0, "fee": 0.0, "refund": 0.0,
                         "net": 10.0},
                    ],
                ),
                properties={"channel": "root.oms_bulk", "identity_key": f"oms-progress:{progress.id}:rows-1"},
            )  # fmt: skip
            *row_jobs, match_job = in_chain_order(trap.enqueued_jobs)
            for job in row_jobs[:2]:
                job.perform()
            self.env.invalidate_all()  # as the next request reads it
            self.assertEqual(len(payout.line_ids), 4)
            self.assertEqual(payout.import_progress, 66)
            with self.assertRaisesRegex(UserError, "still being imported"):
                payout.with_user(self.accountant).action_post()
            row_jobs[2].perform()
            match_job.perform()
        self.env.invalidate_all()
        self.assertFalse(payout.import_progress_id)
        self.assertRecordValues(progress, [{"state": "done", "progress": 100}])
        self.assertEqual(payout.line_ids.mapped("sequence"), [2, 3, 4, 5, 6])
        self.assertRecordValues(payout, [{"state": "draft", "matched_count": 1, "mismatch_count": 4}])
        self.assertEqual(payout.line_ids[0].order_id, order)
        self.assert_user_told(progress, f"Payout {payout.name}: 5 rows imported; 1 matched, 4 to check.")

    def test_import_xlsx(self):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["external_id", "gross", "fee", "refund", "currency"])
        sheet.append(["X1", 20, 2, 0, "USD"])
        sheet.append(["X2", 10, 1, 0, "EUR"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        wizard = self._import(buffer.getvalue(), filename="payout.xlsx")
        wizard.action_preview()
        self.assertRecordValues(
            wizard.line_ids,
            [
                {"row": 2, "external_id": "X1", "gross": 20.0, "net": 18.0},
                {"row": 3, "external_id": "X2", "gross": 10.0, "net": 9.0},
            ],
        )
        self.assertFalse(wizard.line_ids[0].problem)
        self.assertIn("EUR", wizard.line_ids[1].problem)

    # ------------------------------------------------------------------
    # 3. Reports
    # ------------------------------------------------------------------
    def _workbook(self, report):
        action = self.env["oms.accounting.report"].create({"report": report, "channel_ids": self.channel.ids})
        url = action.action_export()["url"]
        attachment = self.env["ir.attachment"].browse(int(url.split("/")[-1].split("?")[0]))
        return openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas))).active

    def test_reports(self):
        paid_out = self.order("X10", status="pending")
        waiting = self.order("X11", status="pending")
        self.run_cron()
        self.payout([("X10", TOTAL, 3.0, 0.0, TOTAL - 3.0), ("ZZZ", 5.0, 0.0, 0.0, 5.0)]).action_post()
        sheet = self._workbook("unpaid")
        names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        self.assertIn(waiting.name, names)
        self.assertNotIn(paid_out.name, names)
        sheet = self._workbook("payouts")
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        self.assertEqual(rows[1][5], "ZZZ")
        self.assertEqual(rows[1][12], "Unknown order")
        margin = self.env["oms.channel.margin"].search([("channel_id", "=", self.channel.id)])
        self.assertAlmostEqual(sum(margin.mapped("revenue")), 2 * 32.2, places=2)
        self.assertAlmostEqual(sum(margin.mapped("shipping")), 2 * 4.99, places=2)
        self.assertAlmostEqual(sum(margin.mapped("fees")), 3.0, places=2)
        sheet = self._workbook("margin")
        self.assertAlmostEqual(sheet.cell(2, 7).value, 2 * TOTAL - 3.0, places=2)

    # ------------------------------------------------------------------
    # 4. Review fixes
    # ------------------------------------------------------------------
    def test_unexpected_error_sets_one_order_aside(self):
        good, bad = self.order("K1"), self.order("K2")
        create_invoices = type(self.env["sale.order"])._create_invoices

        def failing(orders, *args, **kwargs):
            if bad in orders:
                raise KeyError("missing_key")
            return create_invoices(orders, *args, **kwargs)

        with (
            patch.object(type(self.env["sale.order"]), "_create_invoices", failing),
            mute_logger("odoo.addons.oms_ecommerce.models.sale_order_accounting"),
        ):
            self.assertTrue(self.run_cron())
        self.assertEqual(self.invoice(good).payment_state, "paid")
        self.assertFalse(bad.invoice_ids)
        self.assertIn("KeyError", bad.oms_accounting_error)
        self.assertIn("missing_key", bad.oms_accounting_error)

    def test_retry_needs_order_desk_or_billing_rights(self):
        order = self.order("W2")
        order.oms_accounting_error = "Invoicing failed: test"
        stranger = new_test_user(self.env, "oms_stranger", groups="base.group_user")
        with self.assertRaisesRegex(AccessError, "Order Desk users and users with Billing rights"):
            order.with_user(stranger).action_oms_retry_accounting()
        self.assertTrue(order.oms_accounting_error)
        order.with_user(self.oms_user).action_oms_retry_accounting()
        self.assertFalse(order.oms_accounting_error)
        self.assertEqual(self.invoice(order).payment_state, "paid")

    def test_payment_date_is_the_local_day(self):
        order = self.order("D1", status="pending")
        # 23:30 UTC, forty days ago: already the next day in Brussels (UTC+1/+2), still that day in New York
        utc_day = fields.Date.today() - timedelta(days=40)
        order.oms_placed_at = datetime.combine(utc_day, time(23, 30))
        self.assertEqual(order.with_context(tz="Europe/Brussels")._oms_payment_date(), utc_day + timedelta(days=1))
        self.assertEqual(order.with_context(tz="America/New_York")._oms_payment_date(), utc_day)

    def test_refund_paid_out_in_a_later_payout(self):
        cancelled, returned = self.order("L1"), self.order("L2")
        self._put_in_stock()
        self.ship(returned.picking_ids)
        self.run_cron()
        first = self.payout([("L1", TOTAL, 1.0, 0.0, TOTAL - 1.0), ("L2", TOTAL, 1.0, 0.0, TOTAL - 1.0)])
        first.action_post()
        self.assertEqual(first.matched_count, 2)
        cancelled._oms_cancel_from_channel()
        self.return_goods(returned, {self.mug: 1})
        self.run_cron()
        # the settlement file lists a sale and a refund of one order as separate rows
        self.order("L3")
        self.run_cron()
        second = self.payout(
            [
                ("L1", 0.0, 0.0, TOTAL, -TOTAL),
                ("L2", 0.0, 0.0, 12.5, -12.5),
                ("L3", TOTAL, 0.0, 0.0, TOTAL),
                ("L3", 0.0, 0.0, 5.0, -5.0),
            ],
            reference="PO-2",
        )
        second.action_match()
        self.assertEqual(
            second.line_ids.mapped("match_state"), ["matched", "matched", "matched", "no_credit_note"], second.line_ids
        )
        second.action_post()
        for order in cancelled | returned:
            refund = self.refunds(order)
            self.assertEqual(refund.amount_residual, 0.0)
            self.assertTrue(refund.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable").reconciled)
        self.assertAlmostEqual(self.balance(self.clearing, second.move_id), TOTAL - TOTAL - 12.5, places=2)
        # the gross of an order is still settled once only
        again = self.payout([("L1", TOTAL, 0.0, 0.0, TOTAL), ("L1", 0.0, 0.0, TOTAL, -TOTAL)], reference="PO-3")
        again.action_match()
        self.assertEqual(again.line_ids.mapped("match_state"), ["already_paid", "already_paid"])

    def test_payout_reference_unique(self):
        self._import(b"order_id,gross\nU1,1\n").action_create()
        with self.assertRaisesRegex(UserError, "IMP-1 of Test Shop was already imported"):
            self._import(b"order_id,gross\nU1,1\n").action_create()
        # the database refuses it too: UNIQUE NULLS NOT DISTINCT, as the courier of a channel payout is empty
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation):
            self.payout([("U1", 1.0, 0.0, 0.0, 1.0)], reference="IMP-1")
        # a courier's remittance or another reference is fine
        self.payout([("U1", 1.0, 0.0, 0.0, 1.0)], reference="IMP-1", kind="cod")
        self.payout([("U1", 1.0, 0.0, 0.0, 1.0)], reference="IMP-2")

    def test_post_locks_the_orders(self):
        order = self.order("LK1", status="pending")
        self.run_cron()
        payout = self.payout([("LK1", TOTAL, 0.0, 0.0, TOTAL)])
        locked = []
        lock = type(self.env["sale.order"]).lock_for_update

        def recording(records, *args, **kwargs):
            locked.append(records)
            return lock(records, *args, **kwargs)

        with patch.object(type(self.env["sale.order"]), "lock_for_update", recording):
            payout.action_post()
        self.assertIn(order, locked[0])

        def busy(records, *args, **kwargs):
            raise LockError("Cannot grab a lock on records")

        other = self.order("LK2", status="pending")
        self.run_cron()
        payout2 = self.payout([("LK2", TOTAL, 0.0, 0.0, TOTAL)], reference="PO-2")
        with (
            patch.object(type(self.env["sale.order"]), "lock_for_update", busy),
            self.assertRaisesRegex(UserError, "being changed by another user"),
        ):
            payout2.action_post()
        self.assertEqual(payout2.state, "draft")
        self.assertFalse(other.oms_paid_out)

    def test_missing_configuration_names_where_to_set_it(self):
        self.order("CF1", status="pending")
        self.run_cron()
        payout = self.payout([("CF1", TOTAL, 1.0, 0.0, TOTAL - 1.0)])
        payout.clearing_account_id = False
        self.channel.clearing_account_id = False
        with self.assertRaisesRegex(UserError, "clearing account.*Accounting tab of channel Test Shop"):
            payout.action_post()
        # set on the channel afterwards: the payout takes it when it is posted
        self.channel.clearing_account_id = self.clearing
        payout.action_post()
        self.assertEqual(payout.clearing_account_id, self.clearing)
        self.carrier.oms_fee_account_id = False
        self.order("CF2", status="cod")
        self.run_cron()
        remittance = self.payout([("CF2", TOTAL, 2.0, 0.0, TOTAL - 2.0)], reference="REM-9", kind="cod")
        with self.assertRaisesRegex(UserError, "fee account.*COD Remittances tab of courier"):
            remittance.action_post()

    def test_cancel_refused_while_in_the_bank(self):
        self.order("BK2", status="pending")
        self.run_cron()
        payout = self.payout([("BK2", TOTAL, 2.19, 0.0, 35.0)], reference="AMZ-9")
        payout.action_post()
        st_line = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "payment_ref": "AMZ-9", "amount": 35.0, "date": payout.date}
        )
        payout.action_reconcile_bank()
        self.assertTrue(payout.bank_reconciled)
        with self.assertRaisesRegex(UserError, "undo that bank reconciliation first"):
            payout.action_cancel()
        self.assertEqual(payout.state, "posted")
        self.assertEqual(payout.move_id.state, "posted")
        st_line.action_undo_reconciliation()
        self.assertFalse(payout.bank_reconciled)
        payout.action_cancel()
        self.assertEqual(payout.state, "cancel")

    def test_posted_payout_is_read_only(self):
        self.order("W1", status="pending")
        self.run_cron()
        payout = self.payout([("W1", TOTAL, 1.0, 0.0, TOTAL - 1.0)])
        as_accountant = payout.with_user(self.accountant)
        with self.assertRaisesRegex(UserError, "Post and Cancel buttons"):
            as_accountant.write({"state": "posted"})
        as_accountant.write({"reference": "PO-1b"})  # a draft can be edited
        as_accountant.action_post()
        line = as_accountant.line_ids
        for change in (
            lambda: as_accountant.write({"state": "draft"}),
            lambda: as_accountant.write({"reference": "X"}),
            lambda: line.write({"gross": 1.0}),
            lambda: line.unlink(),
            lambda: (
                self.env["oms.payout.line"]
                .with_user(self.accountant)
                .create({"payout_id": payout.id, "external_id": "W9"})
            ),
            lambda: as_accountant.unlink(),
        ):
            with self.assertRaises(UserError):
                change()
        self.assertRecordValues(payout, [{"state": "posted", "reference": "PO-1b", "gross_total": TOTAL}])
        as_accountant.message_post(body="still commentable")
        as_accountant.action_cancel()
        as_accountant.action_draft()
        as_accountant.line_ids.write({"fee": 2.0, "net": TOTAL - 2.0})
