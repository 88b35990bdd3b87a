import base64

from odoo import api, fields, models
from odoo.addons.queue_job.delay import chain
from odoo.exceptions import UserError

from ..tools.actions import window_action
from .oms_intake_import import _number, _text

# Accepted header names (lower case) of each column of a payout file.
ALIASES = {
    "external_id": ("external_id", "order", "order_id", "order id", "order_number", "order number", "external id"),
    "gross": ("gross", "amount", "gross_amount", "gross amount", "sales"),
    "fee": ("fee", "fees", "commission", "fee_amount"),
    "refund": ("refund", "refunds", "refund_amount"),
    "net": ("net", "net_amount", "net amount", "payout"),
    "currency": ("currency", "currency_code"),
}
REQUIRED = ("external_id", "gross")
AMOUNTS = ("gross", "fee", "refund", "net")
# A file of more rows than oms_ecommerce.payout_background_rows (1,000) is imported by queue_job jobs: its
# preview shows the first rows and every row with a problem, its lines are created 500 per job, then matched.
PREVIEW_ROWS = 100
PAYOUT_CHUNK = 500


class OmsPayoutImport(models.TransientModel):
    """Read a payout statement (CSV or XLSX), show its rows and their problems, then create a draft payout."""

    _name = "oms.payout.import"
    _description = "Import a payout or COD remittance"

    kind = fields.Selection(
        [("channel", "Channel payout"), ("cod", "COD remittance")], required=True, default="channel"
    )
    channel_id = fields.Many2one("oms.channel", string="Channel")
    carrier_id = fields.Many2one("delivery.carrier", string="Courier")
    reference = fields.Char(required=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    file = fields.Binary(required=True, string="File")
    filename = fields.Char()
    state = fields.Selection([("upload", "Upload"), ("preview", "Preview")], default="upload")
    line_ids = fields.One2many("oms.payout.import.line", "wizard_id", string="Rows")
    problem_count = fields.Integer(compute="_compute_problem_count")
    row_count = fields.Integer(string="Rows in the File", readonly=True)
    background = fields.Boolean(
        compute="_compute_background", help="The file is large: its payout is created by background jobs."
    )

    @api.depends("row_count")
    def _compute_background(self):
        threshold = self._background_rows()
        for wizard in self:
            wizard.background = wizard.row_count > threshold

    @api.model
    def _background_rows(self):
        return int(self.env["ir.config_parameter"].sudo().get_param("oms_ecommerce.payout_background_rows", 1000))

    @api.depends("line_ids.problem")
    def _compute_problem_count(self):
        for wizard in self:
            wizard.problem_count = len(wizard.line_ids.filtered("problem"))

    def _currency(self):
        self.ensure_one()
        if self.kind == "cod":
            return self.env.company.currency_id
        return self.channel_id.currency_id

    def _read_rows(self):
        """[(row number, {column: value})] of the file, columns mapped by ALIASES."""
        self.ensure_one()
        content = base64.b64decode(self.file or b"")
        reader = self.env["oms.intake.import"]
        is_xlsx = (self.filename or "").lower().endswith(".xlsx") or content[:2] == b"PK"
        rows = reader._read_xlsx(content) if is_xlsx else reader._read_csv(content)
        if not rows:
            raise UserError(self.env._("The file is empty: the first row must name the columns."))
        header = [_text(h).lower().strip() for h in rows[0]]
        columns = {}
        for key, names in ALIASES.items():
            for index, title in enumerate(header):
                if title in names:
                    columns[key] = index
                    break
        missing = [key for key in REQUIRED if key not in columns]
        if missing:
            raise UserError(
                self.env._(
                    "The file lacks the columns %(missing)s. Accepted names: %(names)s.",
                    missing=", ".join(missing),
                    names="; ".join(f"{key}: {', '.join(names)}" for key, names in ALIASES.items()),
                )
            )
        result = []
        for number, row in enumerate(rows[1:], start=2):
            if not any(_text(value) for value in row):
                continue
            result.append((number, {key: row[index] if index < len(row) else None for key, index in columns.items()}))
        return result

    def _parse(self, rows):
        """Values of the preview lines: amounts as numbers, problems named by row and column."""
        currency = self._currency()
        vals_list = []
        for number, row in rows:
            problems = []
            vals = {"row": number, "external_id": _text(row.get("external_id"))}
            if not vals["external_id"]:
                problems.append(self.env._("row %(row)s: no order id", row=number))
            for key in AMOUNTS:
                raw = row.get(key)
                if raw is None or _text(raw) == "":
                    vals[key] = 0.0
                    continue
                value = _number(raw)
                if isinstance(value, str):
                    problems.append(
                        self.env._(
                            "row %(row)s, column %(column)s: “%(value)s” is not a number (or is ambiguous: "
                            "write 1234.00 or 1.234 without a thousands separator)",
                            row=number,
                            column=key,
                            value=value,
                        )
                    )
                    vals[key] = 0.0
                else:
                    # Settlement files often show fees and refunds as negative amounts: they are deductions.
                    vals[key] = abs(float(value)) if key in ("fee", "refund") else float(value)
            if "net" not in row or row.get("net") is None or _text(row.get("net")) == "":
                vals["net"] = currency.round(vals["gross"] - vals["fee"] - vals["refund"]) if currency else 0.0
            code = _text(row.get("currency")).upper()
            if code and currency and code != currency.name:
                problems.append(
                    self.env._(
                        "row %(row)s, column currency: %(code)s, but the payout is in %(currency)s",
                        row=number,
                        code=code,
                        currency=currency.name,
                    )
                )
            vals["problem"] = "; ".join(problems) or False
            vals_list.append(vals)
        return vals_list

    def action_preview(self):
        self.ensure_one()
        if self.kind == "channel" and not self.channel_id:
            raise UserError(self.env._("Choose the channel of the payout."))
        if self.kind == "cod" and not self.carrier_id:
            raise UserError(self.env._("Choose the courier of the remittance."))
        vals_list = self._parse(self._read_rows())
        if not vals_list:
            raise UserError(self.env._("The file has a header but no rows."))
        shown = vals_list
        if len(vals_list) > self._background_rows():
            # A large file: the first rows and every row with a problem, not thousands of rows to scroll.
            shown = [vals for index, vals in enumerate(vals_list) if index < PREVIEW_ROWS or vals["problem"]]
        self.write(
            {
                "state": "preview",
                "row_count": len(vals_list),
                "line_ids": [fields.Command.clear()] + [fields.Command.create(vals) for vals in shown],
            }
        )
        return self._reopen()

    def action_back(self):
        self.write({"state": "upload", "line_ids": [fields.Command.clear()]})
        return self._reopen()

    def _reopen(self):
        return window_action(self, self.env._("Import a payout"), target="new")

    def action_create(self):
        """Create the draft payout from the previewed rows and match it; refused while a row has a problem."""
        self.ensure_one()
        if self.state != "preview":
            self.action_preview()
        if self.problem_count:
            raise UserError(
                self.env._(
                    "%(count)s rows have problems; fix the file and preview it again:\n%(problems)s",
                    count=self.problem_count,
                    problems="\n".join(self.line_ids.filtered("problem").mapped("problem")[:20]),
                )
            )
        existing = self.env["oms.payout"].search(
            [
                ("company_id", "=", self.env.company.id),
                ("kind", "=", self.kind),
                ("channel_id", "=", self.channel_id.id if self.kind == "channel" else False),
                ("carrier_id", "=", self.carrier_id.id if self.kind == "cod" else False),
                ("reference", "=", self.reference),
            ],
            limit=1,
        )
        if existing:
            raise UserError(
                self.env._(
                    "Payout reference %(reference)s of %(origin)s was already imported (%(payout)s, %(state)s).",
                    reference=self.reference,
                    origin=(self.channel_id if self.kind == "channel" else self.carrier_id).display_name,
                    payout=existing.name,
                    state=dict(existing._fields["state"]._description_selection(self.env))[existing.state],
                )
            )
        if self.background:
            return self._create_in_background()
        payout = self.env["oms.payout"].create(
            dict(
                self._payout_values(),
                line_ids=[fields.Command.create(self._line_values(line)) for line in self.line_ids],
            )
        )
        payout.action_match()
        # The settlement file stays with the payout: the wizard that read it is transient.
        payout.message_post(
            body=self.env._("Imported from %(file)s.", file=self.filename or self.env._("a file")),
            attachments=[(self.filename or "payout", base64.b64decode(self.file))],
            subtype_xmlid="mail.mt_note",
        )
        return window_action(payout)

    def _payout_values(self):
        self.ensure_one()
        return {
            "kind": self.kind,
            "channel_id": self.channel_id.id if self.kind == "channel" else False,
            "carrier_id": self.carrier_id.id if self.kind == "cod" else False,
            "reference": self.reference,
            "date": self.date,
        }

    @api.model
    def _line_values(self, line):
        """A payout line's values from a preview line (or the same keys of a parsed row)."""
        return {
            "sequence": line["row"],
            "external_id": line["external_id"],
            "gross": line["gross"],
            "fee": line["fee"],
            "refund": line["refund"],
            "net": line["net"],
        }

    def _create_in_background(self):
        """A large file: the draft payout is created now (its reference is taken, the file attached), its lines
        by a chain of queue_job jobs of 500 rows, then matched by a last job; the payout shows the progress
        and the user is told when it is done."""
        self.ensure_one()
        rows = self._parse(self._read_rows())  # the preview kept only some rows; checked for problems above
        payout = self.env["oms.payout"].create(self._payout_values())
        payout.message_post(
            body=self.env._(
                "Importing %(rows)s rows from %(file)s in the background.",
                rows=len(rows),
                file=self.filename or self.env._("a file"),
            ),
            attachments=[(self.filename or "payout", base64.b64decode(self.file))],
            subtype_xmlid="mail.mt_note",
        )
        progress, __ = self.env["oms.job.progress"]._oms_start(
            "payout_import",
            self.env._("Import payout %(payout)s (%(reference)s)", payout=payout.name, reference=payout.reference),
            f"payout:{payout.id}",
            len(rows) + 1,  # the rows, then the matching
            payout_id=payout.id,
        )
        values = [self._line_values(row) for row in rows]
        chunks = [values[start : start + PAYOUT_CHUNK] for start in range(0, len(values), PAYOUT_CHUNK)]
        delayables = [
            progress._oms_delayable(
                f"rows-{number}",
                self.env._(
                    "Payout %(payout)s: rows %(first)s to %(last)s",
                    payout=payout.name,
                    first=chunk[0]["sequence"],
                    last=chunk[-1]["sequence"],
                ),
            )._oms_job_payout_rows(chunk)
            for number, chunk in enumerate(chunks, start=1)
        ]
        delayables.append(
            progress._oms_delayable(
                "match", self.env._("Payout %(payout)s: match the lines", payout=payout.name)
            )._oms_job_payout_match()
        )
        chain(*delayables).delay()
        action = payout._get_records_action(context={})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": progress.name,
                "message": self.env._(
                    "%(rows)s rows are imported in the background; the payout shows the progress and you will be "
                    "told when it is done.",
                    rows=len(rows),
                ),
                "sticky": False,
                "next": action,
            },
        }


class OmsPayoutImportLine(models.TransientModel):
    _name = "oms.payout.import.line"
    _description = "Row of an imported payout"
    _order = "row"

    wizard_id = fields.Many2one("oms.payout.import", required=True, ondelete="cascade")
    row = fields.Integer()
    external_id = fields.Char(string="Order ID")
    gross = fields.Float()
    fee = fields.Float()
    refund = fields.Float()
    net = fields.Float()
    problem = fields.Char()
