import re
from email.utils import formataddr

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools.actions import window_action
from .oms_order_step import STEPS

# An order's life, left to right, then the exceptions: the columns of the step kanban; the closed ones folded.
STEP_ORDER_PART = re.compile(r"\s*oms_step(?:\s+(?P<direction>asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*", re.I)
FOLDED_STEPS = ("delivered", "cancelled", "returned")

# Fields of the order desk: a customer reads their order on the portal, or through RPC, without them.
INTERNAL = "base.group_user"


class OmsDeliveredAtError(UserError):
    """A delivery time that cannot be true: before the order shipped, or in the future."""


# Written by the system only (the intake, the step hooks, the crons, the actions after their checks):
# a user's write, through the UI or RPC, would skip the checks or rewrite the order's history.
SYSTEM_FIELDS = frozenset(
    {
        "oms_channel_id",
        "oms_external_id",
        "oms_intake_id",
        "oms_placed_at",
        "oms_step_ids",
        "oms_hold",
        "oms_hold_reason",
        "oms_ship_by",
        "oms_delayed",
        "oms_ship_outcome",
        "oms_confirm_by",
        "oms_confirm_overdue",
        "oms_confirm_reminded",
        "oms_delivered_at",
        "oms_channel_total",
    }
)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    oms_channel_id = fields.Many2one(
        "oms.channel",
        string="Sales Channel",
        index="btree_not_null",
        readonly=True,
        copy=False,
        check_company=True,
    )
    oms_external_id = fields.Char(
        string="Channel Order ID", readonly=True, copy=False, help="The order's id in the channel."
    )
    oms_intake_id = fields.Many2one(
        "oms.intake", string="Intake", readonly=True, copy=False, groups=INTERNAL, check_company=True
    )
    oms_placed_at = fields.Datetime(string="Placed At", readonly=True, copy=False)
    oms_step = fields.Selection(
        STEPS,
        string="Step",
        group_expand=True,
        compute="_compute_oms_step",
        store=True,
        index=True,
        copy=False,
    )
    oms_step_ids = fields.One2many("oms.order.step", "order_id", string="Steps", copy=False)
    oms_hold = fields.Boolean(string="On Hold", copy=False, tracking=True, readonly=True)
    oms_hold_reason = fields.Text(
        string="Hold Reason",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="Internal: the customer only sees that the order is on hold.",
    )
    oms_ship_by = fields.Datetime(string="Ship By", copy=False, readonly=True, index=True)
    oms_delayed = fields.Boolean(string="Late", copy=False, readonly=True, index=True, groups=INTERNAL)
    oms_ship_outcome = fields.Selection(
        [("on_time", "Shipped on time"), ("late", "Shipped late")],
        string="Ship-by Outcome",
        copy=False,
        readonly=True,
        groups=INTERNAL,
    )
    oms_confirm_by = fields.Datetime(string="Confirm By", copy=False, readonly=True, groups=INTERNAL)
    oms_confirm_overdue = fields.Boolean(string="Confirmation Overdue", copy=False, readonly=True, groups=INTERNAL)
    oms_confirm_reminded = fields.Boolean(
        string="Reminded to Confirm",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="The responsible has a reminder to confirm this order (made by the scheduled action once the order "
        "has waited; removed by its confirmation).",
    )
    oms_delivered_at = fields.Datetime(string="Delivered At", copy=False, readonly=True, tracking=True)
    oms_customer_note = fields.Text(string="Customer Note", copy=False)
    oms_gift_message = fields.Text(string="Gift Message", copy=False)
    oms_shipping_method = fields.Char(
        string="Shipping Service", copy=False, help="The shipping method the customer chose on the channel."
    )
    oms_payment_status = fields.Selection(
        [("paid", "Paid"), ("pending", "Pending"), ("cod", "Cash on Delivery")],
        string="Channel Payment",
        copy=False,
    )
    oms_payment_method = fields.Char(string="Channel Payment Method", copy=False)
    oms_payment_reference = fields.Char(string="Payment Reference", copy=False, groups=INTERNAL)
    oms_payment_amount = fields.Monetary(string="Amount Paid", copy=False)
    oms_channel_total = fields.Monetary(
        string="Channel Total",
        copy=False,
        readonly=True,
        help="What the customer paid or must pay on the channel, tax and shipping included (the payload's total).",
    )

    oms_email_from = fields.Char(compute="_compute_oms_email_from", string="Channel Sender")
    oms_notify_partner_id = fields.Many2one(
        "res.partner", compute="_compute_oms_notify_partner_id", string="Notified Contact"
    )

    _oms_channel_external_uniq = models.Constraint(
        "UNIQUE (oms_channel_id, oms_external_id)",
        "This channel already has an order with this external id.",
    )
    # The scheduled actions that scan orders read only the few that may be due: shipped, cancelled and
    # flagged orders (nearly all of them, as the database grows) are outside these partial indexes. Each
    # WHERE is the SQL the cron's domain becomes, so that PostgreSQL can prove the index covers the query.
    _oms_delay_scan_idx = models.Index(
        "(oms_ship_by) WHERE oms_channel_id IS NOT NULL AND oms_delayed IS NOT TRUE AND oms_ship_outcome IS NULL "
        "AND state IN ('draft', 'sent', 'sale')"
    )
    _oms_confirm_scan_idx = models.Index(
        "(oms_confirm_by) WHERE oms_channel_id IS NOT NULL AND oms_confirm_overdue IS NOT TRUE "
        "AND oms_hold IS NOT TRUE AND state IN ('draft', 'sent')"
    )
    _oms_remind_scan_idx = models.Index(
        "(create_date) WHERE oms_channel_id IS NOT NULL AND oms_confirm_reminded IS NOT TRUE "
        "AND oms_hold IS NOT TRUE AND state IN ('draft', 'sent')"
    )

    # ------------------------------------------------------------------
    # Steps read left to right: grouped in the order of an order's life, not alphabetically
    # ------------------------------------------------------------------
    def _read_group_orderby(self, order, groupby_terms, query):
        """Groups by step come in the order of STEPS (received … delivered, then the exceptions):
        kanban columns, pivot rows and graph bars alike."""
        if "oms_step" not in groupby_terms:
            return super()._read_group_orderby(order, groupby_terms, query)
        terms = []
        for part in (order or ",".join(groupby_terms)).split(","):
            match = STEP_ORDER_PART.fullmatch(part)
            if match:
                direction = SQL("DESC") if (match["direction"] or "").upper() == "DESC" else SQL("ASC")
                terms.append(
                    SQL(
                        "array_position(%s::varchar[], %s::varchar) %s",
                        [value for value, _label in STEPS],
                        groupby_terms["oms_step"],
                        direction,
                    )
                )
            elif part.strip():
                terms.append(super()._read_group_orderby(part.strip(), groupby_terms, query))
        return SQL(", ").join(term for term in terms if term)

    @api.model
    def formatted_read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        """Kanban by step: the closed steps' columns come folded."""
        groups = super().formatted_read_group(
            domain, groupby, aggregates, having=having, offset=offset, limit=limit, order=order
        )
        if list(groupby) == ["oms_step"] and self.env.context.get("read_group_expand"):
            for group in groups:
                group["__fold"] = group.get("oms_step") in FOLDED_STEPS
        return groups

    @api.depends("oms_channel_id.name", "company_id.email", "company_id.name")
    def _compute_oms_email_from(self):
        for order in self:
            email = order.company_id.email or order.company_id.partner_id.email
            order.oms_email_from = (
                formataddr((order.oms_channel_id.name or order.company_id.name, email)) if email else False
            )

    @api.depends("partner_shipping_id.email", "partner_id.email")
    def _compute_oms_notify_partner_id(self):
        """The delivery contact if it has an email, else the customer; never an employee or a vendor."""
        for order in self:
            recipient = self.env["res.partner"]
            for partner in (order.partner_shipping_id, order.partner_id):
                if partner.email and not partner.user_ids.filtered(lambda u: not u.share):
                    if partner.commercial_partner_id.supplier_rank and not partner.commercial_partner_id.customer_rank:
                        continue
                    recipient = partner
                    break
            order.oms_notify_partner_id = recipient

    @api.private
    def oms_tracking(self):
        """Tracking of the order's shipments, for templates and the API."""
        return self._oms_tracking()

    def _oms_waits_for_tracking(self):
        """A shipped delivery whose carrier tracks parcels has no tracking number yet."""
        self.ensure_one()
        shipped = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state == "done")
        return any(
            p.carrier_id
            and (p.carrier_id.tracking_url or p.carrier_id.delivery_type not in ("fixed", "base_on_rule"))
            and not p.carrier_tracking_ref
            for p in shipped
        )

    @api.depends(
        "oms_channel_id",
        "state",
        "oms_hold",
        "oms_delayed",
        "oms_delivered_at",
        "picking_ids.state",
        "picking_ids.move_ids.state",
        "picking_ids.batch_id",
        "picking_ids.move_line_ids.result_package_id",
    )
    def _compute_oms_step(self):
        """The order's step, derived from Odoo's own states (docs/ARCHITECTURE.md, the order's life as the code sees it)."""
        for order in self:
            order.oms_step = order._oms_derive_step() if order.oms_channel_id else False

    def _oms_derive_step(self):
        self.ensure_one()
        if self.state == "cancel":
            return "cancelled"
        outgoing = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and not p.return_id)
        returns = self.picking_ids.filtered(lambda p: p.return_id and p.picking_type_code == "incoming")
        if any(r.state == "done" for r in returns):
            return "returned"
        if self.oms_delivered_at:
            return "delivered"
        open_outgoing = outgoing.filtered(lambda p: p.state not in ("done", "cancel"))
        if outgoing and not open_outgoing and any(p.state == "done" for p in outgoing):
            return "shipped"
        if self.oms_hold:
            return "on_hold"
        if self.oms_delayed:
            return "delayed"
        if self.state != "sale":
            return "received"
        if open_outgoing and all(p._oms_is_packed() for p in open_outgoing):
            return "packed"
        if any(p.state == "assigned" or p.batch_id for p in open_outgoing):
            return "processing"
        return "confirmed"

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        channel_orders = orders.filtered("oms_channel_id")
        if channel_orders:
            self.env["oms.order.step"].sudo().create(
                [
                    {
                        "order_id": order.id,
                        "step": "received",
                        "at": order.oms_intake_id.received_at or fields.Datetime.now(),
                    }
                    for order in channel_orders
                ]
            )
        return orders

    def write(self, vals):
        guarded = SYSTEM_FIELDS.intersection(vals)
        if guarded and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of an order are kept by the order desk's actions, not written by hand: use the "
                    "order's buttons (or the channel API).",
                    fields=", ".join(self._fields[name].string for name in sorted(guarded)),
                )
            )
        return super().write(vals)

    def _oms_lock(self):
        """Lock the rows of ``self`` until the end of the transaction. A concurrent transaction that changed
        one of them meanwhile makes this one fail with a serialization error, and Odoo retries the whole
        request: the repeat then sees what the first one did, as a sequential repeat would."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM sale_order WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )

    def _action_confirm(self):
        """Confirm; for the channel orders, set-based: one lock, the reminders (if any) removed in one go, the steps
        reached (confirmed, then processing when the stock rules reserved at once) recorded together at the end.
        Their emails are composed by a queue job right after the transaction: whoever confirms does not wait."""
        channel_orders = self.filtered("oms_channel_id")
        if not channel_orders:
            return super()._action_confirm()
        channel_orders._oms_lock()
        reminded = channel_orders.filtered(lambda o: o.oms_confirm_reminded or o.oms_confirm_overdue)
        reminded.sudo().write({"oms_confirm_reminded": False, "oms_confirm_overdue": False})
        confirming = frozenset(self.env.context.get("oms_confirming_ids", ())) | frozenset(channel_orders.ids)
        # The stock rules may reserve at once; the step of these orders is recorded below, not there.
        res = super(SaleOrder, self.with_context(oms_confirming_ids=confirming))._action_confirm()
        steps = channel_orders.with_context(oms_notify_in_background=True)._oms_reach_steps(
            before=["confirmed"], locked=True
        )
        if not self.env.context.get("oms_notify_in_background"):  # else the bulk operation does, where it ends
            steps.filtered(lambda s: s.notification == "queued")._oms_enqueue_notify()
        # Last: deleting records empties the ORM's cache, whatever was read before would be read again. Only
        # the orders that waited long enough to be reminded have a reminder (``_oms_remind_to_confirm``).
        if reminded:  # activity_unlink() searches even for no record
            reminded.activity_unlink(["oms_ecommerce.mail_activity_type_oms_confirm"])
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self._oms_record_step("cancelled")
        return res

    def _oms_record_step(self, step, at=None):
        """Record that the channel orders of ``self`` reached ``step`` (once per order and step).

        Steps are the system's: written with sudo once the caller did its checks. The orders are locked
        first, so that two transactions recording the same step do not both insert it."""
        self._oms_record_steps({order: [step] for order in self}, at=at)

    def _oms_record_steps(self, steps_by_order, at=None, locked=False):
        """Record the steps ``{order: [step, …]}`` reached by channel orders, in the given order, at once:
        one lock, one look-up of the steps already recorded, one insert (once per order and step).

        :param locked: the caller locked the orders already (``_oms_lock``) in this transaction
        :return: the steps recorded
        """
        Step = self.env["oms.order.step"].sudo()
        orders = self.browse([order.id for order, steps in steps_by_order.items() if steps]).filtered("oms_channel_id")
        if not orders:
            return Step
        if not locked:
            orders._oms_lock()
        wanted = {step for order in orders for step in steps_by_order[order]}
        reached = set(
            Step.search_fetch(
                [("order_id", "in", orders.ids), ("step", "in", list(wanted))], ["order_id", "step"]
            ).mapped(lambda s: (s.order_id.id, s.step))
        )
        now = fields.Datetime.now()
        vals_list = []
        for order in orders:
            for step in steps_by_order[order]:
                if (order.id, step) not in reached:
                    reached.add((order.id, step))
                    vals_list.append({"order_id": order.id, "step": step, "at": at or now})
        return Step.create(vals_list) if vals_list else Step

    def _oms_reach_steps(self, before=(), locked=False):
        """Record in the history the step each channel order of ``self`` is now at (once per step).

        :param before: steps reached on the way, recorded first (e.g. ``confirmed`` before ``processing``)
        :param locked: the caller locked the orders already in this transaction
        :return: the steps recorded
        """
        confirming = self.env.context.get("oms_confirming_ids")
        orders = self.filtered(lambda o: o.oms_channel_id and (not confirming or o.id not in confirming))
        if not orders:
            return self.env["oms.order.step"]
        return orders._oms_record_steps(
            {order: list(dict.fromkeys(step for step in (*before, order.oms_step) if step)) for order in orders},
            locked=locked,
        )

    def _oms_cancel_from_channel(self):
        """Cancel at the channel's request; refused once a delivery has left the warehouse."""
        self._oms_lock()  # a concurrent repeat waits here, then answers as a sequential one
        for order in self:
            if order._oms_is_shipped():
                raise UserError(
                    self.env._("Order %(order)s has already shipped and can no longer be cancelled.", order=order.name)
                )
        to_cancel = self.filtered(lambda o: o.state != "cancel")
        to_cancel.with_context(oms_keep_platform_refunds=True).action_cancel()
        for order in to_cancel:
            order.message_post(
                body=self.env._("Cancelled at the request of channel %(channel)s.", channel=order.oms_channel_id.name)
            )
        return True

    def action_oms_view_intake(self):
        self.ensure_one()
        return window_action(self.oms_intake_id)
