from odoo import fields, models

from .oms_ticket import TICKET_CATEGORIES


class MailTemplate(models.Model):
    _inherit = "mail.template"

    oms_canned = fields.Boolean(
        string="Canned Reply", help="Offered to agents as a ready answer on customer service tickets."
    )
    oms_ticket_category = fields.Selection(
        TICKET_CATEGORIES,
        string="For Tickets About",
        help="Suggested first on tickets of this category; for any category when empty.",
    )
