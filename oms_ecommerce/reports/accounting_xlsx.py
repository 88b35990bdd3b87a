"""XLSX workbooks of the accounting reports: one sheet, a bold header, numbers as numbers, totals last."""

import base64
import io

import xlsxwriter


def xlsx_workbook(title, columns, rows, totals=True):
    """Bytes of a workbook; ``columns`` is [(title, kind)] with kind "text" or "money"."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(title[:31].replace("/", "-"))
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    bold_money = workbook.add_format({"bold": True, "num_format": "#,##0.00"})
    sheet.write_row(0, 0, [name for name, _kind in columns], bold)
    for index, row in enumerate(rows, start=1):
        for col, (value, (_name, kind)) in enumerate(zip(row, columns, strict=True)):
            if kind == "money":
                sheet.write_number(index, col, value or 0.0, money)
            else:
                sheet.write_string(index, col, str(value or ""))
    if totals and rows:
        last = len(rows) + 1
        sheet.write_string(last, 0, "Total", bold)
        for col, (_name, kind) in enumerate(columns):
            if kind == "money":
                sheet.write_number(last, col, sum(row[col] or 0.0 for row in rows), bold_money)
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
