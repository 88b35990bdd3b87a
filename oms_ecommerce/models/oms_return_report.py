from odoo import fields, models, tools
from odoo.tools import SQL

from .rma import RETURN_REASONS


class OmsReturnReport(models.Model):
    """Return rates: items delivered by channel orders against items that came back through a return.

    One row per delivered move (reason empty) and one per received return (with its reason). The return
    rate of a group is its returned quantity over its delivered quantity, computed on the sums (see
    ``_read_group_select``), so that it is right per channel, per product and in total; per reason, the
    returned quantities tell which reasons weigh most."""

    _name = "oms.return.report"
    _description = "Return Rates"
    _auto = False
    _rec_name = "product_id"
    _depends = {
        "sale.order": ["oms_channel_id", "company_id"],
        "sale.order.line": ["order_id"],
        "stock.move": ["state", "quantity", "product_id", "sale_line_id", "location_dest_id", "date"],
        "rma": ["oms_channel_id", "product_id", "oms_reason", "company_id", "date", "product_uom_qty", "state"],
    }

    channel_id = fields.Many2one("oms.channel", string="Channel", readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    reason = fields.Selection(RETURN_REASONS, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Datetime(readonly=True)
    qty_delivered = fields.Float(string="Delivered", readonly=True, aggregator="sum")
    qty_returned = fields.Float(string="Returned", readonly=True, aggregator="sum")
    return_rate = fields.Float(string="Return Rate (%)", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT row_number() OVER (ORDER BY kind, src_id) AS id, channel_id, product_id, reason,
                           company_id, date, qty_delivered, qty_returned, 0.0 AS return_rate
                      FROM (
                        SELECT 1 AS kind, sm.id AS src_id, so.oms_channel_id AS channel_id, sm.product_id,
                               NULL::varchar AS reason, so.company_id, sm.date,
                               sm.quantity AS qty_delivered, 0.0 AS qty_returned
                          FROM stock_move sm
                          JOIN sale_order_line sol ON sol.id = sm.sale_line_id
                          JOIN sale_order so ON so.id = sol.order_id
                          JOIN stock_location dest ON dest.id = sm.location_dest_id
                         WHERE sm.state = 'done' AND dest.usage = 'customer' AND so.oms_channel_id IS NOT NULL
                        UNION ALL
                        SELECT 2, r.id, r.oms_channel_id, r.product_id, r.oms_reason, r.company_id, r.date,
                               0.0, r.product_uom_qty
                          FROM rma r
                         WHERE r.oms_channel_id IS NOT NULL
                           AND r.state NOT IN ('draft', 'confirmed', 'cancelled')
                      ) AS rows
                )
                """,
                SQL.identifier(self._table),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec.split(":")[0] == "return_rate":
            delivered = self._field_to_sql(self._table, "qty_delivered", query)
            returned = self._field_to_sql(self._table, "qty_returned", query)
            return SQL("ROUND((100.0 * SUM(%s) / NULLIF(SUM(%s), 0))::numeric, 2)::float", returned, delivered)
        return super()._read_group_select(aggregate_spec, query)
