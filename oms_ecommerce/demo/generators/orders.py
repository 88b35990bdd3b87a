import random
from datetime import timedelta

from odoo import fields

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


class OrdersDemo:
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
        payload = {
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
        if currency == "EUR":
            # The EU shop's prices include VAT: the customer pays exactly the prices shown, as the channel says.
            payload["taxes_included"] = True
            payload["total"] = round(
                sum(line["quantity"] * line["unit_price"] * (1 - line["discount"] / 100) for line in lines)
                + payload["shipping"]["price"],
                2,
            )
        return payload

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
                placed_at = now - timedelta(hours=rnd.randint(0, 20), minutes=rnd.randint(0, 59))
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
        # The merchant already confirmed the older half of the paid orders...
        orders = self.env["sale.order"].search(
            [("oms_channel_id", "!=", False), ("state", "=", "draft"), ("oms_payment_status", "=", "paid")],
            order="oms_placed_at",
        )
        confirmed = orders[: len(orders) // 2]
        # ... and two cash-on-delivery orders, whose labels carry the amount to collect.
        cod = self.env["sale.order"].search(
            [("oms_channel_id", "!=", False), ("state", "=", "draft"), ("oms_payment_status", "=", "cod")],
            order="oms_placed_at",
            limit=2,
        )
        confirmed |= cod
        confirmed.action_confirm()
        self._advance(confirmed, orders[len(orders) // 2 :])

    def _pack(self, picking, rnd, index, tracked):
        """Pack a demo delivery as a packer would: weighed within the tolerance, big orders in two boxes."""
        ref = self.env.ref
        lines = [(ml, ml.quantity) for ml in picking.move_line_ids if ml.quantity]
        groups = [lines[: len(lines) // 2], lines[len(lines) // 2 :]] if len(lines) > 2 else [lines]
        parcels = []
        for number, group in enumerate(groups, start=1):
            box = ref("oms_ecommerce.package_type_box_m" if len(group) > 1 else "oms_ecommerce.package_type_box_s")
            expected = picking._oms_check_parcel(group, box, 0.0)["expected"]
            parcels.append(
                {
                    "lines": group,
                    "package_type": box,
                    "weight": round(expected * rnd.uniform(0.97, 1.03), 2),
                    "tracking_ref": f"1Z{picking.id:05d}{index:02d}{number}DEMO" if tracked else False,
                }
            )
        picking._oms_pack(parcels)

    def _advance(self, confirmed, received):
        """Move some demo orders further, so that the order desk shows every step."""
        confirmed = confirmed.sorted("oms_placed_at")
        to_ship, to_pack, to_delay = confirmed[:6], confirmed[6:9], confirmed[9:10]
        cod = confirmed.filtered(lambda o: o.oms_payment_status == "cod")
        to_ship |= cod[:1]
        to_pack |= cod[1:]
        rnd = random.Random(7)
        for index, order in enumerate(to_ship | to_pack):
            picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state == "assigned")
            if picking:
                self._pack(picking[0], rnd, index, tracked=order in to_ship)
        for order in to_ship:
            picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
            for move in picking.move_ids:
                if move.quantity != move.product_uom_qty:
                    move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            picking.with_context(skip_sms=True).button_validate()
        to_ship[:2].action_oms_mark_delivered()
        returned = to_ship[2:3]
        if returned:
            wizard = (
                self.env["stock.return.picking"]
                .with_context(
                    active_ids=returned.picking_ids.ids, active_id=returned.picking_ids.id, active_model="stock.picking"
                )
                .create({})
            )
            for line in wizard.product_return_moves:
                line.quantity = line.move_id.quantity
            return_picking = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
            for move in return_picking.move_ids:
                move.quantity = move.product_uom_qty
            return_picking.move_ids.picked = True
            return_picking.button_validate()
        if to_delay:
            to_delay.oms_ship_by = fields.Datetime.now() - timedelta(hours=2)
            self.env["sale.order"]._cron_oms_detect_delays()
        if len(received) > 2:
            received[:1]._oms_hold("Address incomplete: call the customer to check the flat number.")
            received[1:2]._action_cancel()
        # The orders still to confirm have waited: their reminders, as the scheduled action makes them.
        received.filtered(lambda o: o.state in ("draft", "sent") and not o.oms_hold)._oms_remind_to_confirm()
        self.env["oms.order.step"]._oms_notify_pending()  # the customer emails, as the queue jobs would
