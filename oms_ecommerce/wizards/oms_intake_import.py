import base64
import csv
import functools
import io
from collections import OrderedDict
from datetime import date, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.actions import window_action

COLUMNS = [
    "external_id",
    "placed_at",
    "currency",
    "email",
    "name",
    "phone",
    "street",
    "street2",
    "city",
    "zip",
    "state_code",
    "country_code",
    "sku",
    "quantity",
    "unit_price",
    "discount",
    "shipping_method",
    "shipping_price",
    "payment_status",
    "note",
]
REQUIRED_COLUMNS = ["external_id", "email", "name", "street", "city", "country_code", "sku", "quantity"]


def _number(value):
    """A float for a numeric cell; the text itself when it is not a number, so validation names it.

    Decimal comma or point, with thousands separators ("1,234.50", "1.234,50", "1 234,50"). A lone comma
    followed by exactly three digits ("1,234") could be either: it is refused rather than guessed.
    """
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    compact = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if "," in compact and "." in compact:
        decimal = "," if compact.rfind(",") > compact.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        compact = compact.replace(thousands, "").replace(decimal, ".")
    elif compact.count(",") == 1:
        if len(compact.split(",")[1]) == 3:
            return text  # "1,234": one thousand two hundred thirty-four, or 1.234?
        compact = compact.replace(",", ".")
    elif compact.count(",") > 1 or compact.count(".") > 1:
        compact = compact.replace(",", "").replace(".", "") if compact.count(".") > 1 else compact.replace(",", "")
    try:
        return float(compact)
    except ValueError:
        return text


def _cell(row, key):
    return _text(row.get(key))


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class OmsIntakeImport(models.TransientModel):
    _name = "oms.intake.import"
    _description = "Import channel orders from CSV or XLSX"

    channel_id = fields.Many2one("oms.channel", required=True, string="Channel")
    file = fields.Binary(required=True, string="File")
    filename = fields.Char()
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    intake_ids = fields.Many2many("oms.intake", string="Intake Records")
    created_count = fields.Integer(compute="_compute_counts")
    duplicate_count = fields.Integer(compute="_compute_counts")
    error_count = fields.Integer(compute="_compute_counts")

    @api.depends("intake_ids.state")
    def _compute_counts(self):
        for wizard in self:
            states = wizard.intake_ids.mapped("state")
            wizard.created_count = states.count("done")
            wizard.duplicate_count = states.count("duplicate")
            wizard.error_count = states.count("error")

    # ------------------------------------------------------------------
    def _read_rows(self):
        """List of {column: text-or-number} dicts of the file's rows."""
        self.ensure_one()
        content = base64.b64decode(self.file or b"")
        name = (self.filename or "").lower()
        is_xlsx = name.endswith(".xlsx") or content[:2] == b"PK"
        rows = self._read_xlsx(content) if is_xlsx else self._read_csv(content)
        if not rows:
            raise UserError(self.env._("The file has no header row: the first row must name the columns."))
        header = [_text(h).lower() for h in rows[0]]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise UserError(
                self.env._(
                    "The file lacks the columns %(missing)s. Expected columns: %(columns)s.",
                    missing=", ".join(missing),
                    columns=", ".join(COLUMNS),
                )
            )
        result = []
        for row in rows[1:]:
            if not any(_text(v) for v in row):
                continue
            result.append({header[i]: row[i] for i in range(min(len(header), len(row))) if header[i]})
        return result

    def _read_csv(self, content):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("latin-1")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return list(csv.reader(io.StringIO(text), dialect))

    def _read_xlsx(self, content):
        import openpyxl  # Odoo requirement, only needed here

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise UserError(self.env._("This file cannot be read as XLSX: %(error)s", error=exc)) from exc
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]

    @api.model
    def _rows_to_payloads(self, rows):
        """Group the rows (one per order line) into API order objects, by external_id."""
        orders = OrderedDict()
        for row in rows:
            get = functools.partial(_cell, row)
            external_id = get("external_id")
            order = orders.get(external_id)
            if order is None:
                order = {
                    "external_id": external_id,
                    "customer": {"email": get("email"), "name": get("name")},
                    "shipping_address": {
                        key: get(key)
                        for key in ("name", "street", "street2", "city", "zip", "state_code", "country_code", "phone")
                    },
                    "lines": [],
                }
                if get("phone"):
                    order["customer"]["phone"] = get("phone")
                for key in ("placed_at", "currency", "note"):
                    if get(key):
                        order[key] = get(key)
                if get("shipping_method") or get("shipping_price"):
                    order["shipping"] = {"method": get("shipping_method") or None}
                    if get("shipping_price"):
                        order["shipping"]["price"] = _number(row["shipping_price"])
                if get("payment_status"):
                    order["payment"] = {"status": get("payment_status").lower()}
                orders[external_id] = order
            line = {"sku": get("sku"), "quantity": _number(row.get("quantity")) if get("quantity") else None}
            if get("unit_price"):
                line["unit_price"] = _number(row["unit_price"])
            if get("discount"):
                line["discount"] = _number(row["discount"])
            order["lines"].append(line)
        return list(orders.values())

    def action_import(self):
        self.ensure_one()
        payloads = self._rows_to_payloads(self._read_rows())
        if not payloads:
            raise UserError(self.env._("The file has a header but no order rows."))
        intakes = self.env["oms.intake"]._store(self.channel_id, payloads, source="import")
        with intakes._oms_processing():
            intakes._process()
        self.write({"state": "done", "intake_ids": [fields.Command.set(intakes.ids)]})
        return window_action(self, self.env._("Import result"), target="new")

    def action_open_errors(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_intake_action")
        action["domain"] = [("id", "in", self.intake_ids.filtered(lambda i: i.state == "error").ids)]
        action["context"] = {}
        return action
