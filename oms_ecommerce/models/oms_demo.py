import random
from datetime import timedelta

from odoo import api, fields, models

CUSTOMERS = [
    ("Ann Lee", "ann.lee@example.com", "+1 555 0100", "1 Main St", "Springfield", "62701", "IL", "US"),
    ("Marcus Webb", "marcus.webb@example.com", "+1 555 0131", "742 Evergreen Terrace", "Portland", "97201", "OR", "US"),
    ("Priya Nair", "priya.nair@example.com", "+1 555 0177", "88 Harbor Ave", "Boston", "02110", "MA", "US"),
    (
        "Diego Alvarez",
        "diego.alvarez@example.com",
        "+1 555 0190",
        "415 Mission St",
        "San Francisco",
        "94105",
        "CA",
        "US",
    ),
    ("Hannah Schmidt", "hannah.schmidt@example.de", "+49 30 1234567", "Torstraße 12", "Berlin", "10119", "", "DE"),
    ("Lukas Bauer", "lukas.bauer@example.de", "+49 89 7654321", "Leopoldstraße 40", "München", "80802", "", "DE"),
    (
        "Camille Martin",
        "camille.martin@example.fr",
        "+33 1 42 68 53 00",
        "12 Rue de Rivoli",
        "Paris",
        "75004",
        "",
        "FR",
    ),
    ("Sofia Rossi", "sofia.rossi@example.it", "+39 06 1234 5678", "Via del Corso 101", "Roma", "00186", "", "IT"),
    (
        "Pieter de Vries",
        "pieter.devries@example.nl",
        "+31 20 555 0101",
        "Prinsengracht 263",
        "Amsterdam",
        "1016 GV",
        "",
        "NL",
    ),
    ("Laura García", "laura.garcia@example.es", "+34 91 555 0101", "Calle Mayor 5", "Madrid", "28013", "", "ES"),
    (
        "Oliver Brown",
        "oliver.brown@example.co.uk",
        "+44 20 7946 0018",
        "221B Baker Street",
        "London",
        "NW1 6XE",
        "",
        "GB",
    ),
    ("Emma Wilson", "emma.wilson@example.ca", "+1 416 555 0142", "100 Queen St W", "Toronto", "M5H 2N2", "ON", "CA"),
]
SKUS = [
    "MUG-01",
    "TEAPOT-02",
    "TEA-GRN-100",
    "TEA-BLK-250",
    "INF-STEEL",
    "KETTLE-GN1",
    "CUPS-4",
    "TRAY-BMB",
    "MATCHA-30",
    "WHISK-BMB",
    "GIFT-BOX",
]
NOTES = ["", "", "", "Leave at the door", "Please ring twice", "Deliver to the neighbour if absent"]
GIFTS = ["", "", "", "", "Happy birthday, Mum! Love, Sam", "Congratulations on the new home!"]


class OmsDemo(models.AbstractModel):
    _name = "oms.demo"
    _description = "OMS demo data generator"

    @api.model
    def _payload(self, rnd, external_id, customer, placed_at, currency, shipping_methods, payment_status):
        name, email, phone, street, city, zip_code, state, country = customer
        lines = []
        for sku in rnd.sample(SKUS, rnd.randint(1, 3)):
            product = self.env["product.product"].search([("default_code", "=", sku)], limit=1)
            price = product.list_price * (0.92 if currency == "EUR" else 1.0)
            lines.append(
                {
                    "sku": sku,
                    "quantity": rnd.randint(1, 3),
                    "unit_price": round(price, 2),
                    "discount": rnd.choice([0, 0, 0, 10]),
                }
            )
        return {
            "external_id": external_id,
            "placed_at": placed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "currency": currency,
            "customer": {"email": email, "name": name, "phone": phone},
            "shipping_address": {
                "name": name,
                "street": street,
                "street2": "",
                "city": city,
                "zip": zip_code,
                "state_code": state,
                "country_code": country,
                "phone": phone,
            },
            "lines": lines,
            "shipping": {"method": rnd.choice(shipping_methods), "price": rnd.choice([0.0, 4.99, 9.9])},
            "payment": {
                "status": payment_status,
                "method": "card" if payment_status == "paid" else "cod",
                "reference": f"ch_{external_id}",
            },
            "note": rnd.choice(NOTES),
            "gift_message": rnd.choice(GIFTS),
        }

    @api.model
    def _generate_orders(self):
        """Push some forty realistic orders through the intake, as the channels would."""
        rnd = random.Random(42)
        ref = self.env.ref
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        for product in self.env["product.product"].search([("default_code", "in", SKUS)]):
            self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 120)
        now = fields.Datetime.now()
        channels = [
            (ref("oms_ecommerce.channel_shop_us"), "USD", ["standard", "express"], CUSTOMERS[:4] + CUSTOMERS[11:]),
            (ref("oms_ecommerce.channel_shop_eu"), "EUR", ["standard", "express"], CUSTOMERS[4:11]),
            (ref("oms_ecommerce.channel_marketplace"), "USD", ["std", "prime"], CUSTOMERS),
        ]
        Intake = self.env["oms.intake"]
        number = 1000
        for channel, currency, methods, customers in channels:
            payloads = []
            for i in range(13):
                number += 1
                placed_at = now - timedelta(hours=rnd.randint(1, 96), minutes=rnd.randint(0, 59))
                status = "cod" if i % 6 == 5 else "paid"
                payloads.append(
                    self._payload(
                        rnd,
                        f"{channel.code.upper()}-{number}",
                        rnd.choice(customers),
                        placed_at,
                        currency,
                        methods,
                        status,
                    )
                )
            Intake._receive(channel, payloads, source="demo")
        # A few orders the order desk has to fix: each intake error kind once.
        bad = self._payload(rnd, "SHOP-US-2001", CUSTOMERS[0], now, "USD", ["standard"], "paid")
        bad["lines"][0]["sku"] = "MUG-BLUE-XL"
        bad2 = self._payload(rnd, "SHOP-US-2002", CUSTOMERS[1], now, "USD", ["standard"], "paid")
        bad2["shipping_address"]["country_code"] = "XX"
        bad3 = self._payload(rnd, "MKT-2003", CUSTOMERS[2], now, "USD", ["same-day"], "paid")
        bad4 = self._payload(rnd, "MKT-2004", CUSTOMERS[3], now, "USD", ["std"], "paid")
        bad4["lines"][0]["sku"] = "MUG-OLD"
        Intake._receive(ref("oms_ecommerce.channel_shop_us"), [bad, bad2], source="demo")
        Intake._receive(ref("oms_ecommerce.channel_marketplace"), [bad3, bad4], source="demo")
        # The merchant already confirmed the older half of the paid orders.
        orders = self.env["sale.order"].search(
            [("oms_channel_id", "!=", False), ("state", "=", "draft"), ("oms_payment_status", "=", "paid")],
            order="oms_placed_at",
        )
        orders[: len(orders) // 2].action_confirm()
