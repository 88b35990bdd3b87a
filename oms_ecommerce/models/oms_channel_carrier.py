from odoo import fields, models


class OmsChannelCarrier(models.Model):
    _name = "oms.channel.carrier"
    _check_company_auto = True
    _description = "Shipping Method of a Sales Channel"
    _order = "channel_id, sequence, id"

    channel_id = fields.Many2one("oms.channel", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    method = fields.Char(
        string="Shipping Method",
        required=True,
        help="The shipping method as the channel sends it (payload 'shipping.method'), compared without case.",
    )
    carrier_id = fields.Many2one("delivery.carrier", required=True, check_company=True, ondelete="restrict")

    _method_uniq = models.Constraint("UNIQUE (channel_id, method)", "Each shipping method is mapped once per channel.")
