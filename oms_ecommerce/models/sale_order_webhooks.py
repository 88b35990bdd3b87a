from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError

# Steps at which the delivery is packed or gone: the channel's changes no longer reach the parcel silently.
PACKED_STEPS = ("packed", "shipped", "delivered", "returned")


class SaleOrder(models.Model):
    """What a platform's webhooks change on an order already received (Shopify, WooCommerce).

    Until the delivery is packed, the shipping and billing address, the customer's note and the payment status
    follow the channel; line changes never do (the desk gets an activity listing them). Once packed, nothing
    changes silently: the desk gets an activity listing what the channel changed.
    """

    _inherit = "sale.order"

    oms_platform_version = fields.Datetime(
        string="Platform Version",
        readonly=True,
        copy=False,
        help="When the platform last updated the order this order was last updated from (Shopify updated_at, "
        "WooCommerce date_modified_gmt). An older webhook is kept on its intake, not applied.",
    )

    def _oms_packed_or_gone(self):
        """Whether the order's delivery is packed (or shipped): from then on the channel changes nothing silently."""
        self.ensure_one()
        outgoing = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and not p.return_id)
        return self.oms_step in PACKED_STEPS or any(
            p.state == "done" or (p.state != "cancel" and p._oms_is_packed()) for p in outgoing
        )

    def _oms_apply_platform_update(self, data, cancelled, intake):
        """Apply a platform's newer version of this order (an order of API.md, already validated).

        :param cancelled: the signed body says the order is cancelled
        :return: a summary for the intake's chatter
        """
        self.ensure_one()
        if cancelled:
            return self._oms_platform_cancel()
        if self.state == "cancel":
            return _(
                "Order %(order)s is cancelled here and not cancelled on the channel: nothing applied.", order=self.name
            )
        countries = intake._map_countries(data)
        _customer, invoice, delivery = self.env["res.partner"]._oms_customer_contacts(
            data, countries, lang=self.oms_channel_id.lang, company=self.company_id
        )
        payment = data.get("payment") or {}
        updates, changes = {}, []
        if delivery != self.partner_shipping_id:
            updates["partner_shipping_id"] = delivery.id
            changes.append(_("Shipping address: %(new)s", new=delivery._display_address(without_company=True)))
        if invoice != self.partner_invoice_id:
            updates["partner_invoice_id"] = invoice.id
            changes.append(_("Billing address: %(new)s", new=invoice._display_address(without_company=True)))
        if (data.get("note") or False) != (self.oms_customer_note or False):
            updates["oms_customer_note"] = data.get("note") or False
            changes.append(_("Customer note: %(new)s", new=data.get("note") or _("(none)")))
        if payment.get("status") and payment["status"] != self.oms_payment_status:
            updates["oms_payment_status"] = payment["status"]
            if payment.get("method"):
                updates["oms_payment_method"] = payment["method"]
            if payment.get("reference"):
                updates["oms_payment_reference"] = payment["reference"]
            changes.append(_("Payment: %(new)s", new=payment["status"]))
        line_changes = self._oms_line_changes(data["lines"])
        if self._oms_packed_or_gone():
            if changes or line_changes:
                self._oms_platform_activity(
                    _("The channel changed order %(order)s after it was packed", order=self.name),
                    changes + line_changes,
                )
                return _("Packed: nothing applied, an activity lists the changes.")
            return _("Nothing changed on order %(order)s.", order=self.name)
        if updates:
            became_paid = updates.get("oms_payment_status") == "paid"
            # The delivery (not packed yet) goes to the new address too: its label is printed from it.
            self.with_context(update_delivery_shipping_partner=True).write(updates)
            self.message_post(
                body=Markup("%s<ul>%s</ul>")
                % (
                    _("Updated from the channel:"),
                    Markup().join(Markup("<li>%s</li>") % change for change in changes),
                ),
                subtype_xmlid="mail.mt_note",
            )
            if became_paid:
                self._oms_on_paid_on_channel()
        if line_changes:
            self._oms_platform_activity(
                _("The channel changed the lines of order %(order)s", order=self.name), line_changes
            )
        if not changes and not line_changes:
            return _("Nothing changed on order %(order)s.", order=self.name)
        return "; ".join(changes + line_changes)

    def _oms_line_changes(self, lines):
        """What differs between the order's product lines and a payload's: [text]."""
        self.ensure_one()
        ours = {}
        for line in self.order_line.filtered(lambda sol: not sol.display_type and not sol.is_delivery):
            key = line.product_id.default_code or line.product_id.barcode or line.product_id.display_name
            ours[key] = ours.get(key, 0) + line.product_uom_qty
        theirs = {}
        for line in lines:
            sku = str(line["sku"]).strip()
            theirs[sku] = theirs.get(sku, 0) + line["quantity"]
        return [
            _(
                "Line %(sku)s: quantity %(old)s → %(new)s",
                sku=sku,
                old=f"{ours.get(sku, 0):g}",
                new=f"{theirs.get(sku, 0):g}",
            )
            for sku in sorted(set(ours) | set(theirs))
            if ours.get(sku, 0) != theirs.get(sku, 0)
        ]

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
            return _("Order %(order)s was already cancelled.", order=self.name)
        try:
            with self.env.cr.savepoint():
                self._oms_cancel_from_channel()
        except UserError as exc:
            self._oms_platform_activity(
                _("The channel cancelled order %(order)s, which cannot be cancelled here", order=self.name),
                [exc.args[0]],
            )
            return _("Not cancelled (%(reason)s): an activity asks the desk to act.", reason=exc.args[0])
        return _("Order %(order)s cancelled at the channel's request.", order=self.name)

    def _oms_record_platform_refund(self, refund_id, transactions, note, items):
        """A refund made on the channel, recorded on the order (amounts, lines, note) for the desk."""
        self.ensure_one()
        amounts = [
            f"{amount} {currency or self.currency_id.name}" + (f" ({gateway})" if gateway else "")
            for amount, currency, gateway in transactions
        ]
        details = [_("Amount refunded: %(amounts)s", amounts=", ".join(amounts) or "0")]
        details += [_("Line %(sku)s: %(quantity)s returned", sku=sku, quantity=quantity) for sku, quantity in items]
        if note:
            details.append(_("Note: %(note)s", note=note))
        self.message_post(
            body=Markup("%s<ul>%s</ul>")
            % (
                _("Refund %(refund)s made on the channel:", refund=refund_id or "?"),
                Markup().join(Markup("<li>%s</li>") % detail for detail in details),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _oms_platform_activity(self, summary, changes):
        self.ensure_one()
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary[:250],
            note=Markup("<ul>%s</ul>") % Markup().join(Markup("<li>%s</li>") % change for change in changes),
            user_id=(self.oms_channel_id.user_id or self.user_id or self.env.user).id,
        )
