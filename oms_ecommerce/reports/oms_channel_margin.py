from odoo import fields, models, tools
from odoo.tools import SQL


class OmsChannelMargin(models.Model):
    """Revenue, shipping charged and payout fees of channel orders, per channel and month (SQL view)."""

    _name = "oms.channel.margin"
    _description = "Channel Margin"
    _auto = False
    _order = "month desc, channel_id"
    _depends = {
        "oms.payout": ["state", "currency_id"],
        "oms.payout.line": ["payout_id", "order_id", "fee", "match_state"],
        "sale.order": ["oms_channel_id", "company_id", "currency_id", "date_order", "state"],
        "sale.order.line": ["order_id", "price_subtotal", "is_delivery", "display_type"],
    }

    channel_id = fields.Many2one("oms.channel", string="Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    month = fields.Date(readonly=True)
    revenue = fields.Monetary(readonly=True, help="Untaxed amount of the products of confirmed orders.")
    shipping = fields.Monetary(string="Shipping Charged", readonly=True, help="Untaxed delivery lines.")
    fees = fields.Monetary(readonly=True, help="Fees of the matched lines of posted payouts and COD remittances.")
    margin = fields.Monetary(readonly=True, help="Revenue + shipping charged - fees.")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                SELECT row_number() OVER (ORDER BY x.channel_id, x.month, x.currency_id) AS id,
                       x.channel_id, x.company_id, x.currency_id, x.month,
                       SUM(x.revenue) AS revenue, SUM(x.shipping) AS shipping, SUM(x.fees) AS fees,
                       SUM(x.revenue) + SUM(x.shipping) - SUM(x.fees) AS margin
                  FROM (
                        SELECT so.oms_channel_id AS channel_id, so.company_id, so.currency_id,
                               date_trunc('month', so.date_order)::date AS month,
                               CASE WHEN sol.is_delivery THEN 0 ELSE sol.price_subtotal END AS revenue,
                               CASE WHEN sol.is_delivery THEN sol.price_subtotal ELSE 0 END AS shipping,
                               0 AS fees
                          FROM sale_order_line sol
                          JOIN sale_order so ON so.id = sol.order_id
                         WHERE so.oms_channel_id IS NOT NULL AND so.state = 'sale' AND sol.display_type IS NULL
                        UNION ALL
                        SELECT so.oms_channel_id, so.company_id, p.currency_id,
                               date_trunc('month', so.date_order)::date,
                               0, 0, pl.fee
                          FROM oms_payout_line pl
                          JOIN oms_payout p ON p.id = pl.payout_id
                          JOIN sale_order so ON so.id = pl.order_id
                         WHERE p.state = 'posted' AND pl.match_state = 'matched'
                  ) x
              GROUP BY x.channel_id, x.company_id, x.currency_id, x.month
            )
            """,
                SQL.identifier(self._table),
            )
        )
