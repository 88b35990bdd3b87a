from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import float_compare

from .oms_payout import MATCH_STATES


class NoMatch(Exception):
    """A payout line's part does not match its order: ``state`` (a MATCH_STATES key) and why."""

    def __init__(self, state, reason):
        super().__init__(reason)
        self.state = state
        self.reason = reason


class OmsPayoutLine(models.Model):
    """One order of a payout: what the channel says (gross, fee, refund, net) and what matching found."""

    _name = "oms.payout.line"
    _check_company_auto = True
    _description = "Payout Line"
    _order = "payout_id, sequence, id"

    payout_id = fields.Many2one("oms.payout", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="payout_id.company_id", store=True)
    currency_id = fields.Many2one(related="payout_id.currency_id", store=True)
    payout_state = fields.Selection(related="payout_id.state", store=True, string="Payout Status")
    payout_date = fields.Date(related="payout_id.date", store=True, string="Payout Date")
    channel_id = fields.Many2one(related="payout_id.channel_id", store=True)
    external_id = fields.Char(string="Order ID", required=True, help="The order's id in the channel.")
    gross = fields.Monetary()
    fee = fields.Monetary()
    refund = fields.Monetary(help="What the channel paid back to the customer, deducted from this payout.")
    net = fields.Monetary(help="Gross - fee - refund.")
    order_id = fields.Many2one("sale.order", string="Order", readonly=True, index="btree_not_null", check_company=True)
    invoice_ids = fields.Many2many("account.move", string="Invoices", readonly=True, check_company=True)
    move_line_ids = fields.Many2many(
        "account.move.line",
        string="Cleared Items",
        readonly=True,
        help="The open items the payout clears.",
        check_company=True,
    )
    match_state = fields.Selection(MATCH_STATES, string="Match", readonly=True, default="unknown_order")
    reason = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.payout_id._check_editable()
        return lines

    def write(self, vals):
        self.payout_id._check_editable()
        result = super().write(vals)
        if "payout_id" in vals:
            self.payout_id._check_editable()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_if_draft(self):
        self.payout_id._check_editable()

    def _oms_match(self):
        """Match the lines to orders and their open items, in a bounded number of queries per payout."""
        for payout, lines in self.grouped("payout_id").items():
            lines._oms_match_payout(payout)

    def _oms_match_payout(self, payout):
        """Match the lines of one payout. The orders and their open items are read once for the whole payout
        (``_oms_match_index``), so that matching stays linear in the number of lines.

        A line has a gross part (the sale) and a refund part; settlement files often list them as separate rows,
        possibly in different payouts. Each part is checked on its own (``_oms_check``): the gross against the
        order's open invoice or channel payment ("already paid" when another posted payout settled the gross), the
        refund against the order's open credit note. Two rows with a gross (or two with a refund) for one order in
        the same payout are duplicates."""
        index = self._oms_match_index(payout)
        for line in self:
            line.write(line._oms_match_values(payout, index))

    def _oms_match_index(self, payout):
        """What matching the lines of ``payout`` reads, once: the orders by external id, what other posted payouts
        settled (gross and refund apart), each order's posted invoices and open items (invoice receivables, credit
        note receivables, channel payment outstanding lines); and the orders already seen on this payout."""
        AccountMoveLine = self.env["account.move.line"]
        orders = self.env["sale.order"].search(payout._order_domain(list(set(self.mapped("external_id")))))
        orders_by_ext = defaultdict(lambda: self.env["sale.order"])
        for order in orders:
            orders_by_ext[order.oms_external_id] |= order
        settled_gross, settled_refund = set(), set()
        for other in self.env["oms.payout.line"].search(
            [
                ("order_id", "in", orders.ids),
                ("payout_state", "=", "posted"),
                ("match_state", "=", "matched"),
                ("payout_id", "!=", payout.id),
            ]
        ):
            if not other.currency_id.is_zero(other.gross):
                settled_gross.add(other.order_id.id)
            if not other.currency_id.is_zero(other.refund):
                settled_refund.add(other.order_id.id)
        open_lines = defaultdict(list)  # move id -> open receivable line ids
        for aml in orders.invoice_ids.filtered(lambda m: m.state == "posted").line_ids:
            if aml.account_id.account_type == "asset_receivable" and not aml.reconciled:
                open_lines[aml.move_id.id].append(aml.id)
        for aml in orders.oms_payment_id.move_id.line_ids:
            if aml.account_id == aml.payment_id.outstanding_account_id and not aml.reconciled:
                open_lines[aml.move_id.id].append(aml.id)
        open_items, posted_invoices = {}, {}
        for order in orders:
            items = {
                "out_invoice": [],
                "out_refund": [],
                "payment": open_lines.get(order.oms_payment_id.move_id.id, []),
            }
            posted = order.invoice_ids.filtered(lambda m: m.state == "posted")
            for move in posted:
                if move.move_type in items:
                    items[move.move_type] += open_lines.get(move.id, [])
            open_items[order.id] = {key: AccountMoveLine.browse(ids) for key, ids in items.items()}
            posted_invoices[order.id] = posted
        return {
            "orders_by_ext": orders_by_ext,
            "settled_gross": settled_gross,
            "settled_refund": settled_refund,
            "open_items": open_items,
            "posted_invoices": posted_invoices,
            "seen_gross": set(),
            "seen_refund": set(),
        }

    def _oms_match_values(self, payout, index):
        """This line's write values: its order, invoices, the open items it clears and its match state."""
        self.ensure_one()
        currency = payout.currency_id
        vals = {"order_id": False}
        invoices, items = self.env["account.move"], self.env["account.move.line"]
        order = index["orders_by_ext"].get(self.external_id, self.env["sale.order"])
        try:
            if len(order) != 1:
                raise NoMatch(
                    "unknown_order",
                    self.env._("No order %(ext)s for this payout.", ext=self.external_id)
                    if not order
                    else self.env._("Several orders have the id %(ext)s.", ext=self.external_id),
                )
            vals["order_id"] = order.id
            invoices = index["posted_invoices"][order.id]
            items = self._oms_check(payout, order, index)
            if currency.compare_amounts(self.gross - self.fee - self.refund, self.net):
                raise NoMatch(
                    "net_differs",
                    self.env._(
                        "Net %(net)s is not gross - fee - refund (%(expected)s).",
                        net=self.net,
                        expected=currency.round(self.gross - self.fee - self.refund),
                    ),
                )
            state, reason = "matched", False
            if not currency.is_zero(self.gross):
                index["seen_gross"].add(order.id)
            if not currency.is_zero(self.refund):
                index["seen_refund"].add(order.id)
        except NoMatch as mismatch:
            state, reason, items = mismatch.state, mismatch.reason, self.env["account.move.line"]
        # Many2many commands only when they change: matching many unknown lines stays cheap.
        if invoices != self.invoice_ids:
            vals["invoice_ids"] = [fields.Command.set(invoices.ids)]
        if items != self.move_line_ids:
            vals["move_line_ids"] = [fields.Command.set(items.ids)]
        vals.update(match_state=state, reason=reason)
        return vals

    def _oms_check(self, payout, order, index):
        """The open items this line clears for ``order``: its gross part's and its refund part's.

        :raises NoMatch: the first check that fails, in this order: duplicate line, already settled, the gross,
            the refund
        """
        self.ensure_one()
        currency = payout.currency_id
        has_gross = not currency.is_zero(self.gross)
        has_refund = not currency.is_zero(self.refund)
        if (has_gross and order.id in index["seen_gross"]) or (has_refund and order.id in index["seen_refund"]):
            raise NoMatch(
                "duplicate", self.env._("Order %(ext)s is on another line of this payout.", ext=order.oms_external_id)
            )
        if has_gross and order.id in index["settled_gross"]:
            raise NoMatch("already_paid", self.env._("Another posted payout already settled this order."))
        if float_compare(self.gross, 0.0, precision_rounding=currency.rounding) < 0:
            raise NoMatch("amount_differs", self.env._("The gross of a line cannot be negative."))
        marketplace = payout.kind == "channel" and order.oms_channel_id.invoice_policy == "never"
        items = self.env["account.move.line"]
        if has_gross and not marketplace:
            items |= self._oms_check_gross(payout, order, index["open_items"][order.id])
        if marketplace and order.state != "sale":
            raise NoMatch("not_invoiced", self.env._("Order %(order)s is not a confirmed order.", order=order.name))
        if has_refund and not marketplace:
            items |= self._oms_check_refund(payout, order, index)
        return items

    def _oms_check_gross(self, payout, order, open_items):
        """The order's open invoice or channel payment items that the line's gross settles.

        :raises NoMatch: not invoiced, already paid, another currency, another amount
        """
        currency = payout.currency_id
        gross_items = open_items["out_invoice"] | open_items["payment"]
        if not gross_items:
            if not order.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice"):
                raise NoMatch("not_invoiced", self.env._("Order %(order)s has no posted invoice.", order=order.name))
            raise NoMatch(
                "already_paid", self.env._("The invoice of order %(order)s is already paid.", order=order.name)
            )
        if any(aml.currency_id != currency for aml in gross_items):
            raise NoMatch(
                "currency_differs",
                self.env._(
                    "Order %(order)s is in %(currency)s, the payout in %(payout)s.",
                    order=order.name,
                    currency=gross_items.currency_id[:1].name,
                    payout=currency.name,
                ),
            )
        expected = sum(gross_items.mapped("amount_residual_currency"))
        if currency.compare_amounts(expected, self.gross):
            raise NoMatch(
                "amount_differs",
                self.env._(
                    "Gross %(gross)s, but %(expected)s is open for order %(order)s.",
                    gross=self.gross,
                    expected=currency.round(expected),
                    order=order.name,
                ),
            )
        return gross_items

    def _oms_check_refund(self, payout, order, index):
        """The order's open credit note items that the line's refund settles.

        :raises NoMatch: no credit note (or already settled by another payout), another currency or amount
        """
        currency = payout.currency_id
        refund_items = index["open_items"][order.id]["out_refund"]
        if not refund_items:
            if order.id in index["settled_refund"]:
                raise NoMatch(
                    "already_paid", self.env._("Another posted payout already settled the refund of this order.")
                )
            raise NoMatch(
                "no_credit_note",
                self.env._("Order %(order)s has no open credit note for the refund.", order=order.name),
            )
        expected = -sum(refund_items.mapped("amount_residual_currency"))
        if any(aml.currency_id != currency for aml in refund_items) or currency.compare_amounts(expected, self.refund):
            raise NoMatch(
                "amount_differs",
                self.env._(
                    "Refund %(refund)s, but the open credit note of order %(order)s is %(expected)s.",
                    refund=self.refund,
                    expected=currency.round(expected),
                    order=order.name,
                ),
            )
        return refund_items
