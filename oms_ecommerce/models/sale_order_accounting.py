import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

# Orders invoiced (or refunded) per step of the accounting cron; each batch is committed on its own.
ACCOUNTING_BATCH_SIZE = 100


class SaleOrder(models.Model):
    """Channel orders in the books.

    The accounting cron invoices channel orders by their channel's policy, posts the invoices, registers
    the payment of orders the channel says are paid (payload amount and reference, channel payment journal)
    and gives cancelled or returned orders their credit note. A failure is written on the order
    (``oms_accounting_error``) with an activity, and the order is left out until someone retries it.
    """

    _inherit = "sale.order"

    oms_payment_id = fields.Many2one(
        "account.payment",
        string="Channel Payment Entry",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The payment registered for the amount the channel collected.",
    )
    oms_accounting_error = fields.Text(
        string="Accounting Error",
        readonly=True,
        copy=False,
        help="Why the accounting cron could not invoice, pay or refund this order; it is skipped until retried.",
    )
    oms_payout_line_ids = fields.One2many("oms.payout.line", "order_id", string="Payout Lines", readonly=True)
    oms_paid_out = fields.Boolean(
        string="Paid Out",
        compute="_compute_oms_paid_out",
        store=True,
        help="A posted payout or COD remittance settled this order.",
    )

    @api.depends("oms_payout_line_ids.match_state", "oms_payout_line_ids.payout_id.state")
    def _compute_oms_paid_out(self):
        for order in self:
            order.oms_paid_out = any(
                line.match_state == "matched" and line.payout_id.state == "posted" for line in order.oms_payout_line_ids
            )

    # ------------------------------------------------------------------
    # What is due
    # ------------------------------------------------------------------
    @api.model
    def _oms_invoice_due_domain(self):
        """Channel orders their channel's policy says to invoice now."""
        shipped = Domain("picking_ids", "any", [("picking_type_code", "=", "outgoing"), ("state", "=", "done")])
        return Domain.AND(
            [
                [
                    ("oms_channel_id", "!=", False),
                    ("state", "=", "sale"),
                    ("invoice_status", "=", "to invoice"),
                    ("oms_accounting_error", "=", False),
                ],
                Domain.OR(
                    [
                        Domain("oms_channel_id.invoice_policy", "=", "confirmed"),
                        Domain("oms_channel_id.invoice_policy", "=", "shipped") & shipped,
                    ]
                ),
            ]
        )

    @api.model
    def _oms_payment_due_domain(self):
        """Paid channel orders with a posted, open invoice and no channel payment yet."""
        return [
            ("oms_channel_id", "!=", False),
            ("oms_payment_status", "=", "paid"),
            ("oms_payment_id", "=", False),
            ("state", "=", "sale"),
            ("oms_accounting_error", "=", False),
            (
                "order_line.invoice_lines.move_id",
                "any",
                [
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
            ),
        ]

    @api.model
    def _oms_refund_due_domain(self):
        """Cancelled or returned channel orders with a posted invoice that has no credit note yet."""
        return [
            ("oms_channel_id", "!=", False),
            ("oms_accounting_error", "=", False),
            "|",
            ("state", "=", "cancel"),
            ("oms_step", "=", "returned"),
            (
                "order_line.invoice_lines.move_id",
                "any",
                [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("reversal_move_ids", "=", False)],
            ),
        ]

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_oms_accounting(self, batch_size=ACCOUNTING_BATCH_SIZE):
        """Invoice, pay and refund channel orders in batches, committing after each batch."""
        Cron = self.env["ir.cron"]
        steps = [
            (self._oms_invoice_due_domain(), "_oms_invoice"),
            (self._oms_payment_due_domain(), "_oms_register_payment"),
            (self._oms_refund_due_domain(), "_oms_refund"),
        ]
        todo = [(self.search(domain, order="id"), method) for domain, method in steps]
        Cron._commit_progress(remaining=sum(len(orders) for orders, _method in todo))
        for orders, method in todo:
            for start in range(0, len(orders), batch_size):
                batch = orders[start : start + batch_size].exists()
                getattr(batch, method)()
                if not Cron._commit_progress(len(batch)):
                    return False
        return True

    def _oms_safely(self, work, what):
        """Run ``work(orders)`` on the whole of ``self`` in one savepoint; if it fails, order by order, so that
        one bad order is set aside (error, note, activity) without blocking the others. Returns the orders done."""
        try:
            with self.env.cr.savepoint():
                work(self)
            return self
        except (UserError, ValueError) as exc:
            if len(self) == 1:
                self._oms_accounting_failed(what, exc)
                return self.browse()
        done = self.browse()
        for order in self:
            try:
                with self.env.cr.savepoint():
                    work(order)
                done |= order
            except (UserError, ValueError) as exc:
                order._oms_accounting_failed(what, exc)
        return done

    def _oms_accounting_failed(self, what, exc):
        self.ensure_one()
        message = exc.args[0] if exc.args else repr(exc)
        _logger.info("OMS accounting: %s of order %s failed: %s", what, self.name, message)
        error = self.env._("%(what)s failed: %(error)s", what=what, error=message)
        self.oms_accounting_error = error
        self.message_post(body=error, subtype_xmlid="mail.mt_note")
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Accounting: %(what)s failed", what=what),
            note=error,
            user_id=(self.oms_channel_id.user_id or self.user_id or self.env.user).id,
        )

    def action_oms_retry_accounting(self):
        """Clear the accounting error so that the next cron run takes the orders again, and run it for them now."""
        self.write({"oms_accounting_error": False})
        self._oms_process_accounting()
        return True

    def _oms_process_accounting(self):
        """The cron's work for these orders only, without committing."""
        self.filtered_domain(self._oms_invoice_due_domain())._oms_invoice()
        self.filtered_domain(self._oms_payment_due_domain())._oms_register_payment()
        self.filtered_domain(self._oms_refund_due_domain())._oms_refund()

    # ------------------------------------------------------------------
    # Work
    # ------------------------------------------------------------------
    def _oms_invoice(self):
        """Create (one per order) and post the invoices of ``self``; then pay those the channel says are paid."""

        def work(orders):
            invoices = orders._create_invoices(grouped=True)
            invoices.action_post()

        invoiced = self._oms_safely(work, self.env._("Invoicing"))
        invoiced.filtered_domain(self._oms_payment_due_domain())._oms_register_payment()
        return invoiced

    def _oms_register_payment(self):
        """Register the payment the channel collected (payload amount and reference) on each order's open
        invoices, in the channel's payment journal; Odoo reconciles it with the invoice."""

        def work(orders):
            for order in orders:
                order._oms_register_payment_one()

        return self._oms_safely(work, self.env._("Payment registration"))

    def _oms_register_payment_one(self):
        self.ensure_one()
        journal = self.oms_channel_id.payment_journal_id
        if not journal:
            raise UserError(
                self.env._(
                    "Channel %(channel)s has no payment journal: set one on its Accounting tab.",
                    channel=self.oms_channel_id.name,
                )
            )
        invoices = self.invoice_ids.filtered(
            lambda m: (
                m.move_type == "out_invoice" and m.state == "posted" and m.payment_state in ("not_paid", "partial")
            )
        )
        method_line = journal.inbound_payment_method_line_ids[:1]
        if not method_line:
            raise UserError(
                self.env._("Journal %(journal)s has no incoming payment method.", journal=journal.display_name)
            )
        date = fields.Date.to_date(self.oms_placed_at) if self.oms_placed_at else fields.Date.context_today(self)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(
                {
                    "journal_id": journal.id,
                    "payment_method_line_id": method_line.id,
                    "payment_date": max(date, max(invoices.mapped("invoice_date"))),
                    "currency_id": self.currency_id.id,
                    # The payload's amount; a channel that says "paid" without one collected the invoice.
                    "amount": self.oms_payment_amount or sum(invoices.mapped("amount_residual")),
                    "communication": self.oms_payment_reference or self.oms_external_id,
                    "group_payment": True,
                    "payment_difference_handling": "open",
                }
            )
        )
        payment = wizard._create_payments()
        self.oms_payment_id = payment[:1]

    def _oms_refund(self):
        """Credit notes of cancelled or returned orders: each posted invoice without a reversal is reversed in
        full. An unpaid invoice is reconciled with its credit note at once; the credit note of a paid invoice
        stays open until the refund of a payout (or a refund payment) settles it."""

        def work(orders):
            invoices = orders.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice" and m.state == "posted" and not m.reversal_move_ids
            )
            for cancel, moves in invoices.grouped(lambda m: m.payment_state == "not_paid").items():
                reason = self.env._("Channel order cancelled or returned")
                refunds = moves._reverse_moves(
                    [{"ref": reason, "invoice_date": fields.Date.context_today(self)} for _move in moves],
                    cancel=cancel,
                )
                refunds.filtered(lambda m: m.state == "draft").action_post()

        return self._oms_safely(work, self.env._("Credit note"))
