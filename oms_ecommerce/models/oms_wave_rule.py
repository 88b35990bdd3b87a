from datetime import datetime, time

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class OmsWaveRule(models.Model):
    _name = "oms.wave.rule"
    _check_company_auto = True
    _description = "Wave Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one(
        "stock.warehouse", check_company=True, help="Only deliveries of this warehouse (empty: any)."
    )
    channel_ids = fields.Many2many(
        "oms.channel", string="Channels", check_company=True, help="Only these channels' orders (empty: any)."
    )
    carrier_ids = fields.Many2many(
        "delivery.carrier",
        string="Carriers",
        check_company=True,
        help="Only these carriers (empty: any). Waves never mix carriers.",
    )
    cutoff_hour = fields.Float(
        string="Cutoff",
        help="Only orders placed before this hour of the day (company time zone) go in today's waves; "
        "0 takes every ready delivery.",
    )
    max_pickings = fields.Integer(string="Max. Deliveries", default=50, help="Deliveries per wave at most.")
    max_weight = fields.Float(
        string="Max. Weight", digits="Stock Weight", help="Weight of the products per wave at most (0: no limit)."
    )
    user_id = fields.Many2one("res.users", string="Responsible", domain=[("share", "=", False)], check_company=True)
    last_run = fields.Datetime(readonly=True)
    last_wave_count = fields.Integer(string="Waves Last Run", readonly=True)

    @api.constrains("max_pickings", "max_weight", "cutoff_hour")
    def _check_limits(self):
        for rule in self:
            if rule.max_pickings < 1:
                raise ValidationError(
                    self.env._("Wave rule %(rule)s: a wave holds at least one delivery.", rule=rule.name)
                )
            if rule.max_weight < 0 or not 0 <= rule.cutoff_hour < 24:
                raise ValidationError(
                    self.env._(
                        "Wave rule %(rule)s: the weight must be positive and the cutoff an hour of the day.",
                        rule=rule.name,
                    )
                )

    def _cutoff_utc(self, now=None):
        """Today's cutoff of the rule, as a naive UTC datetime (False: no cutoff)."""
        self.ensure_one()
        if not self.cutoff_hour:
            return False
        tz = pytz.timezone(self.company_id.resource_calendar_id.tz or self.company_id.partner_id.tz or "UTC")
        now = now or fields.Datetime.now()
        local_now = pytz.utc.localize(now).astimezone(tz)
        hours, minutes = divmod(round(self.cutoff_hour * 60), 60)
        local_cutoff = tz.localize(datetime.combine(local_now.date(), time(hours, minutes)))
        return min(local_cutoff, local_now).astimezone(pytz.utc).replace(tzinfo=None)

    def _candidate_domain(self, now=None):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("picking_type_code", "=", "outgoing"),
            ("state", "=", "assigned"),
            ("batch_id", "=", False),
            ("sale_id.oms_channel_id", "!=", False),
            ("sale_id.oms_hold", "=", False),  # an order on hold is not picked
        ]
        if self.warehouse_id:
            domain.append(("picking_type_id.warehouse_id", "=", self.warehouse_id.id))
        if self.channel_ids:
            domain.append(("sale_id.oms_channel_id", "in", self.channel_ids.ids))
        if self.carrier_ids:
            domain.append(("carrier_id", "in", self.carrier_ids.ids))
        cutoff = self._cutoff_utc(now)
        if cutoff:
            domain.append(("sale_id.oms_placed_at", "<", cutoff))
        return domain

    def _build_waves(self, now=None):
        """Group the ready channel deliveries into waves (Odoo batch transfers), rule by rule.

        A wave has one carrier and one operation type, the most urgent deliveries (ship-by) first, at most
        ``max_pickings`` deliveries and ``max_weight`` of products. Returns the new waves.
        """
        Batch = self.env["stock.picking.batch"]
        waves = Batch
        for rule in self.sorted(lambda r: (r.sequence, r.id)):
            pickings = self.env["stock.picking"].search(rule._candidate_domain(now))
            pickings = pickings.sorted(lambda p: (p.sale_id.oms_ship_by or p.scheduled_date or datetime.max, p.id))
            made = Batch
            for (carrier, picking_type), group in pickings.grouped(lambda p: (p.carrier_id, p.picking_type_id)).items():
                for chunk in rule._chunks(group):
                    wave = Batch.create(
                        {
                            "company_id": rule.company_id.id,
                            "picking_type_id": picking_type.id,
                            "user_id": rule.user_id.id,
                            "description": " · ".join(filter(None, [rule.name, carrier.name])),
                            "oms_wave_rule_id": rule.id,
                        }
                    )
                    chunk.write({"batch_id": wave.id})
                    wave.action_confirm()
                    made |= wave
            rule.write({"last_run": fields.Datetime.now(), "last_wave_count": len(made)})
            waves |= made
        return waves

    def _chunks(self, pickings):
        """Consecutive groups of ``pickings`` within the rule's limits (a heavy delivery still gets a wave)."""
        self.ensure_one()
        chunk, weight = [], 0.0
        for picking in pickings:
            too_many = len(chunk) >= self.max_pickings
            too_heavy = self.max_weight and chunk and weight + picking.weight > self.max_weight
            if too_many or too_heavy:
                yield self.env["stock.picking"].browse([p.id for p in chunk])
                chunk, weight = [], 0.0
            chunk.append(picking)
            weight += picking.weight
        if chunk:
            yield self.env["stock.picking"].browse([p.id for p in chunk])

    def action_build_waves(self):
        waves = self._build_waves()
        if not waves:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"message": self.env._("No ready channel delivery matches these rules."), "type": "info"},
            }
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_wave_action")
        action["name"] = self.env._("New Waves")
        action["domain"] = [("id", "in", waves.ids)]
        action["context"] = {}
        return action

    @api.model
    def _cron_build_waves(self):
        self.search([])._build_waves()
