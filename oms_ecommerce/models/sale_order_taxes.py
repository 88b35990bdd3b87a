from odoo import models
from odoo.tools import float_compare, float_repr


class SaleOrder(models.Model):
    """The amount the customer was told is the amount.

    A channel's prices include tax or not (the payload's ``taxes_included``). Odoo chooses each line's taxes
    as usual (the product's taxes, through the order's fiscal position: the channel's when it has one). When
    a line's taxes do not price the way the channel does, its unit price is converted with Odoo's tax engine
    so that the line costs what the channel said. The created order's total is then compared with the
    channel's ``total``: an order that differs by more than one cent is put on hold with both amounts.
    """

    _inherit = "sale.order"

    def _oms_apply_channel_prices(self, taxes_included, lines=None):
        """Make the unit prices of ``self`` mean what the channel's prices mean.

        :param taxes_included: whether the channel's unit and shipping prices include tax
        :param lines: only these lines (the ones a channel's update added), not every line of the orders
        """
        for order in self:
            converted = []
            order_lines = order.order_line if lines is None else order.order_line & lines
            for line in order_lines.filtered(lambda sol: not sol.display_type and sol.tax_ids):
                taxes = line.tax_ids
                if all(tax.price_include == taxes_included for tax in taxes):
                    continue  # Odoo reads the price as the channel meant it
                price_unit = line._oms_price_unit_for_taxes(line.price_unit, taxes_included)
                if order.currency_id.compare_amounts(price_unit, line.price_unit):
                    converted.append((line, line.price_unit, price_unit))
                    line.price_unit = price_unit
            if converted:
                digits = order.currency_id.decimal_places
                lines = ", ".join(
                    f"{line.product_id.display_name} ({float_repr(old, digits)} → {float_repr(new, digits)})"
                    for line, old, new in converted
                )
                if taxes_included:
                    body = self.env._(
                        "The channel's prices include tax, the taxes of %(lines)s do not: their unit prices were "
                        "converted to prices without tax. To keep the channel's prices on the order, give the "
                        "channel a fiscal position that maps these taxes to price-included ones.",
                        lines=lines,
                    )
                else:
                    body = self.env._(
                        "The channel's prices exclude tax, the taxes of %(lines)s are included in the price: their "
                        "unit prices were converted.",
                        lines=lines,
                    )
                order._message_log(body=body)

    def _oms_check_channel_total(self, total):
        """Hold the order when its total differs from the channel's ``total`` by more than one cent.

        :param total: what the customer paid or must pay on the channel (``None``: the channel did not say)
        :return: whether the order was put on hold
        """
        self.ensure_one()
        if total is None:
            return False
        currency = self.currency_id
        difference = abs(self.amount_total - total)
        if float_compare(difference, currency.rounding, precision_rounding=currency.rounding) <= 0:
            return False
        self._oms_hold(
            self.env._(
                "The channel's total %(channel_total)s differs from the order's total %(order_total)s "
                "(%(difference)s). Check the prices, taxes and shipping against the channel, and release the "
                "order only once the customer pays, is invoiced and collected from the amount they were told.",
                channel_total=self._oms_format_amount(total),
                order_total=self._oms_format_amount(self.amount_total),
                difference=self._oms_format_amount(self.amount_total - total),
            )
        )
        return True

    def _oms_format_amount(self, amount):
        """``29.99 USD``: an amount as the order desk compares it with the channel's back office."""
        self.ensure_one()
        currency = self.currency_id
        return f"{float_repr(currency.round(amount), currency.decimal_places)} {currency.name}"


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _oms_price_unit_for_taxes(self, price, taxes_included):
        """The unit price that makes Odoo charge what the channel's ``price`` means with this line's taxes.

        As ``account.tax._fix_tax_included_price`` does for a fiscal position: take the channel's taxes out
        (or none, for a tax-excluded price), then add back those of the line's taxes that are price-included.
        """
        self.ensure_one()
        taxes = self.tax_ids
        common = {"rounding_method": "round_globally", "product": self.product_id, "product_uom": self.product_uom_id}
        net = taxes._get_tax_details(
            price, 1.0, special_mode="total_included" if taxes_included else "total_excluded", **common
        )["total_excluded"]
        details = taxes._get_tax_details(net, 1.0, special_mode="total_excluded", **common)
        return net + sum(data["tax_amount"] for data in details["taxes_data"] if data["tax"].price_include)
