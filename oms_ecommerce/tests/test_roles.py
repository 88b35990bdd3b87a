from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OmsPackingCommon, order_payload


@tagged("post_install", "-at_install")
class TestRoles(OmsPackingCommon):
    """Each team gets what its work needs (security/oms_groups.xml): what each role can and cannot do."""

    def received_order(self, external_id):
        [(status, body)] = self.receive(order_payload(external_id))
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        self.assertEqual(order.state, "draft")
        return order

    def ticket(self, order):
        return self.env["oms.ticket"].create(
            {
                "subject": "Where is my tea?",
                "partner_id": order.partner_id.id,
                "order_id": order.id,
                "category": "where",
            }
        )

    def test_order_desk_confirms_and_holds_but_neither_packs_nor_prints(self):
        order = self.received_order("role-desk")
        order.with_user(self.oms_user).action_oms_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.with_user(self.oms_user).action_oms_hold()["res_model"], "oms.order.hold")
        picking = order.picking_ids
        self.assertEqual(picking.with_user(self.oms_user).state, "assigned", "the desk reads the deliveries")
        self.assertFalse(self.oms_user.has_group("stock.group_stock_user"), "no Inventory rights")
        with self.assertRaises(AccessError):
            self.env["oms.pack"].with_user(self.oms_user).create({"picking_id": picking.id})
        with self.assertRaises(AccessError):
            picking.with_user(self.oms_user)._oms_log_print("label_pdf")
        # Customer service is part of the desk's work: tickets.
        self.ticket(order).with_user(self.oms_user).message_post(body="On its way", message_type="comment")

    def test_warehouse_packs_prints_and_ships_but_does_not_confirm(self):
        order = self.received_order("role-packer")
        with self.assertRaisesRegex(AccessError, "Only the order desk"):
            order.with_user(self.oms_packer).action_oms_confirm()
        with self.assertRaisesRegex(AccessError, "Only the order desk"):
            order.with_user(self.oms_packer).action_oms_hold()
        self.assertEqual(order.state, "draft")
        order.action_confirm()
        picking = order.picking_ids.with_user(self.oms_packer)
        self.pack_all(picking, tracking_ref="ROLE1")
        picking._oms_log_print("label_pdf")
        self.assertTrue(picking.oms_label_printed_at)
        self.ship(picking)
        self.assertEqual((picking.state, order.oms_step), ("done", "shipped"))
        # Neither the service desk's tickets nor the accountants' payouts.
        with self.assertRaises(AccessError):
            self.env["oms.ticket"].with_user(self.oms_packer).search([])
        with self.assertRaises(AccessError):
            self.env["oms.payout"].with_user(self.oms_packer).search([])

    def test_customer_service_reads_orders_and_tracking_answers_tickets_without_stock_rights(self):
        picking = self.delivery("role-agent")
        self.pack_all(picking, tracking_ref="ROLE2")
        self.ship(picking)
        order = picking.sale_id.with_user(self.oms_agent)
        self.assertEqual(order.oms_step, "shipped")
        self.assertEqual(order.picking_ids.carrier_tracking_ref, "ROLE2")
        ticket = self.ticket(order).with_user(self.oms_agent)
        self.assertIn("ROLE2", str(ticket.order_tracking_html))
        reply = ticket.action_canned_reply()
        self.assertEqual(reply["res_model"], "mail.compose.message")
        ticket.message_post(body="Your parcel ROLE2 is on its way", message_type="comment")
        self.assertFalse(self.oms_agent.has_group("stock.group_stock_user"), "no Inventory rights")
        with self.assertRaises(AccessError):
            picking.with_user(self.oms_agent).write({"carrier_tracking_ref": "HACKED"})
        with self.assertRaises(AccessError):
            self.env["oms.pack"].with_user(self.oms_agent).create({"picking_id": picking.id})
        with self.assertRaises(AccessError):
            order.write({"client_order_ref": "changed"})
        with self.assertRaises(AccessError):
            self.received_order("role-agent-2").with_user(self.oms_agent).action_oms_confirm()
        with self.assertRaises(AccessError):
            self.env["oms.payout"].with_user(self.oms_agent).search([])

    def test_accounting_reads_payouts_and_orders_but_neither_ships_nor_confirms(self):
        order = self.received_order("role-accountant")
        self.assertTrue(self.oms_accountant.has_group("account.group_account_invoice"), "Odoo's Billing rights")
        self.env["oms.payout"].with_user(self.oms_accountant).search([])
        self.assertEqual(order.with_user(self.oms_accountant).oms_step, "received")
        with self.assertRaisesRegex(AccessError, "Only the order desk"):
            order.with_user(self.oms_accountant).action_oms_confirm()
        order.action_confirm()
        with self.assertRaises(AccessError):
            self.env["oms.pack"].with_user(self.oms_accountant).create({"picking_id": order.picking_ids.id})
        with self.assertRaises(AccessError):
            self.env["oms.ticket"].with_user(self.oms_accountant).search([])

    def test_manager_is_every_team_and_configures(self):
        for group in ("group_oms_user", "group_oms_warehouse", "group_oms_service", "group_oms_accounting"):
            self.assertTrue(self.oms_manager.has_group(f"oms_ecommerce.{group}"), group)
        self.channel.with_user(self.oms_manager).write({"weight_tolerance_percent": 5.0})
        for user in (self.oms_user, self.oms_packer, self.oms_agent, self.oms_accountant):
            with self.assertRaises(AccessError):
                self.channel.with_user(user).write({"weight_tolerance_percent": 50.0})
        # Every team finds the app and its overview; each its own menus.
        menus = {
            "oms_ecommerce.oms_menu_root": {self.oms_user, self.oms_packer, self.oms_agent, self.oms_accountant},
            "oms_ecommerce.oms_menu_shipping": {self.oms_packer},
            "oms_ecommerce.oms_menu_service": {self.oms_user, self.oms_agent},
            "oms_ecommerce.oms_menu_accounting": {self.oms_accountant},
            "oms_ecommerce.oms_intake_menu": {self.oms_user},
            "oms_ecommerce.oms_menu_config": set(),
        }
        for xmlid, allowed in menus.items():
            menu = self.env.ref(xmlid)
            for user in (self.oms_user, self.oms_packer, self.oms_agent, self.oms_accountant, self.oms_manager):
                visible = menu.id in self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
                self.assertEqual(visible, user in allowed or user == self.oms_manager, f"{xmlid} for {user.login}")
