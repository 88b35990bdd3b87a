"""XLSX workbooks of the exports (courier manifests, accounting reports): one sheet, a bold header,
numbers as numbers, totals last; and the action that downloads one."""

import base64
import io

import xlsxwriter

FORMATS = {"number": "0.00", "money": "#,##0.00"}


def xlsx_workbook(title, columns, rows, totals=True, total_label="Total"):
    """Bytes of a workbook. ``columns`` is [(title, kind)], kind "text", "number" or "money". ``totals``:
    True sums the number and money columns in a last row; a dict {column index: value} writes those
    values instead; False writes no total row."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(title[:31].replace("/", "-"))
    bold = workbook.add_format({"bold": True})
    formats = {kind: workbook.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}
    bold_formats = {kind: workbook.add_format({"bold": True, "num_format": fmt}) for kind, fmt in FORMATS.items()}
    sheet.write_row(0, 0, [name for name, _kind in columns], bold)
    for index, row in enumerate(rows, start=1):
        for col, (value, (_name, kind)) in enumerate(zip(row, columns, strict=True)):
            if kind in FORMATS:
                sheet.write_number(index, col, value or 0.0, formats[kind])
            else:
                sheet.write_string(index, col, str(value or ""))
    if totals is True:
        totals = (
            {col: sum(row[col] or 0.0 for row in rows) for col, (_name, kind) in enumerate(columns) if kind in FORMATS}
            if rows
            else {}
        )
    if totals:
        last = len(rows) + 1
        sheet.write_string(last, 0, total_label, bold)
        for col, value in totals.items():
            sheet.write_number(last, col, value, bold_formats.get(columns[col][1], bold))
    sheet.set_column(0, len(columns) - 1, 16)
    workbook.close()
    return buffer.getvalue()


def download_action(env, filename, content):
    """An action that downloads ``content`` as ``filename`` (an attachment, as the manifest export does)."""
    attachment = env["ir.attachment"].create(
        {
            "name": filename,
            "type": "binary",
            "datas": base64.b64encode(content),
            "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    )
    return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}
