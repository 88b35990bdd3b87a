# Longer than ~400 lines on purpose: what a platform's edit, cancellation or refund does to an existing order
# (lines, delivery, hold, draft credit note) is one set of rules, applied and tested together
# (tests/test_platform_edits.py).
import json
from decimal import Decimal

import psycopg2.errors
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain

# Steps at which the delivery is packed or gone: the channel's changes no longer reach the parcel silently.
PACKED_STEPS = ("packed", "shipped", "delivered", "returned")
BILLING_GROUP = "account.group_account_invoice"


def _bullets(title, items):
    return Markup("%s<ul>%s</ul>") % (title, Markup().join(Markup("<li>%s</li>") % item for item in items))


class SaleOrder(models.Model):
    """What a platform's webhooks change on an order already received (Shopify, WooCommerce).

    Until the delivery is packed, the shipping and billing address, the customer's note, the payment status and
    the lines follow the channel: lines through Odoo's own order editing (a confirmed order's quantities are
    written on its lines, removed lines go to 0, new lines are added), so that the delivery follows; one note
    lists what changed and the channel's new total is checked again. Once packed (or on a locked order),
    nothing changes silently: the desk gets an activity listing what the channel changed.

    A refund made on the channel is recorded on the order once (by the platform's refund id). Where the order
    has a posted invoice, a draft credit note of the refunded lines and shipping, for the amount refunded, is
    prepared for the accountant to check and post; not for a refund Odoo pushed (a return's credit note).
    """

    _inherit = "sale.order"

    oms_platform_version = fields.Datetime(
        string="Platform Version",
        readonly=True,
        copy=False,
        help="When the platform last updated the order this order was last updated from (Shopify updated_at, "
        "WooCommerce date_modified_gmt). An older webhook is kept on its intake, not applied.",
    )
    oms_platform_refund_ids = fields.Char(
        string="Channel Refunds Recorded",
        readonly=True,
        copy=False,
        help="The channel's ids of the refunds recorded on this order (space separated): each is recorded once.",
    )

    # ------------------------------------------------------------------
    # Updates
    # ------------------------------------------------------------------
    def _oms_packed_or_gone(self):
        """Whether the order's delivery is packed (or shipped): from then on the channel changes nothing silently."""
        self.ensure_one()
        outgoing = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and not p.return_id)
        return self.oms_step in PACKED_STEPS or any(
            p.state == "done" or (p.state != "cancel" and p._oms_is_packed()) for p in outgoing
        )

    def _oms_apply_platform_update(self, data, cancelled, intake):
        """Apply a platform's newer version of this order (an order of API.md, already validated), then record
        the refunds it lists (WooCommerce's ``refunds``).

        :param cancelled: the signed body says the order is cancelled
        :return: a summary for the intake's chatter
        :raises IntakeMappingError: a line's SKU has no product (nothing is applied)
        """
        self.ensure_one()
        summaries = [self._oms_apply_platform_changes(data, cancelled, intake)]
        for refund in data.get("refunds") or []:
            summaries.append(self._oms_record_platform_refund(refund))
        return "; ".join(summary for summary in summaries if summary)

    def _oms_apply_platform_changes(self, data, cancelled, intake):
        self.ensure_one()
        if cancelled:
            return self._oms_platform_cancel()
        if self.state == "cancel":
            return self.env._(
                "Order %(order)s is cancelled here and not cancelled on the channel: nothing applied.", order=self.name
            )
        updates, changes = self._oms_platform_header_changes(data, intake)
        total = data.get("total")
        new_total = total is not None and self.currency_id.compare_amounts(total, self.oms_channel_total)
        if new_total:
            changes.append(self.env._("Channel total: %(new)s", new=self._oms_format_amount(total)))
        packed = self._oms_packed_or_gone()
        if packed or self.locked:
            return self._oms_platform_changes_too_late(data, changes, packed)
        # Every SKU is mapped before anything is written: an unknown one leaves the order as it was.
        plan = self._oms_plan_line_changes(data["lines"], intake)
        became_paid = updates.get("oms_payment_status") == "paid"
        if updates:
            # The delivery (not packed yet) goes to the new address too: its label is printed from it.
            self.with_context(update_delivery_shipping_partner=True).write(updates)
        if new_total:
            self.check_access("write")
            self.sudo().oms_channel_total = total  # kept by the system only: the signed channel's own order
        changes += self._oms_apply_line_plan(plan, bool(data.get("taxes_included")))
        if changes:
            self.message_post(
                body=_bullets(self.env._("Updated from the channel:"), changes), subtype_xmlid="mail.mt_note"
            )
        if total is not None and not self.oms_hold:
            self._oms_check_channel_total(total)
        if became_paid:
            self._oms_on_paid_on_channel()
        if not changes:
            return self.env._("Nothing changed on order %(order)s.", order=self.name)
        return "; ".join(changes)

    def _oms_platform_header_changes(self, data, intake):
        """What the channel changed outside the lines and the total (addresses, note, payment).

        :return: (the values to write on the order, a description of each change)
        """
        countries = intake._map_countries(data)
        _customer, invoice, delivery = self.env["res.partner"]._oms_customer_contacts(
            data, countries, lang=self.oms_channel_id.lang, company=self.company_id
        )
        payment = data.get("payment") or {}
        updates, changes = {}, []
        if delivery != self.partner_shipping_id:
            updates["partner_shipping_id"] = delivery.id
            changes.append(self.env._("Shipping address: %(new)s", new=delivery._display_address(without_company=True)))
        if invoice != self.partner_invoice_id:
            updates["partner_invoice_id"] = invoice.id
            changes.append(self.env._("Billing address: %(new)s", new=invoice._display_address(without_company=True)))
        if (data.get("note") or False) != (self.oms_customer_note or False):
            updates["oms_customer_note"] = data.get("note") or False
            changes.append(self.env._("Customer note: %(new)s", new=data.get("note") or self.env._("(none)")))
        if payment.get("status") and payment["status"] != self.oms_payment_status:
            updates["oms_payment_status"] = payment["status"]
            if payment.get("method"):
                updates["oms_payment_method"] = payment["method"]
            if payment.get("reference"):
                updates["oms_payment_reference"] = payment["reference"]
            changes.append(self.env._("Payment: %(new)s", new=payment["status"]))
        return updates, changes

    def _oms_platform_changes_too_late(self, data, changes, packed):
        """A packed or locked order is not changed: an activity lists what the channel changed."""
        line_changes = self._oms_line_changes(data["lines"])
        if not (changes or line_changes):
            return self.env._("Nothing changed on order %(order)s.", order=self.name)
        if packed:
            summary = self.env._("The channel changed order %(order)s after it was packed", order=self.name)
        else:
            summary = self.env._("The channel changed order %(order)s, which is locked", order=self.name)
        self._oms_platform_activity(summary, changes + line_changes)
        return self.env._("%(reason)s: nothing applied, an activity lists the changes.", reason=summary)

    def _oms_product_lines(self):
        """The order's product lines (no section, note, shipping or down payment)."""
        self.ensure_one()
        return self.order_line.filtered(
            lambda sol: sol.product_id and not sol.display_type and not sol.is_delivery and not sol.is_downpayment
        )

    def _oms_line_changes(self, lines):
        """What differs between the order's product lines and a payload's: [text]."""
        self.ensure_one()
        ours = {}
        for line in self._oms_product_lines():
            key = line.product_id.default_code or line.product_id.barcode or line.product_id.display_name
            ours[key] = ours.get(key, 0) + line.product_uom_qty
        theirs = {}
        for line in lines:
            sku = str(line["sku"]).strip()
            theirs[sku] = theirs.get(sku, 0) + line["quantity"]
        return [
            self.env._(
                "Line %(sku)s: quantity %(old)s → %(new)s",
                sku=sku,
                old=f"{ours.get(sku, 0):g}",
                new=f"{theirs.get(sku, 0):g}",
            )
            for sku in sorted(set(ours) | set(theirs))
            if ours.get(sku, 0) != theirs.get(sku, 0)
        ]

    def _oms_plan_line_changes(self, lines, intake):
        """How the order's lines must change to be the payload's, by product (SKUs mapped as intake maps them).

        :return: [(sku, sale lines (empty for a new product), product, old quantity, new quantity, payload line)]
        :raises IntakeMappingError: a SKU has no product, or its product is archived (naming the SKU)
        :raises IntakeInvalid: a quantity is not in its product's unit steps (naming the line)
        """
        self.ensure_one()
        products = intake._map_products([line["sku"] for line in lines])
        wanted = {}
        for index, line in enumerate(lines):
            sku = str(line["sku"]).strip()
            product = products[sku]
            intake._check_quantity(line["quantity"], product, f"lines[{index}].quantity")
            entry = wanted.setdefault(product, {"sku": sku, "quantity": 0, "line": line})
            entry["quantity"] += line["quantity"]
        plan = []
        for product, sale_lines in self._oms_product_lines().grouped("product_id").items():
            entry = wanted.pop(product, None)
            old = sum(sale_lines.mapped("product_uom_qty"))
            new = entry["quantity"] if entry else 0
            if sale_lines[0].product_uom_id.compare(old, new):
                sku = entry["sku"] if entry else (product.default_code or product.barcode or product.display_name)
                plan.append((sku, sale_lines, product, old, new, entry and entry["line"]))
        for product, entry in wanted.items():
            plan.append((entry["sku"], self.env["sale.order.line"], product, 0, entry["quantity"], entry["line"]))
        return sorted(plan, key=lambda step: step[0])

    def _oms_apply_line_plan(self, plan, taxes_included):
        """Edit the order's lines as Odoo's order editing does: on a confirmed order, quantities are written on
        the lines (a removed line goes to 0) and new lines are added, and ``sale_stock`` makes the delivery follow.
        New lines get the channel's price, with the same tax handling as intake.

        :return: [text] of the changes
        """
        self.ensure_one()
        SaleLine = self.env["sale.order.line"].with_context(sale_no_log_for_new_lines=True)
        added = SaleLine
        changes = []
        sequence = max(self.order_line.mapped("sequence") or [10])
        for sku, sale_lines, product, old, new, line in plan:
            if not sale_lines:
                sequence += 1
                vals = {"order_id": self.id, "product_id": product.id, "product_uom_qty": new, "sequence": sequence}
                if line.get("unit_price") is not None:
                    vals["price_unit"] = line["unit_price"]
                if line.get("discount"):
                    vals["discount"] = line["discount"]
                if line.get("name"):
                    vals["name"] = line["name"]
                added |= SaleLine.create(vals)
                changes.append(self.env._("Line %(sku)s added: quantity %(new)s", sku=sku, new=f"{new:g}"))
                continue
            if not new and self.state != "sale":
                sale_lines.unlink()  # a quotation's line simply goes
            else:
                first, others = sale_lines[0], sale_lines[1:]
                others.filtered("product_uom_qty").write({"product_uom_qty": 0})
                # The price and discount stay those of the order: a new quantity must not reprice the line.
                first.write({"product_uom_qty": new, "price_unit": first.price_unit, "discount": first.discount})
            if new:
                changes.append(
                    self.env._("Line %(sku)s: quantity %(old)s → %(new)s", sku=sku, old=f"{old:g}", new=f"{new:g}")
                )
            else:
                changes.append(self.env._("Line %(sku)s removed (quantity %(old)s → 0)", sku=sku, old=f"{old:g}"))
        if added:
            self._oms_apply_channel_prices(taxes_included, lines=added)
        return changes

    def _oms_on_paid_on_channel(self):
        """The channel reports a later payment: the confirmation policy acts on it as on a paid order received."""
        self.ensure_one()
        if self.state in ("draft", "sent") and not self.oms_hold and self._oms_confirm_automatically():
            self._oms_confirm_safely()

    def _oms_platform_cancel(self):
        """The channel cancelled (or deleted, or refunded) the order: cancel it unless it shipped, else tell the
        desk. :return: a summary for the intake"""
        self.ensure_one()
        if self.state == "cancel":
            return self.env._("Order %(order)s was already cancelled.", order=self.name)
        try:
            with self.env.cr.savepoint():
                self._oms_cancel_from_channel()
        except UserError as exc:
            self._oms_platform_activity(
                self.env._("The channel cancelled order %(order)s, which cannot be cancelled here", order=self.name),
                [exc.args[0]],
            )
            return self.env._("Not cancelled (%(reason)s): an activity asks the desk to act.", reason=exc.args[0])
        return self.env._("Order %(order)s cancelled at the channel's request.", order=self.name)

    def _oms_platform_activity(self, summary, changes):
        self.ensure_one()
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary[:250],
            note=Markup("<ul>%s</ul>") % Markup().join(Markup("<li>%s</li>") % change for change in changes),
            user_id=(self.oms_channel_id.user_id or self.user_id or self.env.user).id,
        )

    # ------------------------------------------------------------------
    # Refunds
    # ------------------------------------------------------------------
    @api.model
    def _oms_invoice_due_domain(self):
        """An order credited for a channel refund is not invoiced again by the cron: the credit note lowers its
        invoiced quantities, which would otherwise make the refunded quantities "to invoice" once more."""
        refunded = Domain(
            "order_line.invoice_lines.move_id",
            "any",
            [("move_type", "=", "out_refund"), ("oms_platform_refund_id", "!=", False), ("state", "!=", "cancel")],
        )
        return Domain(super()._oms_invoice_due_domain()) & ~refunded

    def _oms_record_platform_refund(self, refund):
        """Record a refund made on the channel on the order, once; where the order has a posted invoice, prepare
        a draft credit note of it for the accountant.

        :param refund: as ``tools.shopify.refund`` returns it
        :return: a summary for the intake, or None when this refund was recorded before
        """
        self.ensure_one()
        refund_id = refund["id"]
        recorded = (self.oms_platform_refund_ids or "").split()
        if refund_id in recorded:
            return None
        amounts = [
            f"{amount} {currency or self.currency_id.name}" + (f" ({gateway})" if gateway else "")
            for amount, currency, gateway in refund["transactions"]
        ]
        details = [self.env._("Amount refunded: %(amounts)s", amounts=", ".join(amounts) or "0")]
        details += [
            self.env._(
                "Line %(sku)s: %(quantity)s refunded", sku=item["sku"] or item["name"], quantity=item["quantity"]
            )
            for item in refund["items"]
        ]
        if refund["shipping"]:
            details.append(
                self.env._("Shipping refunded: %(amount)s", amount=refund["shipping"] + refund["shipping_tax"])
            )
        if refund.get("note"):
            details.append(self.env._("Note: %(note)s", note=refund["note"]))
        self.check_access("write")
        # The integration user may not read invoices: the signed channel acts on its own order (checked above).
        invoices = self.sudo().invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        pushed = self._oms_pushed_credit_note(refund)
        if pushed:
            # Odoo's own refund coming back (its credit note was pushed): never credited a second time.
            outcome = self.env._(
                "It is credit note %(move)s pushed from Odoo: no credit note was prepared.", move=pushed.name
            )
        elif not invoices:
            outcome = self.env._("Order %(order)s has no posted invoice: no credit note was prepared.", order=self.name)
        elif self.currency_id.is_zero(float(refund["amount"])):
            outcome = self.env._("No money was refunded: no credit note was prepared.")
        else:
            outcome = self._oms_prepare_refund_credit_note(refund, invoices)
        details.append(outcome)
        self.oms_platform_refund_ids = " ".join([*recorded, refund_id])
        self.message_post(
            body=_bullets(self.env._("Refund %(refund)s made on the channel:", refund=refund_id), details),
            subtype_xmlid="mail.mt_note",
        )
        return self.env._("Refund %(refund)s recorded: %(outcome)s", refund=refund_id, outcome=outcome)

    def _oms_prepare_refund_credit_note(self, refund, invoices):
        """Create the draft credit note of a channel refund (once per refund id), with an activity for the
        accountant. Its total is the amount refunded, to the cent.

        :return: a summary of what was prepared
        """
        self.ensure_one()
        order = self.sudo()
        Move = self.env["account.move"].sudo()
        existing = Move.search(
            [("oms_refund_channel_id", "=", order.oms_channel_id.id), ("oms_platform_refund_id", "=", refund["id"])],
            limit=1,
        )
        if existing:
            return self.env._("Credit note %(move)s was already prepared for it.", move=existing.display_name)
        label = self.env._("Refund %(refund)s of channel order %(order)s", refund=refund["id"], order=order.name)
        if refund.get("note"):
            label = f"{label}: {refund['note']}"
        line_vals, skipped = order._oms_refund_line_values(refund)
        amount = float(refund["amount"]) - skipped
        if (
            not line_vals
            and not refund["items"]
            and not order.currency_id.compare_amounts(amount, order._oms_invoiced_net())
        ):
            # All that is invoiced is refunded (WooCommerce says no more): every invoiced line is credited.
            line_vals = [
                sol._prepare_invoice_line(quantity=sol.qty_invoiced)
                for sol in order.order_line
                if not sol.display_type and sol.product_uom_id.compare(sol.qty_invoiced, 0.0) > 0
            ]
        vals = order._prepare_oms_refund_credit_note_values(refund, invoices, label, line_vals)
        try:
            with self.env.cr.savepoint():
                credit_note = Move.with_context(default_move_type="out_refund").create(vals)
        except psycopg2.errors.UniqueViolation as exc:
            if "oms_platform_refund_uniq" not in str(exc):
                raise
            return self.env._("A concurrent delivery of the same refund prepared its credit note.")
        # What the lines do not explain (a refund without line detail, a discrepancy, rounding): one line.
        name = (
            label
            if not line_vals
            else self.env._("Refund %(refund)s: amount not matched to a line", refund=refund["id"])
        )
        order._oms_balance_refund_credit_note(credit_note, amount, name)
        accountant = order._oms_accountant()
        order._oms_schedule_refund_check(credit_note, refund, accountant)
        return self.env._(
            "Draft credit note of %(amount)s prepared for %(user)s to check and post.",
            amount=order._oms_format_amount(credit_note.amount_total),
            user=accountant.name,
        )

    def _prepare_oms_refund_credit_note_values(self, refund, invoices, label, line_vals):
        """The draft credit note of a channel refund: the order's invoice values, reversing its last invoice."""
        self.ensure_one()
        vals = self._prepare_invoice()
        vals.update(
            move_type="out_refund",
            reversed_entry_id=invoices.sorted("id")[-1].id,
            ref=label,
            invoice_date=fields.Date.context_today(self),
            oms_platform_refund_id=refund["id"],
            oms_refund_channel_id=self.oms_channel_id.id,
            invoice_line_ids=[Command.create(values) for values in line_vals],
        )
        return vals

    def _oms_balance_refund_credit_note(self, credit_note, amount, name):
        """One line named ``name`` for what the credit note's lines leave of ``amount``, so that its total is the
        amount refunded, to the cent."""
        currency = self.currency_id
        difference = currency.round(amount - credit_note.amount_total)
        if not currency.is_zero(difference):
            credit_note.write(
                {
                    "invoice_line_ids": [
                        Command.create(
                            {"name": name, "quantity": 1, "price_unit": difference, "tax_ids": [Command.clear()]}
                        )
                    ]
                }
            )

    def _oms_schedule_refund_check(self, credit_note, refund, accountant):
        """The accountant's activity on the draft credit note of a channel refund: check it, then post it."""
        credit_note.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Check and post the credit note of channel refund %(refund)s", refund=refund["id"])[
                :250
            ],
            note=self.env._(
                "Channel %(channel)s refunded %(amount)s on order %(order)s. This draft credit note was prepared from "
                "the refund: check its lines and taxes, then post it.",
                channel=self.oms_channel_id.name,
                amount=self._oms_format_amount(float(refund["amount"])),
                order=self.name,
            ),
            user_id=accountant.id,
        )

    def _oms_refund_line_values(self, refund):
        """Credit note line values of a refund's lines and shipping, at the amounts the channel refunded them.

        A refunded quantity already credited (by a return's credit note) is not credited twice.

        :return: ([vals], amount of the refund that was already credited)
        """
        self.ensure_one()
        currency = self.currency_id
        taxes_included = self._oms_channel_taxes_included()
        vals_list, skipped = [], 0.0
        product_lines = self._oms_product_lines()
        for item in refund["items"]:
            quantity = item["quantity"]
            candidates = product_lines.filtered(
                lambda sol, sku=item["sku"]: sku and sku in (sol.product_id.default_code, sol.product_id.barcode)
            )
            sale_line = candidates.sorted(lambda sol: sol.qty_invoiced <= 0)[:1]
            if not quantity or not sale_line:
                continue  # its amount is credited on the line of what no line explains
            amount = float(item["subtotal"] if taxes_included else item["subtotal"] + item["tax"])
            creditable = min(quantity, max(int(sale_line.qty_invoiced), 0))
            if creditable < quantity:
                skipped += currency.round(amount * (quantity - creditable) / quantity)
            if not creditable:
                continue
            price = float(item["subtotal"]) * creditable / quantity
            for qty, unit in self._oms_split_amount(price, creditable):
                vals_list.append(
                    sale_line._prepare_invoice_line(
                        quantity=qty, price_unit=sale_line._oms_channel_unit_price(unit, taxes_included), discount=0.0
                    )
                )
        shipping = float(refund["shipping"])
        delivery = self.order_line.filtered("is_delivery")[:1]
        if shipping and delivery:
            values = delivery._prepare_invoice_line(
                quantity=1, price_unit=delivery._oms_channel_unit_price(shipping, taxes_included), discount=0.0
            )
            if currency.compare_amounts(shipping, delivery.price_unit) or not delivery.qty_invoiced:
                values.pop("sale_line_ids")  # part of the shipping: the delivery line stays invoiced
            vals_list.append(values)
        return vals_list, skipped

    def _oms_split_amount(self, amount, quantity):
        """[(quantity, unit price)] that add up to ``amount`` to the cent (10.00 for 3: 2 x 3.33 + 1 x 3.34)."""
        currency = self.currency_id
        unit = currency.round(amount / quantity)
        if quantity == 1 or not currency.compare_amounts(unit * quantity, amount):
            return [(quantity, unit)]
        return [(quantity - 1, unit), (1, currency.round(amount - unit * (quantity - 1)))]

    def _oms_invoiced_net(self):
        """What the order's posted invoices charge, less its credit notes (draft or posted)."""
        self.ensure_one()
        invoices = self.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        credit_notes = self.invoice_ids.filtered(lambda m: m.move_type == "out_refund") | invoices.reversal_move_ids
        credit_notes = credit_notes.filtered(lambda m: m.state != "cancel")
        return sum(invoices.mapped("amount_total")) - sum(credit_notes.mapped("amount_total"))

    def _oms_channel_taxes_included(self):
        """Whether the channel's prices of this order include tax, as its intake's body said."""
        self.ensure_one()
        intake = self.sudo().oms_intake_id
        try:
            data = json.loads(intake.payload or "{}", parse_float=Decimal)
        except ValueError:
            return False
        if not isinstance(data, dict):
            return False
        if intake.webhook_topic and self.oms_channel_id.platform == "woocommerce":
            return bool(data.get("prices_include_tax"))
        return bool(data.get("taxes_included"))

    def _oms_accountant(self):
        """Who checks the credit notes of this order: the channel's responsible or the salesperson when they have
        Billing rights, else the company's first Billing user, else the channel's responsible."""
        self.ensure_one()
        for user in (self.oms_channel_id.user_id, self.user_id):
            if user and user.active and user.has_group(BILLING_GROUP):
                return user
        group = self.env.ref(BILLING_GROUP, raise_if_not_found=False)
        if group:
            billing = (
                self.env["res.users"]
                .sudo()
                .search(
                    [
                        ("all_group_ids", "in", group.ids),
                        ("company_ids", "in", self.company_id.ids),
                        ("share", "=", False),
                    ],
                    order="id",
                    limit=1,
                )
            )
            if billing:
                return billing
        return self.oms_channel_id.user_id or self.user_id or self.env.user


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _oms_channel_unit_price(self, price, taxes_included):
        """The unit price of this line's taxes that makes Odoo charge what the channel's ``price`` means."""
        self.ensure_one()
        if all(tax.price_include == taxes_included for tax in self.tax_ids):
            return price
        return self._oms_price_unit_for_taxes(price, taxes_included)
