from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import OmsCommon, order_payload


@tagged("post_install", "-at_install")
class TestSteps(OmsCommon):
    """The step follows Odoo's own states; each step reached is recorded once, with its time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._put_in_stock()

    def _order(self, external_id="st-1", **overrides):
        [(status, body)] = self.receive(order_payload(external_id, **overrides))
        self.assertEqual(status, 201, body)
        return self.env["sale.order"].browse(body["id"])

    def _steps(self, order):
        return order.oms_step_ids.sorted(lambda s: (s.at, s.id)).mapped("step")

    def _ship(self, picking):
        self.ship(picking)

    def test_life_of_an_order(self):
        order = self._order()
        self.assertEqual(order.oms_step, "received")
        order.action_confirm()
        # Stock is there, so the delivery is reserved at once: processing.
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(order.oms_step, "processing")
        # What the put-in-pack button (and stock_delivery's package wizard) ends in.
        package = picking.move_line_ids._put_in_pack()
        self.assertEqual(picking.move_line_ids.result_package_id, package)
        self.assertEqual(order.oms_step, "packed")
        self._ship(picking)
        self.assertEqual(order.oms_step, "shipped")
        with self.assertRaises(UserError):
            self._order("st-other").action_oms_mark_delivered()
        order.action_oms_mark_delivered(at=datetime(2026, 11, 28, 9, 0))
        self.assertEqual(order.oms_step, "delivered")
        self.assertEqual(self._steps(order), ["received", "confirmed", "processing", "packed", "shipped", "delivered"])
        # Reaching a step again records nothing new.
        order.action_oms_mark_delivered()
        order._oms_reach_steps()
        self.assertEqual(len(order.oms_step_ids), 6)
        self.assertEqual(order.oms_delivered_at, datetime(2026, 11, 28, 9, 0))

    def test_confirmed_without_stock_and_wave(self):
        self.env["stock.quant"]._update_available_quantity(self.mug, self.warehouse.lot_stock_id, -50)
        order = self._order("st-2", lines=[{"sku": "OMS-MUG", "quantity": 1}])
        order.action_confirm()
        self.assertEqual(order.picking_ids.state, "confirmed")
        self.assertEqual(order.oms_step, "confirmed")
        batch = self.env["stock.picking.batch"].create({"picking_ids": [(6, 0, order.picking_ids.ids)]})
        self.assertEqual(order.picking_ids.batch_id, batch)
        self.assertEqual(order.oms_step, "processing", "grouped into a wave")
        self.assertEqual(self._steps(order), ["received", "confirmed", "processing"])

    def test_hold_and_release(self):
        order = self._order("st-3")
        action = order.with_user(self.oms_user).action_oms_hold()
        wizard = Form(self.env[action["res_model"]].with_user(self.oms_user).with_context(**action["context"]))
        wizard.reason = "Address to check with the customer"
        wizard.save().action_apply()
        self.assertRecordValues(
            order, [{"oms_hold": True, "oms_step": "on_hold", "oms_hold_reason": "Address to check with the customer"}]
        )
        order.with_user(self.oms_user).action_oms_release()
        self.assertRecordValues(order, [{"oms_hold": False, "oms_step": "received"}])
        self.assertEqual(self._steps(order), ["received", "on_hold"])

    def test_cancel_and_return(self):
        order = self._order("st-4")
        order._action_cancel()
        self.assertEqual(order.oms_step, "cancelled")
        order2 = self._order("st-5")
        order2.action_confirm()
        self._ship(order2.picking_ids)
        self.assertEqual(order2.oms_step, "shipped")
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_ids=order2.picking_ids.ids, active_id=order2.picking_ids.id, active_model="stock.picking"
            )
        )
        return_wizard = wizard.save()
        for line in return_wizard.product_return_moves:
            line.quantity = line.move_id.quantity
        action = return_wizard.action_create_returns()
        return_picking = self.env["stock.picking"].browse(action["res_id"])
        self._ship(return_picking)
        self.assertEqual(order2.oms_step, "returned")
        self.assertIn("returned", self._steps(order2))
