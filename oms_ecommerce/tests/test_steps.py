from datetime import timedelta

from odoo import fields
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
        shipped_at = picking.date_done
        for wrong in (shipped_at - timedelta(minutes=1), fields.Datetime.now() + timedelta(hours=1)):
            with self.assertRaises(UserError, msg=f"delivered at {wrong}: before shipping or in the future"):
                order.action_oms_mark_delivered(at=wrong)
        self.assertEqual(order.oms_step, "shipped")
        delivered_at = shipped_at + timedelta(minutes=3)  # within the clock skew allowed into the future
        order.action_oms_mark_delivered(at=delivered_at)
        self.assertEqual(order.oms_step, "delivered")
        self.assertEqual(self._steps(order), ["received", "confirmed", "processing", "packed", "shipped", "delivered"])
        # Reaching a step again records nothing new.
        order.action_oms_mark_delivered()
        order._oms_reach_steps()
        self.assertEqual(len(order.oms_step_ids), 6)
        self.assertEqual(order.oms_delivered_at, delivered_at)

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

    def test_steps_grouped_in_life_order(self):
        """Kanban columns, pivot rows and graph bars by step read an order's life left to right."""
        life = ["received", "confirmed", "processing", "packed", "shipped", "delivered"]
        exceptions = ["on_hold", "delayed", "cancelled", "returned"]
        held = self._order("st-g1")
        held._oms_hold("Check the address")
        self._order("st-g2")._action_cancel()
        confirmed = self._order("st-g3")
        confirmed.action_confirm()
        self._order("st-g4")
        domain = [("oms_channel_id", "=", self.channel.id)]
        SaleOrder = self.env["sale.order"]
        # Kanban: every column, in life order, the closed ones folded.
        kanban = SaleOrder.with_context(read_group_expand=True).formatted_read_group(domain, ["oms_step"], ["__count"])
        self.assertEqual([g["oms_step"] for g in kanban], life + exceptions)
        self.assertEqual(
            [g["oms_step"] for g in kanban if g["__fold"]], ["delivered", "cancelled", "returned"], "closed steps"
        )
        self.assertEqual(
            {g["oms_step"]: g["__count"] for g in kanban if g["__count"]},
            {
                "received": 1,
                "processing": 1,
                "on_hold": 1,
                "cancelled": 1,
            },
        )
        # Pivot and graph: only the steps that have orders, in the same order (not alphabetical), both ways.
        pivot = SaleOrder.formatted_read_group(domain, ["oms_step"], ["__count"])
        self.assertEqual([g["oms_step"] for g in pivot], ["received", "processing", "on_hold", "cancelled"])
        pivot = SaleOrder.formatted_read_group(domain, ["oms_step"], ["__count"], order="oms_step desc")
        self.assertEqual([g["oms_step"] for g in pivot], ["cancelled", "on_hold", "processing", "received"])
        nested = SaleOrder.formatted_read_group(domain, ["oms_channel_id", "oms_step"], ["__count"])
        self.assertEqual([g["oms_step"] for g in nested], ["received", "processing", "on_hold", "cancelled"])
        # The web client's kanban call.
        web = SaleOrder.with_context(read_group_expand=True).web_read_group(
            domain, ["oms_step"], ["__count"], auto_unfold=True, unfold_read_specification={"name": {}}
        )
        self.assertEqual([g["oms_step"] for g in web["groups"]], life + exceptions)
