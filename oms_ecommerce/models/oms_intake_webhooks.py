"""The intake of Shopify and WooCommerce webhooks: a webhook either creates an order (its body mapped to API.md's
shape, then processed like an API order) or applies to an existing one (edits, cancellations, refunds)."""

import logging

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import shopify, webhooks
from ..tools.payload import IntakeInvalid, storable, validate_external_id, validate_payload
from .oms_intake import CONCURRENCY_ERRORS, PLATFORM_MAPPERS, IntakeMappingError

_logger = logging.getLogger(__name__)


# The topics whose body never creates the order: a refund waits for its order, a deletion of an order never
# created cancels its pending intakes. Any other body of an order the channel does not have creates it.
TOPICS_WITHOUT_NEW_ORDER = ("refunds/create", "order.deleted")


class OmsIntake(models.Model):
    _inherit = "oms.intake"

    def _process_webhook(self, data):
        """Read a platform's webhook body (already parsed).

        :return: the API.md order to create through the usual path, or None when the body was applied to the
            channel's existing order, was stale, or is in error (this intake says which)
        """
        self.ensure_one()
        try:
            self._identify_webhook(data)
            order = self.env["sale.order"].search(
                [("oms_channel_id", "=", self.channel_id.id), ("oms_external_id", "=", self.external_id)], limit=1
            )
            if not order and self.webhook_topic not in TOPICS_WITHOUT_NEW_ORDER:
                return self._webhook_new_order(data)  # reads only: no savepoint (two queries of every new order)
            with self.env.cr.savepoint():
                return self._apply_webhook(data, order)
        except webhooks.WebhookInvalid as exc:
            self._set_error("invalid_payload", storable(exc.message), storable(exc.field))
        except IntakeInvalid as exc:
            self._set_error("invalid_payload", exc.message, exc.field)
        except IntakeMappingError as exc:
            self._set_error(exc.code, exc.message)
        except (UserError, ValidationError) as exc:
            self._set_error("mapping_error", self.env._("Odoo refused the change: %(error)s", error=exc.args[0]))
        except CONCURRENCY_ERRORS:
            raise
        except Exception as exc:  # a bug must not lose the body: keep it in error, with the reason
            _logger.exception("OMS intake %s: unexpected error while applying a webhook", self.id)
            self._set_error(
                "mapping_error",
                self.env._(
                    "Unexpected error while applying the webhook (%(error)s). The body is kept: retry once the "
                    "cause is fixed, or report this message to your Odoo partner.",
                    error=repr(exc),
                ),
            )
        return None

    def _mapper(self):
        self.ensure_one()
        mapper = PLATFORM_MAPPERS.get(self.channel_id.platform)
        if not mapper:
            raise IntakeInvalid(
                "", self.env._("Channel %(channel)s does not take platform webhooks.", channel=self.channel_id.name)
            )
        return mapper

    def _identify_webhook(self, data):
        """Keep on the intake which order (and which version of it) the body is, for the desk's list."""
        mapper = self._mapper()
        self.write(
            {
                "external_id": validate_external_id(mapper.external_id(data, self.webhook_topic)),
                "webhook_version": mapper.version(data, self.webhook_topic),
                "channel_reference": storable(mapper.reference(data) or "") or False,
            }
        )

    def _apply_webhook(self, data, order):
        """Apply the body to the channel's existing ``order`` (an edit, a cancellation, a refund), or a body of
        ``TOPICS_WITHOUT_NEW_ORDER`` whose order does not exist; in a savepoint (``_process_webhook``)."""
        self.ensure_one()
        channel = self.channel_id
        mapper = self._mapper()
        topic = self.webhook_topic
        external_id = self.external_id
        version = self.webhook_version
        if topic == "refunds/create":
            if not order:
                raise IntakeMappingError(
                    "mapping_error",
                    self.env._(
                        "The refund's order %(order)s has not been received yet: retry once it is.", order=external_id
                    ),
                )
            summary = order._oms_record_platform_refund(shopify.refund(data))
            self._set_applied(order, summary or self.env._("Refund recorded on order %(order)s.", order=order.name))
            return None
        cancelled = mapper.is_cancelled(data, topic)
        if topic == "order.deleted":
            if order:
                order._oms_platform_cancel()
                self._set_applied(order, self.env._("The channel deleted order %(order)s.", order=order.name))
            else:
                pending = self.search(
                    [
                        ("channel_id", "=", channel.id),
                        ("external_id", "=", external_id),
                        ("state", "in", ("error", "pending")),
                        ("id", "!=", self.id),
                    ]
                )
                pending.write({"cancel_requested": True})
                self._set_applied(order, self.env._("The channel deleted this order before it was created."))
            return None
        # an edit of the existing order (a body of a new one never comes here: _process_webhook)
        if version and order.oms_platform_version and version < order.oms_platform_version:
            self._set_stale(order)
            return None
        values = mapper.to_order(data, self._known_shipping_methods())
        validate_payload(values)
        summary = order._oms_apply_platform_update(values, cancelled, self)
        if version and (not order.oms_platform_version or version > order.oms_platform_version):
            order.oms_platform_version = version
        self._set_applied(order, summary)
        return None

    def _webhook_new_order(self, data):
        """The API.md order of a body whose order the channel does not have yet (created by the usual path).
        Reads only (but for the cancellation it asks for): run outside a savepoint."""
        mapper = self._mapper()
        values = mapper.to_order(data, self._known_shipping_methods())
        if mapper.is_cancelled(data, self.webhook_topic):
            self.cancel_requested = True
        return values

    def _known_shipping_methods(self):
        return {mapping.method.strip().lower() for mapping in self.channel_id.carrier_map_ids if mapping.method}

    def _set_applied(self, order, summary):
        """A webhook body applied to an existing order (or to none: a deletion of an order never created)."""
        self._set_outcome("done", order, summary or self.env._("Nothing changed on order %(order)s.", order=order.name))

    def _set_stale(self, order):
        """An older version of the order than the one it was last updated from: kept, not applied."""
        self._set_outcome(
            "stale",
            order,
            self.env._(
                "Stale: this body is the order as of %(version)s UTC, order %(order)s was already updated from "
                "the version of %(current)s UTC. Not applied.",
                version=fields.Datetime.to_string(self.webhook_version),
                order=order.name,
                current=fields.Datetime.to_string(order.oms_platform_version),
            ),
        )
