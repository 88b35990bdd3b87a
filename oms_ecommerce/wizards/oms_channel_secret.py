from odoo import fields, models


class OmsChannelSecret(models.TransientModel):
    _name = "oms.channel.secret"
    _description = "New secret of a sales channel, shown once"

    channel_id = fields.Many2one("oms.channel", required=True, readonly=True)
    secret = fields.Char(readonly=True)
