from odoo import fields, models
from odoo.exceptions import UserError


class OmsChannelSecretSet(models.TransientModel):
    """The secret a platform gives (Shopify's webhook signing key), typed in by an OMS manager.

    The secret is written to the channel server side and never read back; the previous one keeps working for
    an hour, as Shopify keeps signing with it for up to an hour after a rotation.
    """

    _name = "oms.channel.secret.set"
    _description = "Set the secret of a sales channel"

    channel_id = fields.Many2one("oms.channel", required=True, readonly=True)
    secret = fields.Char(help="Cleared once set: the wizard does not keep it.")

    def action_set(self):
        self.ensure_one()
        channel = self.channel_id
        channel._check_secret_manager()
        if not (self.secret or "").strip():
            raise UserError(self.env._("Paste the platform's secret."))
        channel.sudo().write({"secret": self.secret.strip(), "secret_shown": True})
        channel.message_post(
            body=self.env._("The secret was set by hand; the previous one is accepted for one more hour.")
        )
        self.secret = False  # not kept in the wizard's table
        return {"type": "ir.actions.act_window_close"}
