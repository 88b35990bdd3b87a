from odoo import fields, models

RMA_STEPS = [
    ("requested", "Requested"),
    ("approved", "Approved"),
    ("refused", "Refused"),
    ("label_sent", "Label sent"),
    ("received", "Received"),
    ("refunded", "Refunded"),
    ("exchanged", "Exchanged"),
]
# Steps with an email of their own (``oms_ecommerce.mail_template_oms_rma_<step>``); the label goes out
# with the approval email, so "label sent" is only a line on the timeline.
NOTIFIED_RMA_STEPS = ("requested", "approved", "refused", "received", "refunded", "exchanged")


class OmsRmaStep(models.Model):
    """A step reached by a customer's return request (recorded on the request's first RMA, once)."""

    _name = "oms.rma.step"
    _description = "Step reached by a return request"
    _order = "at, id"

    rma_id = fields.Many2one("rma", string="Return", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="rma_id.company_id", store=True)
    step = fields.Selection(RMA_STEPS, required=True)
    at = fields.Datetime(required=True, default=fields.Datetime.now)
    mail_message_id = fields.Many2one("mail.message", string="Email", ondelete="set null", readonly=True)

    _rma_step_uniq = models.Constraint("UNIQUE (rma_id, step)", "Each step of a return is recorded once.")
