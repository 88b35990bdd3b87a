import logging

from odoo import api, fields, models
from odoo.addons.queue_job.job import identity_exact
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..tools.batch import run_in_savepoints

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
        groups="base.group_user",
        help="The payment registered for the amount the channel collected.",
        check_company=True,
    )
    oms_accounting_error = fields.Text(
        string="Accounting Error",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Why the accounting cron could not invoice, pay or refund this order; it is skipped until retried.",
    )
    oms_payout_line_ids = fields.One2many(
        "oms.payout.line", "order_id", string="Payout Lines", readonly=True, groups="base.group_user"
    )

    # The accounting cron reads only the orders that may be due (see sale_order.py for the scans' indexes):
    # to invoice, and paid without a channel payment entry yet.
    _oms_invoice_scan_idx = models.Index(
        "(id) WHERE oms_channel_id IS NOT NULL AND invoice_status = 'to invoice' AND state = 'sale'"
    )
    _oms_payment_scan_idx = models.Index(
        "(id) WHERE oms_channel_id IS NOT NULL AND oms_payment_id IS NULL AND oms_payment_status = 'paid' "
        "AND state = 'sale'"
    )
    oms_paid_out = fields.Boolean(
        string="Paid Out",
        compute="_compute_oms_paid_out",
        store=True,
        groups="base.group_user",
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
        """Channel orders their channel's policy says to invoice now, unless on hold.

        A returned order that has its invoice is not invoiced again: its credit note (for the returned
        quantities) lowers the invoiced quantity, which would otherwise make it "to invoice" once more."""
        shipped = Domain("picking_ids", "any", [("picking_type_code", "=", "outgoing"), ("state", "=", "done")])
        invoiced = Domain(
            "order_line.invoice_lines.move_id", "any", [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
        return Domain.AND(
            [
                [
                    ("oms_channel_id", "!=", False),
                    ("state", "=", "sale"),
                    ("invoice_status", "=", "to invoice"),
                    ("oms_accounting_error", "=", False),
                    # On hold (a total that differs from the channel's...): not invoiced until released.
                    ("oms_hold", "=", False),
                ],
                ~(Domain("oms_step", "=", "returned") & invoiced),
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
        """Cancelled channel orders with a posted invoice that has no credit note yet, and returned channel
        orders with a posted invoice (``_oms_refund`` credits the returned quantities not credited yet)."""
        cancelled = Domain("state", "=", "cancel") & Domain(
            "order_line.invoice_lines.move_id",
            "any",
            [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("reversal_move_ids", "=", False)],
        )
        returned = (
            Domain("state", "=", "sale")
            & Domain("oms_step", "=", "returned")
            & Domain(
                "order_line.invoice_lines.move_id", "any", [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
            )
        )
        return Domain.AND(
            [
                [("oms_channel_id", "!=", False), ("oms_accounting_error", "=", False)],
                Domain.OR([cancelled, returned]),
            ]
        )

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _oms_accounting_steps(self):
        """{method: its due domain}: invoicing, payments and refunds by the channels' policies, in this order."""
        return {
            "_oms_invoice": self._oms_invoice_due_domain(),
            "_oms_register_payment": self._oms_payment_due_domain(),
            "_oms_refund": self._oms_refund_due_domain(),
        }

    @api.model
    def _cron_oms_accounting(self, batch_size=ACCOUNTING_BATCH_SIZE):
        """Enqueue the due invoicing, payments and refunds: one queue job per batch of ``batch_size`` orders and
        step, on the accounting job channel (one at a time: a payment never races its invoice). A batch asked
        again while its job waits is the same job (identity key); a job retried or run twice finds its done
        orders no longer due.

        :return: the number of jobs enqueued
        """
        count = 0
        for method, domain in self._oms_accounting_steps().items():
            orders = self.search(domain, order="id")
            for start in range(0, len(orders), batch_size):
                chunk = orders[start : start + batch_size]
                chunk.with_delay(
                    identity_key=identity_exact,
                    description=self.env._(
                        "Accounting of %(count)s channel orders: %(step)s", count=len(chunk), step=method.strip("_")
                    ),
                )._oms_job_accounting(method)
                count += 1
        return count

    def _oms_job_accounting(self, method):
        """A queue job: run one accounting step (``method``) on the orders of ``self`` still due for it (an
        earlier job may have done it: invoicing pays paid orders)."""
        due = self.exists().filtered_domain(self._oms_accounting_steps()[method])
        getattr(due, method)()
        return len(due)

    def _oms_safely(self, work, what):
        """Run ``work(orders)`` on the whole of ``self`` in one savepoint; if it fails, order by order, so that
        one bad order is set aside (error, note, activity) without blocking the others. Returns the orders done."""
        return run_in_savepoints(self, work, lambda order, error: order._oms_accounting_failed(what, error))

    def _oms_accounting_failed(self, what, exc):
        self.ensure_one()
        if isinstance(exc, (UserError, ValueError)):
            message = exc.args[0] if exc.args else repr(exc)
            _logger.info("OMS accounting: %s of order %s failed: %s", what, self.name, message)
        else:
            # An unexpected error (a bug, bad data): keep the traceback in the log.
            message = f"{type(exc).__name__}: {exc}"
            _logger.error("OMS accounting: %s of order %s failed", what, self.name, exc_info=exc)
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
        """Clear the accounting error so that the next cron run takes the orders again, and run it for them now.

        For OMS users and Billing users: after this check, the orders get exactly the cron's work (which runs as
        superuser), so that an OMS user without accounting rights can retry once the cause is fixed."""
        user = self.env.user
        if not (user.has_group("oms_ecommerce.group_oms_user") or user.has_group("account.group_account_invoice")):
            raise AccessError(
                self.env._("Only Order Desk users and users with Billing rights can retry the accounting of orders.")
            )
        self.check_access("read")
        orders = self.sudo()
        orders.write({"oms_accounting_error": False})
        orders._oms_process_accounting()
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
        if not invoices or self.oms_payment_id:
            return  # nothing left to pay, or paid already
        method_line = journal.inbound_payment_method_line_ids[:1]
        if not method_line:
            raise UserError(
                self.env._("Journal %(journal)s has no incoming payment method.", journal=journal.display_name)
            )
        date = self._oms_payment_date()
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

    def _oms_payment_date(self):
        """The local date on which the customer paid: the day of ``oms_placed_at`` in the user's time zone (the
        company's when the cron's user has none), not its UTC day."""
        self.ensure_one()
        tz = self.env.context.get("tz") or self.env.user.tz or self.company_id.partner_id.tz
        return fields.Date.context_today(self.with_context(tz=tz), timestamp=self.oms_placed_at or None)

    def _oms_refund(self):
        """Credit notes of cancelled or returned orders.

        * A cancelled order: each posted invoice without a reversal is reversed in full.
        * A returned order: one credit note for the quantities returned (done returns that update the order)
          and not credited yet, at the order's prices; shipping and other lines that are not shipped are not
          credited. A partial return credits the returned part only; a second return gets its own credit note.

        An unpaid invoice is reconciled with its credit note at once; the credit note of a paid invoice stays open
        until the refund of a payout (or a refund payment) settles it."""

        def work(orders):
            cancelled = orders.filtered(lambda o: o.state == "cancel")
            invoices = cancelled.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice" and m.state == "posted" and not m.reversal_move_ids
            )
            for cancel, moves in invoices.grouped(lambda m: m.payment_state == "not_paid").items():
                reason = self.env._("Channel order cancelled")
                refunds = moves._reverse_moves(
                    [{"ref": reason, "invoice_date": fields.Date.context_today(self)} for _move in moves],
                    cancel=cancel,
                )
                refunds.filtered(lambda m: m.state == "draft").action_post()
            for order in orders - cancelled:
                order._oms_credit_returns()

        return self._oms_safely(work, self.env._("Credit note"))

    def _oms_qty_to_credit(self):
        """{sale.order.line: quantity returned and not credited yet} of a returned order."""
        self.ensure_one()
        result = {}
        for line in self.order_line.filtered(
            lambda sol: sol.qty_delivered_method == "stock_move" and not sol.is_delivery
        ):
            _outgoing, incoming = line._get_outgoing_incoming_moves()
            returned = sum(
                move.product_uom._compute_quantity(move.quantity, line.product_uom_id, rounding_method="HALF-UP")
                for move in incoming
                if move.state == "done"
            )
            credited = sum(
                aml.product_uom_id._compute_quantity(aml.quantity, line.product_uom_id)
                for aml in line.invoice_lines
                if aml.move_id.move_type == "out_refund" and aml.move_id.state != "cancel"
            )
            # Never more than what is invoiced (net of credit notes).
            qty = min(returned - credited, line.qty_invoiced)
            if line.product_uom_id.compare(qty, 0.0) > 0:
                result[line] = qty
        return result

    def _oms_credit_returns(self):
        """Create, post and (for an unpaid invoice) reconcile the credit note of the returned quantities."""
        self.ensure_one()
        to_credit = self._oms_qty_to_credit()
        if not to_credit:
            return self.env["account.move"]
        vals = self._prepare_invoice()
        vals.update(
            move_type="out_refund",
            ref=self.env._("Return of channel order %(order)s", order=self.name),
            invoice_date=fields.Date.context_today(self),
            invoice_line_ids=[
                fields.Command.create(line._prepare_invoice_line(quantity=qty)) for line, qty in to_credit.items()
            ],
        )
        refund = self.env["account.move"].with_context(default_move_type="out_refund").create(vals)
        refund.action_post()
        invoices = self.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted" and m.payment_state == "not_paid"
        )
        if invoices:
            receivables = (invoices | refund).line_ids.filtered(
                lambda aml: aml.account_id.account_type == "asset_receivable" and not aml.reconciled
            )
            for _account, lines in receivables.grouped("account_id").items():
                lines.reconcile()
        return refund
