from odoo import fields, models

from ..tools.xlsx import download_action, xlsx_workbook


class OmsAccountingReport(models.TransientModel):
    """XLSX exports for the accountant: orders not paid out yet, payout differences, margin per channel."""

    _name = "oms.accounting.report"
    _description = "OMS accounting XLSX reports"

    report = fields.Selection(
        [
            ("unpaid", "Channel orders not yet paid out"),
            ("payouts", "Payouts and their differences"),
            ("margin", "Margin per channel"),
        ],
        required=True,
        default="unpaid",
    )
    channel_ids = fields.Many2many("oms.channel", string="Channels", help="Empty: all channels.")
    date_from = fields.Date()
    date_to = fields.Date()

    def action_export(self):
        self.ensure_one()
        title, columns, rows = getattr(self, f"_rows_{self.report}")()
        return download_action(
            self.env, f"{title}.xlsx", xlsx_workbook(title, columns, rows, total_label=self.env._("Total"))
        )

    def _date_domain(self, field):
        domain = []
        if self.date_from:
            domain.append((field, ">=", self.date_from))
        if self.date_to:
            domain.append((field, "<=", self.date_to))
        return domain

    def _rows_unpaid(self):
        _ = self.env._
        domain = [("oms_channel_id", "!=", False), ("state", "=", "sale"), ("oms_paid_out", "=", False)]
        if self.channel_ids:
            domain.append(("oms_channel_id", "in", self.channel_ids.ids))
        domain += self._date_domain("date_order")
        orders = self.env["sale.order"].search(domain, order="oms_channel_id, date_order, id")
        columns = [
            (_("Channel"), "text"),
            (_("Order"), "text"),
            (_("Channel Order ID"), "text"),
            (_("Date"), "text"),
            (_("Customer"), "text"),
            (_("Payment"), "text"),
            (_("Currency"), "text"),
            (_("Total"), "money"),
            (_("Invoiced"), "money"),
            (_("Open on Invoices"), "money"),
        ]
        payment = dict(orders._fields["oms_payment_status"]._description_selection(self.env))
        rows = []
        for order in orders:
            invoices = order.invoice_ids.filtered(lambda m: m.state == "posted")
            rows.append(
                [
                    order.oms_channel_id.name,
                    order.name,
                    order.oms_external_id,
                    fields.Date.to_string(order.date_order.date()),
                    order.partner_id.name,
                    payment.get(order.oms_payment_status, ""),
                    order.currency_id.name,
                    order.amount_total,
                    sum(m.amount_total * (-1 if m.move_type == "out_refund" else 1) for m in invoices),
                    sum(m.amount_residual * (-1 if m.move_type == "out_refund" else 1) for m in invoices),
                ]
            )
        return _("Orders not paid out"), columns, rows

    def _rows_payouts(self):
        _ = self.env._
        domain = self._date_domain("payout_date")
        if self.channel_ids:
            domain.append(("channel_id", "in", self.channel_ids.ids))
        lines = self.env["oms.payout.line"].search(domain, order="payout_date, payout_id, sequence, id")
        states = dict(lines._fields["match_state"]._description_selection(self.env))
        columns = [
            (_("Payout"), "text"),
            (_("Reference"), "text"),
            (_("Date"), "text"),
            (_("Partner"), "text"),
            (_("Status"), "text"),
            (_("Channel Order ID"), "text"),
            (_("Order"), "text"),
            (_("Currency"), "text"),
            (_("Gross"), "money"),
            (_("Fee"), "money"),
            (_("Refund"), "money"),
            (_("Net"), "money"),
            (_("Match"), "text"),
            (_("Difference"), "text"),
        ]
        rows = [
            [
                line.payout_id.name,
                line.payout_id.reference,
                fields.Date.to_string(line.payout_date),
                line.payout_id.partner_id.name,
                line.payout_state,
                line.external_id,
                line.order_id.name,
                line.currency_id.name,
                line.gross,
                line.fee,
                line.refund,
                line.net,
                states.get(line.match_state, ""),
                line.reason,
            ]
            for line in lines
        ]
        return _("Payouts"), columns, rows

    def _rows_margin(self):
        _ = self.env._
        domain = self._date_domain("month")
        if self.channel_ids:
            domain.append(("channel_id", "in", self.channel_ids.ids))
        records = self.env["oms.channel.margin"].search(domain, order="channel_id, month")
        columns = [
            (_("Channel"), "text"),
            (_("Month"), "text"),
            (_("Currency"), "text"),
            (_("Revenue"), "money"),
            (_("Shipping Charged"), "money"),
            (_("Fees"), "money"),
            (_("Margin"), "money"),
        ]
        rows = [
            [
                rec.channel_id.name,
                fields.Date.to_string(rec.month)[:7],
                rec.currency_id.name,
                rec.revenue,
                rec.shipping,
                rec.fees,
                rec.margin,
            ]
            for rec in records
        ]
        return _("Margin per channel"), columns, rows
