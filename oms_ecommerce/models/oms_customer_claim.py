from odoo import api, fields, models
from odoo.tools import SQL


class OmsCustomerClaim(models.Model):
    """One row per company and normalized email for which an order created a customer.

    Orders from a new email arrive at the same moment on several workers: each transaction claims the
    email before creating the customer. The first claim wins; a concurrent one waits for it and, once it
    committed, fails with a serialization error (its snapshot cannot see the new customer), so Odoo
    retries that request, which then finds the customer. Written by the system only.
    """

    _name = "oms.customer.claim"
    _description = "Customer created from a channel email"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    email = fields.Char(required=True, readonly=True)

    _company_email_uniq = models.Constraint("UNIQUE (company_id, email)", "One customer per email and company.")

    @api.model
    def _claim(self, company, email):
        """Claim ``email`` (normalized) in ``company`` for this transaction, or wait for the transaction
        that claimed it (a serialization error, and Odoo's retry, if that one committed)."""
        self.env.cr.execute(
            SQL(
                "INSERT INTO oms_customer_claim (company_id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                company.id,
                email,
            )
        )
