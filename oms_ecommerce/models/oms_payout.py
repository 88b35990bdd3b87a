# Longer than ~400 lines on purpose: a payout's fields, its guarded transitions (match, post, cancel, draft) and
# the journal entry they post are one state machine; its lines and their matching are in oms_payout_line.py.
from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError

from ..tools.actions import window_action

# Context value that lets the payout's own methods write its state and entry: an object, so that no RPC call
# (whose context is JSON) can pass it.
_TRANSITION = object()
# Fields of a payout written by the payout's own transitions only.
_TRANSITION_FIELDS = {"state", "move_id", "clearing_line_id"}

MATCH_STATES = [
    ("matched", "Matched"),
    ("unknown_order", "Unknown order"),
    ("amount_differs", "Amount differs"),
    ("already_paid", "Already paid"),
    ("not_invoiced", "Not invoiced yet"),
    ("no_credit_note", "No credit note"),
    ("net_differs", "Net differs"),
    ("currency_differs", "Currency differs"),
    ("duplicate", "Duplicate line"),
]


class OmsPayout(models.Model):
    """A statement from a channel (payout) or a courier (COD remittance) of the money it sends for orders.

    Posting makes one journal entry in the payout journal. For each matched line it clears what is still open
    for the order:

    * an unpaid invoice (COD, pending, or an invoice not paid through the channel): its receivable line;
    * an invoice paid by the channel payment the accounting cron registered: that payment's outstanding line
      (the money the channel collected and still owed us);
    * an order of a channel that never invoices: the gross is revenue on the channel's marketplace account;
    * a refund: the receivable of the order's open credit note.

    Fees are debited to the fee account and the net to the clearing account, where it waits for the bank
    statement line; every cleared line is reconciled with its counterpart in the entry.
    """

    _name = "oms.payout"
    _description = "Channel Payout or COD Remittance"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default=lambda self: self.env._("New"))
    reference = fields.Char(
        required=True, tracking=True, help="The payout's reference in the channel, also on the bank statement line."
    )
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    kind = fields.Selection(
        [("channel", "Channel payout"), ("cod", "COD remittance")], required=True, default="channel", tracking=True
    )
    channel_id = fields.Many2one("oms.channel", string="Channel", check_company=True, tracking=True)
    carrier_id = fields.Many2one("delivery.carrier", string="Courier", check_company=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner",
        compute="_compute_from_source",
        store=True,
        readonly=False,
        check_company=True,
        help="The marketplace or the courier that sends the money.",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id", store=True, readonly=False, required=True, precompute=True
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    journal_id = fields.Many2one(
        "account.journal",
        string="Journal",
        compute="_compute_from_source",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type', '=', 'general')]",
    )
    fee_account_id = fields.Many2one(
        "account.account",
        string="Fee Account",
        compute="_compute_from_source",
        store=True,
        readonly=False,
        check_company=True,
    )
    clearing_account_id = fields.Many2one(
        "account.account",
        string="Clearing Account",
        compute="_compute_from_source",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('reconcile', '=', True)]",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    line_ids = fields.One2many("oms.payout.line", "payout_id", string="Lines", copy=True)
    mismatch_line_ids = fields.One2many(
        "oms.payout.line", "payout_id", string="Mismatches", domain=[("match_state", "!=", "matched")]
    )
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, copy=False, check_company=True)
    clearing_line_id = fields.Many2one(
        "account.move.line",
        string="Clearing Line",
        readonly=True,
        copy=False,
        help="The net, for the bank.",
        check_company=True,
    )
    bank_reconciled = fields.Boolean(compute="_compute_bank_reconciled", string="In the Bank")
    gross_total = fields.Monetary(compute="_compute_totals", store=True, string="Gross")
    fee_total = fields.Monetary(compute="_compute_totals", store=True, string="Fees")
    refund_total = fields.Monetary(compute="_compute_totals", store=True, string="Refunds")
    net_total = fields.Monetary(compute="_compute_totals", store=True, string="Net")
    matched_net_total = fields.Monetary(
        compute="_compute_totals", store=True, string="Net Posted", help="Net of the matched lines: what is booked."
    )
    matched_count = fields.Integer(compute="_compute_totals", store=True, string="Matched")
    mismatch_count = fields.Integer(compute="_compute_totals", store=True, string="Mismatched")
    import_progress_id = fields.Many2one(
        "oms.job.progress",
        string="Import in Progress",
        compute="_compute_import_progress_id",
        help="The background import of this payout's file, while its lines are created and matched.",
    )  # no check_company: the company check at create would compute (and cache) it before the import starts
    import_progress = fields.Integer(string="Imported (%)", compute="_compute_import_progress_id")

    # NULLS NOT DISTINCT (PostgreSQL 15): one of channel_id and carrier_id is always empty, and a plain UNIQUE
    # treats every NULL as distinct, so it would never fire.
    _company_reference_uniq = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (company_id, kind, channel_id, carrier_id, reference)",
        "This payout reference was already imported for this channel or courier.",
    )

    @api.depends("kind", "channel_id", "company_id")
    def _compute_currency_id(self):
        """A channel's payout is in the channel's currency; a COD remittance in the company's."""
        for payout in self:
            company = payout.company_id or self.env.company
            if payout.kind == "channel" and payout.channel_id:
                payout.currency_id = payout.channel_id.currency_id
            else:
                payout.currency_id = payout.currency_id or company.currency_id

    @api.depends("kind", "channel_id", "carrier_id")
    def _compute_from_source(self):
        for payout in self:
            company = payout.company_id or self.env.company
            general = self.env["account.journal"].search(
                [*self.env["account.journal"]._check_company_domain(company), ("type", "=", "general")], limit=1
            )
            if payout.kind == "cod":
                carrier = payout.carrier_id
                payout.partner_id = carrier.oms_cod_partner_id or payout.partner_id
                payout.fee_account_id = carrier.oms_fee_account_id or payout.fee_account_id
                payout.clearing_account_id = carrier.oms_clearing_account_id or payout.clearing_account_id
                payout.journal_id = payout.journal_id or general
            else:
                channel = payout.channel_id
                payout.partner_id = channel.payout_partner_id or payout.partner_id
                payout.fee_account_id = channel.fee_account_id or payout.fee_account_id
                payout.clearing_account_id = channel.clearing_account_id or payout.clearing_account_id
                payout.journal_id = channel.payout_journal_id or payout.journal_id or general

    @api.depends("line_ids.gross", "line_ids.fee", "line_ids.refund", "line_ids.net", "line_ids.match_state")
    def _compute_totals(self):
        for payout in self:
            lines = payout.line_ids
            matched = lines.filtered(lambda line: line.match_state == "matched")
            payout.gross_total = sum(lines.mapped("gross"))
            payout.fee_total = sum(lines.mapped("fee"))
            payout.refund_total = sum(lines.mapped("refund"))
            payout.net_total = sum(lines.mapped("net"))
            payout.matched_net_total = sum(matched.mapped("net"))
            payout.matched_count = len(matched)
            payout.mismatch_count = len(lines) - len(matched)

    @api.depends("clearing_line_id.reconciled")
    def _compute_bank_reconciled(self):
        for payout in self:
            payout.bank_reconciled = bool(payout.clearing_line_id.reconciled)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("oms.payout") or self.env._("New")
        return super().create(vals_list)

    def write(self, vals):
        """Only a draft payout can be edited; its state and entry change through its actions only (post, cancel,
        reset to draft), never by a plain write (from RPC for instance). Chatter and activities stay open."""
        if self.env.context.get("oms_payout_transition") is not _TRANSITION:
            if _TRANSITION_FIELDS & set(vals):
                raise UserError(
                    self.env._("The status and the entry of a payout change through its Post and Cancel buttons.")
                )
            editable = {name for name in vals if name.startswith(("message_", "activity_"))}
            if set(vals) - editable:
                self._check_editable()
        return super().write(vals)

    def _write_transition(self, vals):
        return self.with_context(oms_payout_transition=_TRANSITION).write(vals)

    def _check_editable(self):
        for payout in self:
            if payout.state != "draft":
                raise UserError(
                    self.env._(
                        "Payout %(payout)s is not a draft and cannot be changed: cancel it and reset it to draft.",
                        payout=payout.name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_if_draft(self):
        if any(payout.state != "draft" for payout in self):
            raise UserError(
                self.env._("Only a draft payout can be deleted: cancel a posted payout and reset it to draft first.")
            )

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------
    def action_match(self):
        self._check_draft()
        self.line_ids._oms_match()
        return True

    def _order_domain(self, external_ids):
        self.ensure_one()
        domain = [("oms_external_id", "in", external_ids), ("company_id", "=", self.company_id.id)]
        if self.kind == "cod":
            return [*domain, ("oms_payment_status", "=", "cod"), ("carrier_id", "=", self.carrier_id.id)]
        return [*domain, ("oms_channel_id", "=", self.channel_id.id)]

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------
    def _check_draft(self, importing=True):
        """Only a draft payout is matched or posted; and not while its file is imported (``importing``)."""
        for payout in self:
            if payout.state != "draft":
                raise UserError(
                    self.env._(
                        "Payout %(payout)s is %(state)s: only a draft payout can be matched or posted.",
                        payout=payout.name,
                        state=dict(payout._fields["state"]._description_selection(self.env))[payout.state],
                    )
                )
        if importing:
            for payout in self.filtered("import_progress_id"):
                raise UserError(
                    self.env._(
                        "Payout %(payout)s is still being imported (%(progress)s %%): wait until it is done.",
                        payout=payout.name,
                        progress=payout.import_progress_id.progress,
                    )
                )

    def _compute_import_progress_id(self):
        running = (
            self.env["oms.job.progress"]
            .sudo()
            .search([("payout_id", "in", self.ids), ("kind", "=", "payout_import"), ("state", "=", "running")])
        )
        by_payout = {progress.payout_id.id: progress for progress in running}
        for payout in self:
            progress = by_payout.get(payout.id, running.browse())
            payout.import_progress_id = progress
            payout.import_progress = progress.progress

    def _check_accountant(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(self.env._("Only users with Billing or Accounting rights can post or cancel payouts."))

    def _lock(self, records):
        """Lock ``records`` (payouts or orders) for this transaction; refuse clearly if someone else holds them."""
        try:
            records.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "%(records)s are being changed by another user or the accounting cron right now: "
                    "try again in a moment.",
                    records=", ".join(records.mapped("display_name")[:10]),
                )
            ) from None

    def action_post(self):
        """Match the lines again and book the matched ones in one journal entry (refused if not draft)."""
        self._check_accountant()
        # Lock the payouts: two users posting the same payout at once make one entry, not two.
        self._lock(self)
        self.invalidate_recordset(["state"])
        self._check_draft()
        for payout in self:
            payout._post()
        return True

    def _source_config(self):
        """({field: the channel's (or courier's) value}, where to set them) for the payout's accounting settings."""
        self.ensure_one()
        if self.kind == "cod":
            carrier = self.carrier_id
            where = self.env._("on the COD Remittances tab of courier %(carrier)s", carrier=carrier.display_name)
            source = {
                "partner_id": carrier.oms_cod_partner_id,
                "fee_account_id": carrier.oms_fee_account_id,
                "clearing_account_id": carrier.oms_clearing_account_id,
                "journal_id": self.env["account.journal"],
            }
        else:
            channel = self.channel_id
            where = self.env._("on the Accounting tab of channel %(channel)s", channel=channel.display_name)
            source = {
                "partner_id": channel.payout_partner_id,
                "fee_account_id": channel.fee_account_id,
                "clearing_account_id": channel.clearing_account_id,
                "journal_id": channel.payout_journal_id,
            }
        return source, where

    def _fill_from_source(self, need_fee_account):
        """Fill the empty accounting settings of the payout from its channel or courier; refuse, naming the
        payout and where to configure it, when one is still missing."""
        self.ensure_one()
        source, where = self._source_config()
        labels = {
            "journal_id": self.env._("a payout journal"),
            "clearing_account_id": self.env._("a clearing account"),
            "partner_id": self.env._("a payout partner"),
            "fee_account_id": self.env._("a fee account (it has fees)"),
        }
        vals, missing = {}, []
        for field, label in labels.items():
            if self[field] or (field == "fee_account_id" and not need_fee_account):
                continue
            if source[field]:
                vals[field] = source[field].id
            else:
                missing.append(label)
        if missing:
            raise UserError(
                self.env._(
                    "Payout %(payout)s (%(reference)s) cannot be posted: it needs %(what)s. Set it %(where)s, "
                    "or on the payout itself.",
                    payout=self.name,
                    reference=self.reference,
                    what=", ".join(missing),
                    where=where,
                )
            )
        if vals:
            self.write(vals)

    def _post(self):
        self.ensure_one()
        # Lock the orders of the payout: two payouts posted at once cannot settle the same order (in particular
        # an order of a channel that never invoices, which has no open item to reconcile).
        orders = self.env["sale.order"].search(self._order_domain(list(set(self.line_ids.mapped("external_id")))))
        self._lock(orders)
        self.line_ids._oms_match()
        matched = self.line_ids.filtered(lambda line: line.match_state == "matched")
        if not matched:
            raise UserError(self.env._("Payout %(payout)s has no matched line to post.", payout=self.name))
        self._fill_from_source(need_fee_account=not self.currency_id.is_zero(sum(matched.mapped("fee"))))
        line_vals, pairs = self._prepare_move_lines(matched)
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.journal_id.id,
                "date": self.date,
                "ref": self.env._("Payout %(reference)s", reference=self.reference),
                "company_id": self.company_id.id,
                "line_ids": [fields.Command.create(vals) for vals in line_vals],
            }
        )
        move.action_post()
        # The entry's lines are in the order of line_vals: pair each cleared line with its counterpart.
        lines = move.line_ids.sorted("id")
        plan = [counterpart + lines[index] for index, counterpart in pairs]
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        clearing = lines.filtered(lambda line: line.account_id == self.clearing_account_id)[-1:]
        self._write_transition({"state": "posted", "move_id": move.id, "clearing_line_id": clearing.id})
        self.message_post(
            body=self.env._(
                "Posted: %(matched)s lines booked in %(move)s; %(mismatched)s lines left out.",
                matched=len(matched),
                move=move.name,
                mismatched=len(self.line_ids) - len(matched),
            )
        )

    def _prepare_move_lines(self, matched):
        """(list of account.move.line values, [(index in the list, line it clears)])."""
        company = self.company_id
        currency = self.currency_id
        label = self.reference

        def convert(amount):
            return currency._convert(amount, company.currency_id, company, self.date)

        vals_list, pairs = [], []
        for line in matched:
            for counterpart in line.move_line_ids:
                amount_currency = -counterpart.amount_residual_currency
                pairs.append((len(vals_list), counterpart))
                vals_list.append(
                    {
                        "name": f"{label} {line.external_id}",
                        "account_id": counterpart.account_id.id,
                        "partner_id": counterpart.partner_id.id,
                        "currency_id": counterpart.currency_id.id,
                        "amount_currency": amount_currency,
                        "balance": convert(amount_currency)
                        if counterpart.currency_id == currency
                        else -counterpart.amount_residual,
                    }
                )
            revenue_vals = self._prepare_revenue_move_line(line, convert)
            if revenue_vals:
                vals_list.append(revenue_vals)
        fees = sum(matched.mapped("fee"))
        if not currency.is_zero(fees):
            vals_list.append(
                {
                    "name": self.env._("%(label)s fees", label=label),
                    "account_id": self.fee_account_id.id,
                    "partner_id": self.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": fees,
                    "balance": convert(fees),
                }
            )
        net = sum(matched.mapped("net"))
        # The net takes what rounding in company currency left over, so that the entry balances.
        vals_list.append(
            {
                "name": self.env._("%(label)s net", label=label),
                "account_id": self.clearing_account_id.id,
                "partner_id": self.partner_id.id,
                "currency_id": currency.id,
                "amount_currency": net,
                "balance": -company.currency_id.round(sum(vals["balance"] for vals in vals_list)),
            }
        )
        return vals_list, pairs

    def _prepare_revenue_move_line(self, line, convert):
        """The revenue line of an order its channel never invoices (the payout books its sale), or None.

        :param convert: the payout's amount in company currency, at the payout's date
        """
        channel = line.order_id.oms_channel_id
        if channel.invoice_policy != "never" or self.kind != "channel":
            return None
        revenue = line.gross - line.refund
        if self.currency_id.is_zero(revenue):
            return None
        account = channel.payout_income_account_id or self._default_income_account(channel)
        return {
            "name": self.env._("%(label)s %(order)s revenue", label=self.reference, order=line.external_id),
            "account_id": account.id,
            "partner_id": self.partner_id.id,
            "currency_id": self.currency_id.id,
            "amount_currency": -revenue,
            "balance": convert(-revenue),
        }

    def _default_income_account(self, channel):
        account = self.env["account.account"].search(
            [*self.env["account.account"]._check_company_domain(self.company_id), ("account_type", "=", "income")],
            limit=1,
        )
        if not account:
            raise UserError(
                self.env._(
                    "Payout %(payout)s books marketplace revenue, but the company has no income account: set a "
                    "Marketplace Revenue Account on the Accounting tab of channel %(channel)s.",
                    payout=self.name,
                    channel=channel.display_name,
                )
            )
        return account

    def action_cancel(self):
        """Unreconcile and cancel the payout's entry; the payout can then be reset to draft and posted again.
        Refused while the payout's net is reconciled with a bank statement line: cancelling would leave the
        statement line reconciled against a cancelled entry."""
        self._check_accountant()
        for payout in self.filtered("bank_reconciled"):
            raise UserError(
                self.env._(
                    "Payout %(payout)s is matched with a bank statement line: undo that bank reconciliation first "
                    "(Undo reconciliation on the statement line), then cancel the payout.",
                    payout=payout.name,
                )
            )
        for payout in self.filtered(lambda p: p.state == "posted"):
            move = payout.move_id
            move.line_ids.remove_move_reconcile()
            move.button_draft()
            move.button_cancel()
            payout.message_post(body=self.env._("Cancelled; entry %(move)s cancelled.", move=move.name))
        self._write_transition({"state": "cancel", "clearing_line_id": False})
        return True

    def action_draft(self):
        self._check_accountant()
        for payout in self:
            if payout.state != "cancel":
                raise UserError(self.env._("Only a cancelled payout can be reset to draft."))
        self._write_transition({"state": "draft", "move_id": False})
        return True

    def action_view_move(self):
        self.ensure_one()
        return window_action(self.move_id)

    # ------------------------------------------------------------------
    # Bank
    # ------------------------------------------------------------------
    def action_reconcile_bank(self):
        """Find the bank statement line of each posted payout (its reference in the label, its net amount) and
        reconcile it with the payout's clearing line."""
        self._check_accountant()
        st_lines = self.env["account.bank.statement.line"].search(
            [
                ("company_id", "in", self.company_id.ids),
                ("is_reconciled", "=", False),
            ]
        )
        done = st_lines._oms_reconcile_payouts(self.filtered(lambda p: p.state == "posted"))
        if not done:
            raise UserError(
                self.env._(
                    "No unreconciled bank statement line carries the reference and the net amount of these payouts."
                )
            )
        return True
