# Longer than ~400 lines on purpose: the return request as the OMS runs it (portal rules, approval, label,
# reception, refund) on OCA's rma; the order's side is in sale_order_returns.py.
import base64

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.qr import qr_data_uri
from ..tools.xlsx import download_action, xlsx_workbook
from .oms_rma_step import NOTIFIED_RMA_STEPS

RETURN_REASONS = [
    ("damaged", "Damaged"),
    ("wrong_item", "Wrong item"),
    ("does_not_fit", "Does not fit"),
    ("changed_mind", "Changed my mind"),
    ("other", "Other"),
]
RESOLUTIONS = [("refund", "Refund"), ("exchange", "Exchange")]
CONDITIONS = [("resellable", "Resellable"), ("damaged", "Damaged")]


class Rma(models.Model):
    """OCA's RMA, for the returns of channel orders.

    A customer's return request is one RMA per order line (OCA's model is one product per RMA), all
    pointing to the request's first RMA (``oms_lead_id``): its number is the one on the return label,
    its chatter carries the customer's emails and its steps (``oms.rma.step``) the portal timeline.

    What OCA's flow does unchanged: the reception picking on confirmation (the warehouse's RMA route),
    the RMA states, the replacement delivery (``create_replace``). What changes for channel orders:
    approval by the channel's rule, the label, one email per step of the request (OCA's own mails are off
    for them), the reception into stock or quarantine by condition, and the refund, which is the order's
    credit of returned quantities (``sale.order._oms_credit_returns``), never OCA's ``action_refund``.
    """

    _inherit = "rma"

    oms_channel_id = fields.Many2one(
        "oms.channel", related="order_id.oms_channel_id", store=True, index="btree_not_null", string="Channel"
    )
    oms_lead_id = fields.Many2one(
        "rma",
        string="Return Request",
        index="btree_not_null",
        copy=False,
        ondelete="set null",
        help="The first RMA of the customer's request: its number is on the return label.",
        check_company=True,
    )
    oms_request_line_ids = fields.One2many("rma", "oms_lead_id", string="Request Lines")
    oms_reason = fields.Selection(RETURN_REASONS, string="Return Reason", tracking=True)
    oms_resolution = fields.Selection(RESOLUTIONS, string="Customer Wants", tracking=True)
    oms_exchange_product_id = fields.Many2one(
        "product.product",
        string="Exchange For",
        help="The item sent in exchange; the returned product when empty.",
        check_company=True,
    )
    oms_ticket_id = fields.Many2one(
        "oms.ticket", string="Ticket", index="btree_not_null", copy=False, check_company=True
    )
    oms_refuse_reason = fields.Text(string="Refusal Reason", tracking=True, copy=False)
    oms_condition = fields.Selection(CONDITIONS, string="Condition", tracking=True, copy=False)
    oms_step_ids = fields.One2many("oms.rma.step", "rma_id", string="Return Timeline")
    oms_age_days = fields.Integer(string="Age (days)", compute="_compute_oms_age_days")
    oms_order_step = fields.Selection(related="order_id.oms_step", string="Order Step")

    @api.depends("date", "state")
    def _compute_oms_age_days(self):
        now = fields.Datetime.now()
        for rma in self:
            rma.oms_age_days = (now - rma.date).days if rma.date else 0

    # ------------------------------------------------------------------
    # The request
    # ------------------------------------------------------------------
    def _oms_leads(self):
        """The first RMAs of the requests of ``self``."""
        return self.oms_lead_id | self.filtered(lambda r: not r.oms_lead_id)

    def _oms_request(self):
        """The RMAs of the requests of ``self`` (all their lines)."""
        leads = self._oms_leads()
        return leads | leads.oms_request_line_ids

    def _oms_lead(self):
        self.ensure_one()
        return self.oms_lead_id or self

    # ------------------------------------------------------------------
    # Steps and emails
    # ------------------------------------------------------------------
    def _oms_record_rma_step(self, step, attachments=None):
        """Record ``step`` on the requests of ``self`` (once per request) and email the customer about it
        (``attachments``: {request's first RMA: ir.attachment} sent with the email).

        The request's first RMA is locked first: two transactions cannot both record (and email) a step."""
        leads = self.filtered("oms_channel_id")._oms_leads()
        if not leads:
            return self.env["oms.rma.step"]
        self.env.cr.execute(SQL("SELECT id FROM rma WHERE id IN %s ORDER BY id FOR NO KEY UPDATE", tuple(leads.ids)))
        Step = self.env["oms.rma.step"].sudo()
        reached = set(Step.search([("rma_id", "in", leads.ids), ("step", "=", step)]).rma_id.ids)
        todo = leads.filtered(lambda r: r.id not in reached)
        steps = Step.create([{"rma_id": lead.id, "step": step} for lead in todo])
        if step in NOTIFIED_RMA_STEPS:
            template = self.env.ref(f"oms_ecommerce.mail_template_oms_rma_{step}", raise_if_not_found=False)
            for record in steps:
                lead = record.rma_id.sudo()
                if template and lead.partner_id.email and lead.oms_channel_id.notify_returns:
                    attachment = (attachments or {}).get(lead, self.env["ir.attachment"])
                    message = lead.with_context(mail_notify_force_send=False).message_post_with_source(
                        template,
                        subtype_xmlid="mail.mt_comment",
                        message_type="notification",
                        attachment_ids=attachment.ids,
                    )
                    record.mail_message_id = message[:1].id
        return steps

    # OCA's own customer emails (draft, confirmation, receipt) are off for channel returns: ours say it once.
    def _send_draft_email(self):
        return super(Rma, self.filtered(lambda r: not r.oms_channel_id))._send_draft_email()

    def _send_confirmation_email(self):
        return super(Rma, self.filtered(lambda r: not r.oms_channel_id))._send_confirmation_email()

    def _send_receipt_confirmation_email(self):
        return super(Rma, self.filtered(lambda r: not r.oms_channel_id))._send_receipt_confirmation_email()

    # ------------------------------------------------------------------
    # The merchant decides
    # ------------------------------------------------------------------
    def action_oms_approve(self):
        """Approve the whole request: its reception picking waits in the warehouse, the label is emailed."""
        requests = self._oms_request().filtered(lambda r: r.state == "draft")
        if not requests:
            raise UserError(self.env._("Only a requested (draft) return can be approved."))
        requests._oms_approve()
        return True

    def _oms_approve(self):
        self.action_confirm()  # OCA: state confirmed, reception picking by the warehouse's RMA route
        labels = {lead: lead._oms_attach_label() for lead in self.filtered("oms_channel_id")._oms_leads()}
        self._oms_record_rma_step("approved", attachments=labels)
        self._oms_record_rma_step("label_sent")

    def action_oms_refuse(self):
        """Refuse the request with the reason written in *Refusal Reason*; the customer is told why."""
        requests = self._oms_request()
        lead = requests.filtered(lambda r: not r.oms_lead_id)[:1] or self[:1]
        reason = (lead.oms_refuse_reason or "").strip()
        if not reason:
            raise UserError(self.env._("Write the reason of the refusal (the customer reads it) before refusing."))
        if requests.filtered(lambda r: r.state != "draft"):
            raise UserError(
                self.env._("Only a requested (draft) return can be refused; cancel an approved one instead.")
            )
        requests.write({"oms_refuse_reason": reason})
        requests.action_cancel()
        requests._oms_record_rma_step("refused")
        return True

    def _oms_attach_label(self):
        """The label PDF, kept on the request's first RMA for the portal download and sent with the approval."""
        self.ensure_one()
        report = self.env.ref("oms_ecommerce.action_report_rma_label")
        pdf, _type = self.env["ir.actions.report"].sudo()._render_qweb_pdf(report, self.ids)
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{self.name}-return-label.pdf",
                    "raw": pdf,
                    "mimetype": "application/pdf",
                    "res_model": "rma",
                    "res_id": self.id,
                }
            )
        )

    def _oms_auto_approve_problem(self):
        """None when the channel's rule approves this request without a person, else why not."""
        self.ensure_one()
        channel = self.oms_channel_id
        order = self.order_id
        if not channel.return_auto_approve:
            return self.env._("The channel approves returns by hand.")
        if (
            channel.return_auto_approve_max_amount
            and order.currency_id.compare_amounts(order.amount_total, channel.return_auto_approve_max_amount) >= 0
        ):
            return self.env._("The order's value is above the channel's automatic approval limit.")
        problem = order._oms_return_problem()
        if problem:
            return problem
        if any(r.product_id.oms_final_sale for r in self._oms_request()):
            return self.env._("A final-sale product is in the request.")
        return None

    # ------------------------------------------------------------------
    # The parcel comes back
    # ------------------------------------------------------------------
    @api.model
    def _oms_find_by_barcode(self, code):
        """The RMAs a scanned return label stands for: the request's number, or one RMA's."""
        code = (code or "").strip()
        if not code:
            return self.browse()
        found = self.search([("name", "=", code)], limit=1)
        return found._oms_request() if found else self.browse()

    def _oms_receive(self, received):
        """Receive the returned parcel: ``received`` is [(rma, quantity, condition)].

        The RMA's reception move goes to the warehouse's stock (resellable) or its quarantine location
        (damaged) with the quantity received; a smaller quantity than asked becomes the RMA's quantity
        (OCA validates a reception only for the RMA's whole quantity). OCA's ``_action_done`` then marks
        the RMA received, which records the step, sends the replacement of an exchange and, for a refund,
        credits the order the returned quantities (the order's credit of returns)."""
        moves = self.env["stock.move"]
        for rma, qty, condition in received:
            if rma.state != "confirmed" or not rma.reception_move_id:
                raise UserError(
                    self.env._(
                        "%(rma)s is not waiting for its parcel (it is %(state)s).",
                        rma=rma.name,
                        state=dict(rma._fields["state"]._description_selection(self.env))[rma.state],
                    )
                )
            if rma.product_uom.compare(qty, 0.0) <= 0:
                continue
            if rma.product_uom.compare(qty, rma.product_uom_qty) > 0:
                raise UserError(
                    self.env._(
                        "%(rma)s: %(qty)s received, but only %(asked)s were returned with this RMA.",
                        rma=rma.name,
                        qty=qty,
                        asked=rma.product_uom_qty,
                    )
                )
            move = rma.reception_move_id.sudo()
            warehouse = rma.warehouse_id or move.picking_type_id.warehouse_id
            dest = warehouse.lot_stock_id if condition == "resellable" else warehouse._oms_quarantine_location()
            rma.write({"product_uom_qty": qty, "oms_condition": condition})
            move.write({"product_uom_qty": qty, "location_dest_id": dest.id})
            move.quantity = qty
            move.move_line_ids.location_dest_id = dest
            move.picked = True
            moves |= move
        if not moves:
            raise UserError(self.env._("Nothing was received: enter the quantity of at least one item."))
        moves._action_done()
        orders = moves.sale_line_id.order_id.sudo().filtered("oms_channel_id")
        orders._oms_reach_steps()
        return moves

    def update_received_state_on_reception(self):
        res = super().update_received_state_on_reception()
        channel_rmas = self.filtered("oms_channel_id")
        for lead in channel_rmas._oms_leads():
            if all(r.state != "confirmed" for r in lead._oms_request()):
                lead._oms_record_rma_step("received")
        exchanges = channel_rmas.filtered(lambda r: r.oms_resolution == "exchange" and r.can_be_replaced)
        for rma in exchanges:
            rma._oms_send_exchange()
        refunds = channel_rmas.filtered(lambda r: r.oms_resolution == "refund")
        orders = refunds.order_id.sudo()
        if orders:
            orders.flush_recordset(["oms_step"])
            orders.filtered_domain(orders._oms_refund_due_domain())._oms_refund()
        return res

    def _oms_send_exchange(self):
        """The replacement delivery of an exchange, with the order's carrier (for its shipping label)."""
        self.ensure_one()
        product = self.oms_exchange_product_id or self.product_id
        moves_before = self.delivery_move_ids
        self.with_context(rma_return_grouping=False).create_replace(
            fields.Datetime.now(), self.warehouse_id, product, self.product_uom_qty, product.uom_id
        )
        pickings = (self.delivery_move_ids - moves_before).picking_id
        carrier = self.order_id.carrier_id
        if carrier:  # the channel's carrier (its mapping), rather than rma_delivery's company default
            pickings.carrier_id = carrier
        return pickings

    def update_replaced_state(self):
        res = super().update_replaced_state()
        replaced = self.filtered(lambda r: r.oms_channel_id and r.state == "replaced")
        for lead in replaced._oms_leads():
            lead._oms_record_rma_step("exchanged")
        return res

    def _oms_mark_refunded(self, refund):
        """The order's credit note of the returned quantities refunds these received RMAs."""
        self.write({"refund_id": refund.id, "state": "refunded"})
        for lead in self._oms_leads():
            lead._oms_record_rma_step("refunded")
        self._oms_push_refund(refund)

    def _oms_push_refund(self, refund):
        """The refund of these RMAs goes to the channel's platform: one queue job per credit note
        (``account.move._oms_push_refunds``; never a credit note made for a refund on the platform)."""
        return refund._oms_push_refunds()

    # ------------------------------------------------------------------
    # The return label
    # ------------------------------------------------------------------
    def _oms_label_values(self, images=True):
        """One dict per return request of ``self``: the parcel goes from the customer (sender) to the
        warehouse (ship to); the request's number as a Code 128 barcode; a QR code of the return's portal page."""
        labels = []
        report = self.env["ir.actions.report"]
        for lead in self.sudo()._oms_leads():
            request = lead._oms_request()
            warehouse = lead.warehouse_id or lead.order_id.warehouse_id
            ship_to = warehouse.partner_id or lead.company_id.partner_id
            sender = lead.partner_shipping_id or lead.partner_id
            url = lead.get_base_url() + lead.get_portal_url()

            def lines(partner):
                address = partner._display_address(without_company=True) or ""
                return [line for line in address.split("\n") if line.strip()]

            label = {
                "rma": lead,
                "number": lead.name,
                "order": lead.order_id.name or lead.origin or "",
                "channel": lead.oms_channel_id.name or "",
                "ship_to_name": ship_to.name or "",
                "ship_to_lines": lines(ship_to),
                "sender_name": sender.name or sender.commercial_partner_id.name or "",
                "sender_lines": lines(sender),
                "items": [
                    {"name": r.product_id.display_name, "qty": r.product_uom_qty, "reason": r.oms_reason}
                    for r in request.sorted("id")
                ],
                "url": url,
                "lang": sender.lang or lead.partner_id.lang or self.env.lang or "en_US",
            }
            if images:
                label["barcode_src"] = (
                    "data:image/png;base64,"
                    + base64.b64encode(
                        report.barcode("Code128", lead.name, width=800, height=160, humanreadable=0, quiet=0)
                    ).decode()
                )
                label["qr_src"] = qr_data_uri(url)
            labels.append(label)
        return labels

    # ------------------------------------------------------------------
    # XLSX export
    # ------------------------------------------------------------------
    def _oms_xlsx_rows(self):
        state_names = dict(self._fields["state"]._description_selection(self.env))
        reasons = dict(self._fields["oms_reason"]._description_selection(self.env))
        resolutions = dict(self._fields["oms_resolution"]._description_selection(self.env))
        return [
            (
                rma.name,
                fields.Date.to_string(rma.date.date()) if rma.date else "",
                rma.oms_channel_id.name or "",
                rma.order_id.name or "",
                rma.oms_ticket_id.name or "",
                rma.partner_id.display_name or "",
                rma.product_id.display_name or "",
                rma.product_uom_qty,
                reasons.get(rma.oms_reason, ""),
                resolutions.get(rma.oms_resolution, ""),
                state_names.get(rma.state, ""),
                rma.oms_age_days,
            )
            for rma in self
        ]

    def _oms_xlsx(self):
        _ = self.env._
        columns = [
            (_("RMA"), "text"),
            (_("Date"), "text"),
            (_("Channel"), "text"),
            (_("Order"), "text"),
            (_("Ticket"), "text"),
            (_("Customer"), "text"),
            (_("Product"), "text"),
            (_("Quantity"), "number"),
            (_("Reason"), "text"),
            (_("Customer Wants"), "text"),
            (_("Stage"), "text"),
            (_("Age (days)"), "number"),
        ]
        return xlsx_workbook(
            _("Returns"), columns, self._oms_xlsx_rows(), totals={7: sum(self.mapped("product_uom_qty"))}
        )

    def action_oms_export_xlsx(self):
        if not self:
            raise UserError(self.env._("Select the returns to export."))
        return download_action(self.env, self.env._("Returns") + ".xlsx", self._oms_xlsx())

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------
    def _oms_portal_steps(self):
        """The request's steps for the portal timeline, in order."""
        self.ensure_one()
        return self.sudo()._oms_lead().oms_step_ids.sorted(lambda s: (s.at, s.id))

    def _oms_label_attachment(self):
        self.ensure_one()
        lead = self.sudo()._oms_lead()
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", "rma"), ("res_id", "=", lead.id), ("name", "=", f"{lead.name}-return-label.pdf")],
                order="id desc",
                limit=1,
            )
        )
