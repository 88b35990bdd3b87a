import json

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from ..controllers.channel_api import order_status
from .common import OmsPackingCommon


@tagged("post_install", "-at_install")
class TestPacking(OmsPackingCommon):
    """Packing into Odoo packages, weighing against the expected weight, tracking per parcel."""

    def test_weight_within_tolerance(self):
        picking = self.delivery()
        [(mug_line)] = self.lines(picking, self.mug)
        tea_line = self.lines(picking, self.tea)
        check = picking._oms_check_parcel([(mug_line, 2), (tea_line, 1)], self.box, 1.08)
        self.assertAlmostEqual(check["expected"], 1.0)  # 2 x 0.35 + 0.1 + the box's 0.2
        self.assertAlmostEqual(check["allowed"], 0.1)  # 10 % of 1.0 is more than 0.05
        self.assertTrue(check["ok"])
        package = self.pack_all(picking, weight=1.08, tracking_ref="TRK-1")
        self.assertRecordValues(
            package,
            [
                {
                    "package_type_id": self.box.id,
                    "shipping_weight": 1.08,
                    "oms_expected_weight": 1.0,
                    "oms_picking_id": picking.id,
                    "oms_tracking_ref": "TRK-1",
                    "oms_weight_override": False,
                }
            ],
        )
        self.assertEqual(self.lines(picking).result_package_id, package)
        self.assertTrue(all(self.lines(picking).mapped("picked")))
        self.assertEqual(picking.sale_id.oms_step, "packed")

    def test_over_and_under_tolerance_are_refused(self):
        picking = self.delivery()
        with self.assertRaisesRegex(UserError, r"weighs 1\.20 kg, expected 1\.00 kg ± 0\.10 kg \(\+20%\)"):
            self.pack_all(picking, weight=1.2)
        with self.assertRaisesRegex(UserError, r"weighs 0\.85 kg, expected 1\.00 kg ± 0\.10 kg \(-15%\)"):
            self.pack_all(picking, weight=0.85)
        self.assertFalse(self.lines(picking).result_package_id, "nothing is packed after a refusal")
        self.assertEqual(picking.sale_id.oms_step, "processing")

    def test_absolute_tolerance_applies_when_larger(self):
        picking = self.delivery()
        self.channel.write({"weight_tolerance_percent": 0.0, "weight_tolerance_abs": 0.15})
        with self.assertRaisesRegex(UserError, "± 0.15 kg"):
            self.pack_all(picking, weight=1.16)
        self.assertTrue(self.pack_all(picking, weight=1.15))

    def test_missing_weight_is_named_and_needs_a_manager(self):
        self.tea.weight = 0.0
        picking = self.delivery()
        with self.assertRaisesRegex(UserError, r"no weight on \[OMS-TEA\] OMS Tea"):
            self.pack_all(picking, weight=0.95)
        with self.assertRaisesRegex(AccessError, "Only an OMS manager"):
            self.pack_all(picking.with_user(self.oms_warehouse_user), weight=0.95, override_reason="Looks fine")
        package = self.pack_all(picking.with_user(self.oms_manager), weight=0.95, override_reason="Tea weighs 50 g")
        self.assertEqual(package.oms_weight_override, "Tea weighs 50 g")
        self.assertAlmostEqual(package.oms_expected_weight, 0.9, msg="known weights only, not counted as zero silently")
        message = picking.message_ids[0]
        self.assertIn("Weight outside the tolerance accepted by", message.body)
        self.assertIn("no weight on [OMS-TEA] OMS Tea", message.body)
        self.assertIn("Tea weighs 50 g", message.body)

    def test_manager_override_of_a_heavy_parcel(self):
        picking = self.delivery()
        with self.assertRaisesRegex(UserError, r"\+50%"):
            self.pack_all(picking.with_user(self.oms_manager), weight=1.5, override_reason="  ")
        package = self.pack_all(picking.with_user(self.oms_manager), weight=1.5, override_reason="Extra padding")
        self.assertEqual(package.shipping_weight, 1.5)
        self.assertIn("Extra padding", picking.message_ids[0].body)

    def test_several_parcels_with_their_own_tracking(self):
        picking = self.delivery()
        mug_line = self.lines(picking, self.mug)
        tea_line = self.lines(picking, self.tea)
        first, second = picking._oms_pack(
            [
                {
                    "lines": [(mug_line, 1), (tea_line, 1)],
                    "package_type": self.box,
                    "weight": 0.65,
                    "tracking_ref": "A1",
                },
                {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.55, "tracking_ref": "A2"},
            ]
        )
        self.assertAlmostEqual(first.oms_expected_weight, 0.65)
        self.assertAlmostEqual(second.oms_expected_weight, 0.55)
        contents = {
            package: sorted(
                (ml.product_id.default_code, ml.quantity)
                for ml in self.lines(picking)
                if ml.result_package_id == package
            )
            for package in (first, second)
        }
        self.assertEqual(contents[first], [("OMS-MUG", 1.0), ("OMS-TEA", 1.0)])
        self.assertEqual(contents[second], [("OMS-MUG", 1.0)])
        self.assertEqual(sum(self.lines(picking, self.mug).mapped("quantity")), 2.0, "the split keeps the quantity")
        self.assertEqual(picking.carrier_tracking_ref, "A1,A2")
        self.assertEqual(
            json.loads(picking.carrier_tracking_url),
            [["A1", "https://track.example.com/p/A1"], ["A2", "https://track.example.com/p/A2"]],
        )
        self.ship(picking)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.oms_package_ids, first | second)
        self.assertEqual(
            order_status(picking.sale_id)["tracking"],
            [
                {"carrier": "OMS Post", "number": "A1", "url": "https://track.example.com/p/A1"},
                {"carrier": "OMS Post", "number": "A2", "url": "https://track.example.com/p/A2"},
            ],
        )

    def test_backorder_never_reuses_a_tracking_number(self):
        picking = self.delivery()
        mug_line = self.lines(picking, self.mug)
        picking._oms_pack([{"lines": [(mug_line, 2)], "package_type": self.box, "weight": 0.9, "tracking_ref": "B1"}])
        # Only the packed (picked) mugs leave today: the tea goes to a backorder.
        action = picking.button_validate()
        self.assertEqual(action["res_model"], "stock.backorder.confirmation")
        Form(self.env[action["res_model"]].with_context(**action["context"])).save().process()
        self.assertEqual(picking.state, "done")
        backorder = picking.backorder_ids
        self.assertTrue(backorder)
        with self.assertRaisesRegex(UserError, "Tracking number B1 is already used"):
            self.pack_all(backorder, tracking_ref="B1")
        self.assertFalse(self.lines(backorder).result_package_id)
        self.pack_all(backorder, tracking_ref="B2")
        self.assertEqual(backorder.carrier_tracking_ref, "B2")
        self.assertEqual(picking.carrier_tracking_ref, "B1")

    def test_tracking_number_unique_in_the_database(self):
        first, second = self.pack_all(self.delivery("u-1")), self.pack_all(self.delivery("u-2"))
        first.oms_tracking_ref = "U1"
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            second.oms_tracking_ref = "U1"
            second.flush_recordset()

    def test_bad_input_is_refused_with_the_fix(self):
        picking = self.delivery()
        mug_line = self.lines(picking, self.mug)
        with self.assertRaisesRegex(UserError, "Weigh parcel 1"):
            picking._oms_pack([{"lines": [(mug_line, 2)], "package_type": self.box, "weight": 0.0}])
        with self.assertRaisesRegex(UserError, "only 2.0 to ship"):
            picking._oms_pack([{"lines": [(mug_line, 3)], "package_type": self.box, "weight": 1.25}])
        with self.assertRaisesRegex(UserError, "every parcel, backorders included, needs its own"):
            picking._oms_pack(
                [
                    {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.55, "tracking_ref": "D1"},
                    {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.55, "tracking_ref": "D1"},
                ]
            )
        self.assertFalse(self.lines(picking).result_package_id)


