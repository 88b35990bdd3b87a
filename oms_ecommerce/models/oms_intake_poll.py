import json
from hashlib import sha256

from odoo import api, fields, models
from odoo.fields import Domain

from ..tools import webhooks
from ..tools.payload import IntakeInvalid, storable, validate_external_id
from .oms_intake import PLATFORM_MAPPERS

# The webhook topic a polled order goes through: an update (an order not received yet is created by it).
POLL_TOPICS = {"shopify": "orders/updated", "woocommerce": "order.updated"}


class OmsIntake(models.Model):
    """Orders pulled from the platform's admin API (the poll of missed webhooks) take the webhook path."""

    _inherit = "oms.intake"

    source = fields.Selection(selection_add=[("poll", "Platform poll")], ondelete={"poll": "set default"})

    @api.model
    def _receive_polled(self, channel, orders):
        """Store and apply the platform's orders of one page, as webhooks of an update would be, except those
        already known at the same or a newer version: they are skipped before anything is stored, so that a
        poll that reads them again (its overlap, the next run) stores nothing.

        :param orders: the platform's order objects (parsed JSON) as its admin API listed them
        :return: (intakes stored, number skipped, newest version among the orders of the page)
        """
        # One bulk operation: the page's step emails gathered into jobs once, at its end, those of its own orders
        # (each order alone would enqueue every step the transaction had queued so far, in overlapping jobs).
        background = self.with_context(oms_notify_in_background=True)
        topic = POLL_TOPICS[channel.platform]
        mapper = PLATFORM_MAPPERS[channel.platform]
        entries = []
        for body in orders:
            text = json.dumps(body, ensure_ascii=False)
            try:
                external_id = validate_external_id(mapper.external_id(body, topic))
                version = mapper.version(body, topic)
            except (webhooks.WebhookInvalid, IntakeInvalid, AttributeError):
                external_id = version = None
            if external_id:
                key = f"poll:{external_id}:{webhooks.iso(version) if version else ''}"
            else:  # not an order we can read: stored once, in error for the desk
                key = f"poll:sha256:{sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"
            entries.append((text, storable(key)[:255], external_id, version))
        known = self._polled_versions(channel, [entry[2] for entry in entries if entry[2]])
        seen_keys = set(
            self.search_fetch(
                [("channel_id", "=", channel.id), ("webhook_delivery_id", "in", [entry[1] for entry in entries])],
                ["webhook_delivery_id"],
            ).mapped("webhook_delivery_id")
        )
        stored, skipped = self.browse(), 0
        for text, key, external_id, version in entries:
            if key in seen_keys or (
                external_id in known and (not version or (known[external_id] and known[external_id] >= version))
            ):
                skipped += 1
                continue
            seen_keys.add(key)
            intake = background._receive_webhook(channel, text, topic, delivery_id=key, source="poll")
            if intake:
                stored |= intake
            else:
                skipped += 1
            if external_id and version:
                known[external_id] = max(known.get(external_id) or version, version)
        if stored and not self.env.context.get("oms_notify_in_background"):  # else the operation around it does
            self.env["oms.order.step"]._oms_enqueue_gathered(stored.order_id)
        newest = max((entry[3] for entry in entries if entry[3]), default=None)
        return stored, skipped, newest

    @api.model
    def _polled_versions(self, channel, external_ids):
        """{external id: the newest version received} of the channel's orders and intakes among
        ``external_ids`` (False: received, version unknown)."""
        if not external_ids:
            return {}
        known = {}
        for order in self.env["sale.order"].search_fetch(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "in", external_ids)],
            ["oms_external_id", "oms_platform_version"],
        ):
            known[order.oms_external_id] = order.oms_platform_version
        domain = Domain("channel_id", "=", channel.id) & Domain("external_id", "in", external_ids)
        for external_id, version in self._read_group(domain, ["external_id"], ["webhook_version:max"]):
            current = known.get(external_id)
            known[external_id] = max(current, version) if current and version else (current or version)
        return known
