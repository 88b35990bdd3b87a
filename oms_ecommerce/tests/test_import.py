import base64
import io

import xlsxwriter

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OmsCommon, iso, order_payload, placed_days_ago

PLACED = iso(placed_days_ago())

HEADER = (
    "external_id,placed_at,currency,email,name,phone,street,street2,city,zip,state_code,country_code,"
    "sku,quantity,unit_price,discount,shipping_method,shipping_price,payment_status,note"
)
ROWS = [
    # two lines of one order
    f"7001,{PLACED},USD,ann@example.com,Ann Lee,+1 555 0100,1 Main St,,Springfield,12345,IL,US,"
    "OMS-MUG,2,12.5,0,standard,4.99,paid,Leave at the door",
    f"7001,{PLACED},USD,ann@example.com,Ann Lee,+1 555 0100,1 Main St,,Springfield,12345,IL,US,"
    "OMS-TEA,1,8,10,standard,4.99,paid,Leave at the door",
    # already imported
    "7002,,USD,bob@example.com,Bob Ray,,2 Oak Rd,,Austin,73301,TX,US,OMS-MUG,1,15,,standard,,cod,",
    # unknown SKU
    "7003,,USD,cy@example.com,Cy Doe,,3 Pine Rd,,Denver,80014,CO,US,NOPE,1,15,,standard,,paid,",
    # bad quantity
    "7004,,USD,di@example.com,Di Poe,,4 Ash Rd,,Miami,33101,FL,US,OMS-MUG,two,15,,standard,,paid,",
]


@tagged("post_install", "-at_install")
class TestImport(OmsCommon):
    def setUp(self):
        super().setUp()
        payload = order_payload("7002")
        self.receive(payload)

    def _import(self, content, filename):
        wizard = (
            self.env["oms.intake.import"]
            .with_user(self.oms_user)
            .create({"channel_id": self.channel.id, "file": base64.b64encode(content), "filename": filename})
        )
        wizard.action_import()
        return wizard

    def _check_result(self, wizard):
        self.assertRecordValues(wizard, [{"state": "done", "created_count": 1, "duplicate_count": 1, "error_count": 2}])
        order = wizard.intake_ids.filtered(lambda i: i.state == "done").order_id
        self.assertEqual(order.oms_external_id, "7001")
        self.assertEqual(
            order.order_line.filtered(lambda line: not line.is_delivery).mapped("product_id"), self.mug | self.tea
        )
        self.assertEqual(order.oms_customer_note, "Leave at the door")
        self.assertTrue(all(i.source == "import" for i in wizard.intake_ids))
        errors = wizard.intake_ids.filtered(lambda i: i.state == "error")
        self.assertEqual(sorted(errors.mapped("error_code")), ["invalid_payload", "unknown_sku"])
        self.assertEqual(errors.filtered(lambda i: i.error_code == "invalid_payload").error_field, "lines[0].quantity")
        action = wizard.action_open_errors()
        self.assertEqual(self.env["oms.intake"].search(action["domain"]), errors)

    def test_csv_import(self):
        content = "\n".join([HEADER, *ROWS]).encode()
        self._check_result(self._import(content, "orders.csv"))

    def test_xlsx_import(self):
        stream = io.BytesIO()
        workbook = xlsxwriter.Workbook(stream)
        sheet = workbook.add_worksheet()
        for row_index, line in enumerate([HEADER, *ROWS]):
            for col, value in enumerate(line.split(",")):
                if row_index and col in (13, 14) and value.replace(".", "").isdigit():
                    sheet.write_number(row_index, col, float(value))  # numbers as numbers, as Excel keeps them
                else:
                    sheet.write(row_index, col, value)
        workbook.close()
        self._check_result(self._import(stream.getvalue(), "orders.xlsx"))

    def test_missing_columns_are_named(self):
        with self.assertRaisesRegex(UserError, "sku, quantity"):
            self._import(b"external_id,email,name,street,city,country_code\n1,a@b.c,A,S,C,US\n", "orders.csv")