@tagged("post_install", "-at_install")
class TestPackingScreen(OmsPackingCommon):
    """The packing screen: prefilled for the one-box case, or counted by scanning."""

    def _screen(self, picking):
        action = picking.action_oms_pack()
        self.assertEqual(action["res_model"], "oms.pack")
        return self.env["oms.pack"].browse(action["res_id"])

    def test_one_box_prefilled(self):
        picking = self.delivery()
        screen = self._screen(picking)
        self.assertEqual(screen.parcel_ids.package_type_id, self.box, "the first disposable package type by sequence")
        other_box = self.env["stock.package.type"].create({"name": "Channel Box", "base_weight": 0.3})
        self.channel.package_type_id = other_box
        self.assertEqual(
            self._screen(self.delivery("pk-2")).parcel_ids.package_type_id, other_box, "the channel's default box"
        )
        self.assertEqual(screen.parcel_ids.status, "to_weigh")
        self.assertAlmostEqual(screen.parcel_ids.expected_weight, 1.0)
        screen.parcel_ids.weight = 1.3
        self.assertEqual(screen.parcel_ids.status, "over")
        self.assertIn("+30%", screen.problem)
        screen.parcel_ids.write({"weight": 1.02, "tracking_ref": "S1"})
        self.assertEqual(screen.parcel_ids.status, "ok")
        self.assertFalse(screen.problem)
        action = screen.action_confirm()
        self.assertEqual(action["report_name"], "oms_ecommerce.report_shipping_label")
        self.assertEqual(picking.oms_package_ids.oms_tracking_ref, "S1")

    def test_typing_a_parcel_number_adds_a_parcel_to_weigh(self):
        """As in the browser (``Form``): the parcel number typed on an item adds that parcel's line (onchange),
        whose expected weight and status follow the items and the measured weight (computed)."""
        picking = self.delivery()
        screen = self._screen(picking)
        tea = [item.product_id for item in screen.item_ids].index(self.tea)  # the rows in the order of the screen
        form = Form(screen)
        self.assertEqual(len(form.parcel_ids), 1)
        with form.item_ids.edit(tea) as item:
            item.parcel = 2
        self.assertEqual(len(form.parcel_ids), 2, "parcel 2 got a line of its own")
        with form.parcel_ids.edit(1) as parcel:
            self.assertEqual(parcel.sequence, 2)
            self.assertAlmostEqual(parcel.expected_weight, 0.3, msg="the tea (0.1) in the box (0.2)")
            parcel.weight = 0.3
            self.assertEqual(parcel.status, "ok")
        with form.parcel_ids.edit(0) as parcel:
            self.assertAlmostEqual(parcel.expected_weight, 0.9, msg="two mugs (0.35) in the box (0.2)")
            parcel.weight = 1.2
            self.assertEqual(parcel.status, "over")
        self.assertIn("Parcel 1 of 2", form.problem, "the packer sees the weight problem before confirming")
        screen = form.save()
        self.assertEqual(screen.parcel_ids.sorted("sequence").mapped("weight"), [1.2, 0.3])
        self.assertEqual(screen.parcel_ids.sorted("sequence").mapped("status"), ["over", "ok"])

    def test_scanning_into_two_boxes(self):
        picking = self.delivery()
        screen = self._screen(picking)
        screen._scan(self.mug.barcode)
        self.assertTrue(screen.scanning)
        self.assertEqual(sum(screen.item_ids.mapped("quantity")), 1.0, "the first scan counts from zero")
        screen._scan("OMS-BOX")  # a box barcode starts parcel 2
        self.assertEqual(screen.current_parcel, 2)
        screen._scan(self.mug.barcode)
        screen._scan(self.tea.barcode)
        with self.assertRaisesRegex(UserError, "OMS Mug scanned once more than ordered: 2.0 to pack"):
            screen._scan(self.mug.barcode)
        screen._scan(self.mug.barcode[:-1] + "9")  # not a product: the carrier label of parcel 2
        self.assertEqual(
            screen.parcel_ids.filtered(lambda p: p.sequence == 2).tracking_ref, self.mug.barcode[:-1] + "9"
        )
        with self.assertRaisesRegex(UserError, "Barcode 0000 is not an item of"):
            screen._scan("0000")  # parcel 2 has its tracking number already
        other = self.env["product.product"].create({"name": "Other", "barcode": "555000"})
        with self.assertRaisesRegex(UserError, "Barcode 555000 is not an item of"):
            screen._scan(other.barcode)
        parcels = screen.parcel_ids.sorted("sequence")
        self.assertEqual(parcels.mapped("sequence"), [1, 2])
        self.assertAlmostEqual(parcels[0].expected_weight, 0.55)
        self.assertAlmostEqual(parcels[1].expected_weight, 0.65)
        parcels[0].weight = 0.55
        parcels[1].weight = 0.66
        screen.print_label = False
        screen.action_confirm()
        first, second = picking.oms_package_ids.sorted("id")
        by_package = {
            package: sorted(
                (ml.product_id.default_code, ml.quantity)
                for ml in picking.move_line_ids
                if ml.result_package_id == package
            )
            for package in (first, second)
        }
        self.assertEqual(by_package[first], [("OMS-MUG", 1.0)])
        self.assertEqual(by_package[second], [("OMS-MUG", 1.0), ("OMS-TEA", 1.0)])

    def test_wave_packs_one_delivery_after_the_other(self):
        first, second = self.delivery("w-1"), self.delivery("w-2")
        wave = self.env["stock.picking.batch"].create({"picking_ids": [(6, 0, (first | second).ids)]})
        wave.action_confirm()
        screen = self.env["oms.pack"].browse(wave.action_oms_pack()["res_id"])
        self.assertEqual(screen.picking_id, first)
        self.assertEqual(screen.next_picking_ids, second)
        screen.parcel_ids.weight = 1.0
        action = screen.action_confirm()
        self.assertEqual(action["res_model"], "oms.pack")
        screen = self.env["oms.pack"].browse(action["res_id"])
        self.assertEqual(screen.picking_id, second)
        screen.parcel_ids.weight = 1.0
        action = screen.action_confirm()
        # The wave's labels print at the end, all of them, in packing order.
        self.assertEqual(action["report_name"], "oms_ecommerce.report_shipping_label")
        self.assertEqual(action["context"]["active_ids"], [first.id, second.id])
