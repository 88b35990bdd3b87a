from odoo import api, fields, models
from odoo.tools import email_normalize

ADDRESS_FIELDS = ("name", "street", "street2", "city", "zip", "state_id", "country_id")


class ResPartner(models.Model):
    _inherit = "res.partner"

    oms_deal_optin = fields.Boolean(
        string="Deal Notifications",
        copy=False,
        help="The customer asked for deal emails (opt-in). Customers switch it on their portal or by "
        "the unsubscribe link of any deal email.",
    )
    oms_ticket_ids = fields.One2many("oms.ticket", "partner_id", string="Tickets")
    oms_ticket_count = fields.Integer(compute="_compute_oms_ticket_count", string="Ticket Count")

    def _compute_oms_ticket_count(self):
        counts = dict(
            self.env["oms.ticket"]._read_group([("partner_id", "child_of", self.ids)], ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.oms_ticket_count = (
                sum(
                    count for ticket_partner, count in counts.items() if ticket_partner.commercial_partner_id == partner
                )
                if partner.id
                else 0
            )

    def action_oms_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_ticket_action")
        action["domain"] = [("partner_id", "child_of", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    @api.model
    def _oms_address_values(self, address, countries):
        """res.partner values of a payload address (``countries``: {code: res.country})."""
        country = countries[address["country_code"].strip().upper()]
        state = self.env["res.country.state"]
        if address.get("state_code"):
            state = self.env["res.country.state"].search(
                [("country_id", "=", country.id), ("code", "=ilike", address["state_code"].strip())], limit=1
            )
        vals = {
            "name": address["name"].strip(),
            "street": (address.get("street") or "").strip() or False,
            "street2": (address.get("street2") or "").strip() or False,
            "city": (address.get("city") or "").strip() or False,
            "zip": (address.get("zip") or "").strip() or False,
            "state_id": state.id or False,
            "country_id": country.id,
        }
        if address.get("phone"):
            vals["phone"] = address["phone"]
        return vals

    def _oms_same_address(self, vals):
        self.ensure_one()
        return all((self[f].id if f.endswith("_id") else self[f]) == vals[f] for f in ADDRESS_FIELDS)

    @api.model
    def _oms_customer_contacts(self, data, countries, lang=False, company=None):
        """Customer, invoice contact and delivery contact of a payload.

        The customer is found by email in the company (or created with the billing address, else the
        shipping one: once, even when orders of a new email arrive at the same moment); the shipping
        address becomes a delivery contact under it and the billing address an invoice contact, each
        reused when the same address was seen before.
        """
        customer_data = data["customer"]
        email = email_normalize(customer_data["email"])
        shipping = self._oms_address_values(data["shipping_address"], countries)
        billing = self._oms_address_values(data["billing_address"], countries) if data.get("billing_address") else None
        company = company or self.env.company
        domain = [
            ("email_normalized", "=", email),
            ("parent_id", "=", False),
            ("company_id", "in", (False, company.id)),
        ]
        customer = self.search_fetch(domain, order="id", limit=1)
        if not customer:
            # Not search-then-create alone: concurrent first orders of one email would make one customer each.
            self.env["oms.customer.claim"].sudo()._claim(company, email)
            vals = dict(billing or shipping)
            vals.update(
                {
                    "name": (customer_data.get("name") or vals["name"]).strip(),
                    "email": customer_data["email"].strip(),
                    "phone": customer_data.get("phone") or vals.get("phone") or False,
                    "customer_rank": 1,
                }
            )
            if lang:
                vals["lang"] = lang
            customer = self.create(vals)
        delivery = customer._oms_contact("delivery", shipping)
        invoice = customer._oms_contact("invoice", billing) if billing else customer
        return customer, invoice, delivery

    def _oms_contact(self, contact_type, vals):
        """This customer, or its child contact of ``contact_type`` with the address ``vals``."""
        self.ensure_one()
        if self._oms_same_address(vals):
            return self
        for child in self.child_ids.filtered(lambda c: c.type == contact_type):
            if child._oms_same_address(vals):
                return child
        return self.create(dict(vals, parent_id=self.id, type=contact_type))
