"""How an intake's payload becomes ``sale.order`` values: the channel's pricelist, countries, products and
carrier mapped, one ``_prepare_*`` hook per part so that a glue module extends a line without copying the rest.
Each look-up is a ``search_fetch``: the records found and read in one query, not a search and then a read."""

from odoo import api, fields, models
from odoo.tools import float_compare, float_is_zero, float_round

from ..tools.payload import IntakeInvalid, parse_datetime
from .oms_intake import IntakeMappingError


class OmsIntake(models.Model):
    _inherit = "oms.intake"

    def _prepare_order_values(self, data):
        """``sale.order`` create values for a valid payload (its lines from ``_prepare_order_line_values`` and
        ``_prepare_shipping_line_values``, which a glue module can extend one line at a time).

        :raises IntakeMappingError: when something of the payload has no match in Odoo yet
        """
        self.ensure_one()
        channel = self.channel_id
        pricelist = self._map_pricelist(data.get("currency"))
        countries = self._map_countries(data)
        products = self._map_products([line["sku"] for line in data["lines"]])
        shipping = data.get("shipping") or {}
        carrier = self._map_carrier(shipping)
        customer, invoice_contact, delivery_contact = self.env["res.partner"]._oms_customer_contacts(
            data, countries, lang=channel.lang, company=channel.company_id
        )
        lines = [
            fields.Command.create(self._prepare_order_line_values(line, products[str(line["sku"]).strip()], index))
            for index, line in enumerate(data["lines"])
        ]
        if carrier:
            lines.append(fields.Command.create(self._prepare_shipping_line_values(carrier, shipping)))
        payment = data.get("payment") or {}
        placed_at = parse_datetime(str(data["placed_at"])) if data.get("placed_at") else self.received_at
        vals = {
            "partner_id": customer.id,
            "partner_invoice_id": invoice_contact.id,
            "partner_shipping_id": delivery_contact.id,
            "company_id": channel.company_id.id,
            "date_order": placed_at,
            "client_order_ref": self.channel_reference or self.external_id,
            "oms_channel_id": channel.id,
            "oms_external_id": self.external_id,
            "oms_intake_id": self.id,
            "oms_placed_at": placed_at,
            # Planned here, not written after the order's creation: one insert, no second write of the order.
            "oms_ship_by": self.env["sale.order"]._oms_plan_ship_by(channel, placed_at),
            "oms_confirm_by": self.env["sale.order"]._oms_plan_confirm_by(channel, placed_at),
            "oms_customer_note": data.get("note") or False,
            "oms_shipping_method": shipping.get("method") or False,
            "oms_gift_message": data.get("gift_message") or False,
            "oms_payment_status": payment.get("status") or False,
            "oms_payment_method": payment.get("method") or False,
            "oms_payment_reference": payment.get("reference") or False,
            "oms_payment_amount": payment.get("amount") or 0.0,
            "oms_channel_total": data.get("total") or 0.0,
            # Paid on the channel already: no online signature or payment asked on the portal.
            "require_signature": False,
            "require_payment": False,
            "order_line": lines,
        }
        if self.webhook_version:
            vals["oms_platform_version"] = self.webhook_version
        if pricelist is not None:
            vals["pricelist_id"] = pricelist.id
        if carrier:
            vals["carrier_id"] = carrier.id
        vals.update(channel._oms_order_defaults())
        return vals

    def _prepare_order_line_values(self, line, product, index):
        """``sale.order.line`` create values of the payload's line number ``index`` (``line``), sold as ``product``.

        :raises IntakeInvalid: a quantity the product's unit cannot count
        """
        self._check_quantity(line["quantity"], product, f"lines[{index}].quantity")
        vals = {"product_id": product.id, "product_uom_qty": line["quantity"]}
        if line.get("unit_price") is not None:
            vals["price_unit"] = line["unit_price"]
        if line.get("discount"):
            vals["discount"] = line["discount"]
        if line.get("name"):
            vals["name"] = line["name"]
        return vals

    def _prepare_shipping_line_values(self, carrier, shipping):
        """The delivery line's create values: the carrier's product at the price the channel charged."""
        return {
            "product_id": carrier.product_id.id,
            "name": carrier.name,
            "product_uom_qty": 1,
            "price_unit": shipping.get("price") or 0.0,
            "is_delivery": True,
        }

    def _map_carrier(self, shipping):
        """The carrier of the payload's shipping method (the channel's mapping), the channel's default carrier
        for a charged shipping without a method, or no carrier.

        :raises IntakeMappingError: a method the channel does not map
        """
        channel = self.channel_id
        if shipping.get("method"):
            carrier = channel._find_carrier(shipping["method"])
            if not carrier:
                raise IntakeMappingError(
                    "mapping_error",
                    self.env._(
                        "Shipping method “%(method)s” has no carrier on channel %(channel)s: map it "
                        "under the channel's Shipping Methods (or set a default carrier), then retry.",
                        method=shipping["method"],
                        channel=channel.name,
                    ),
                )
            return carrier
        if channel.default_carrier_id and shipping.get("price"):
            return channel.default_carrier_id
        return self.env["delivery.carrier"]

    @api.model
    def _check_quantity(self, quantity, product, field):
        """A quantity is positive in the product's unit precision, and within it (0.0001 mug is no order).

        :raises IntakeInvalid: naming ``field``
        """
        rounding = product.uom_id.rounding or 0.01
        rounded = float_round(quantity, precision_rounding=rounding)
        if float_is_zero(rounded, precision_rounding=rounding) or float_compare(
            rounded, quantity, precision_rounding=rounding / 1000
        ):
            raise IntakeInvalid(
                field,
                self.env._(
                    "%(field)s is %(quantity)s, but %(product)s is counted in steps of %(step)s %(unit)s: send a "
                    "quantity greater than 0 in those steps.",
                    field=field,
                    quantity=quantity,
                    product=product.display_name,
                    step=rounding,
                    unit=product.uom_id.name,
                ),
            )

    def _map_pricelist(self, code):
        """The pricelist for the payload's currency (``None``: let Odoo choose as usual)."""
        channel = self.channel_id
        if not code:
            return channel.pricelist_id if channel.pricelist_id else None
        code = code.upper()
        currency = self.env["res.currency"].with_context(active_test=False).search_fetch([("name", "=", code)], limit=1)
        if not currency:
            raise IntakeMappingError(
                "unknown_currency",
                self.env._("Currency “%(code)s” does not exist in Odoo: send an ISO 4217 code.", code=code),
            )
        if not currency.active:
            raise IntakeMappingError(
                "unknown_currency",
                self.env._(
                    "Currency %(code)s is not active: activate it in Accounting > Configuration > "
                    "Currencies, then retry.",
                    code=code,
                ),
            )
        if channel.pricelist_id.currency_id == currency:
            return channel.pricelist_id
        if not channel.pricelist_id and channel.currency_id == currency:
            return None
        pricelist = self.env["product.pricelist"].search(
            [("currency_id", "=", currency.id), ("company_id", "in", (False, channel.company_id.id))], limit=1
        )
        if not pricelist:
            raise IntakeMappingError(
                "unknown_currency",
                self.env._(
                    "Channel %(channel)s sells in %(channel_currency)s and Odoo has no pricelist in "
                    "%(code)s: create a pricelist in %(code)s, then retry.",
                    channel=channel.name,
                    channel_currency=channel.currency_id.name,
                    code=code,
                ),
            )
        return pricelist

    def _map_countries(self, data):
        """{country code: res.country} for the payload's addresses."""
        codes = {
            (data[key].get("country_code") or "").strip().upper()
            for key in ("shipping_address", "billing_address")
            if data.get(key)
        }
        countries = self.env["res.country"].search_fetch([("code", "in", list(codes))])
        found = {country.code: country for country in countries}
        missing = sorted(codes - set(found))
        if missing:
            raise IntakeMappingError(
                "unknown_country",
                self.env._(
                    "Unknown country code %(codes)s: use ISO 3166-1 alpha-2 codes such as US or DE.",
                    codes=", ".join(missing),
                ),
            )
        return found

    def _map_products(self, skus):
        """{sku: product.product}, by internal reference then barcode, active products only."""
        skus = {str(sku).strip() for sku in skus}
        company = self.channel_id.company_id
        Product = self.env["product.product"].with_context(active_test=False)
        company_domain = [("company_id", "in", (False, company.id))]
        found = {}
        for field in ("default_code", "barcode"):
            wanted = skus - set(found)
            if not wanted:
                break
            for product in Product.search_fetch(
                [(field, "in", list(wanted)), *company_domain], order="active desc, id"
            ):
                found.setdefault(product[field], product)
        unknown = sorted(skus - set(found))
        if unknown:
            raise IntakeMappingError(
                "unknown_sku",
                self.env._(
                    "No product has the internal reference or barcode %(skus)s: create the product or "
                    "set its internal reference to the channel's SKU, then retry.",
                    skus=", ".join(unknown),
                ),
            )
        inactive = sorted(sku for sku, product in found.items() if not product.active or not product.sale_ok)
        if inactive:
            raise IntakeMappingError(
                "inactive_product",
                self.env._(
                    "The product of SKU %(skus)s is archived or cannot be sold: restore it (or tick "
                    "“Sales”), then retry.",
                    skus=", ".join(inactive),
                ),
            )
        return found
