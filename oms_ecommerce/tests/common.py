import copy
import json
from datetime import datetime, time, timedelta

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.tests import TransactionCase, new_test_user


def _reference_monday(weeks_ago=3):
    """Midnight (UTC) of the Monday three weeks before this week's: the reference week of the tests that
    compute with working hours. Relative to today, so that no test holds a date the calendar overtakes."""
    today = fields.Date.today()
    return datetime.combine(today - timedelta(days=today.weekday(), weeks=weeks_ago), time.min)


REFERENCE_MONDAY = _reference_monday()


def day(offset, hour=0, minute=0):
    """``offset`` days after the reference Monday (-3 is the Friday before), at ``hour``:``minute`` UTC."""
    return REFERENCE_MONDAY + timedelta(days=offset, hours=hour, minutes=minute)


def iso(moment):
    """A naive UTC datetime as API.md writes times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def placed_days_ago(days=14):
    """A placed time ``days`` before today at 10:15 UTC: never a date the calendar can overtake."""
    return (fields.Datetime.now() - timedelta(days=days)).replace(hour=10, minute=15, second=0, microsecond=0)


def order_payload(external_id="1001", **overrides):
    """An order object exactly as API.md shows it, placed two weeks ago."""
    payload = {
        "external_id": external_id,
        "placed_at": placed_days_ago().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "currency": "USD",
        "customer": {"email": "ann@example.com", "name": "Ann Lee", "phone": "+1 555 0100"},
        "shipping_address": {
            "name": "Ann Lee",
            "street": "1 Main St",
            "street2": "",
            "city": "Springfield",
            "zip": "12345",
            "state_code": "IL",
            "country_code": "US",
            "phone": "+1 555 0100",
        },
        "lines": [
            {"sku": "OMS-MUG", "quantity": 2, "unit_price": 12.5, "discount": 0},
            {"sku": "OMS-TEA", "quantity": 1, "unit_price": 8.0, "discount": 10},
        ],
        "shipping": {"method": "standard", "price": 4.99},
        "payment": {"status": "paid", "method": "card", "amount": 29.99, "reference": "ch_123"},
        "note": "Leave at the door",
        "gift_message": "",
    }
    payload = copy.deepcopy(payload)
    payload.update(overrides)
    return payload


def in_chain_order(jobs):
    """Jobs trapped by queue_job's ``trap_jobs``, in the order its runner runs them: each after the ones it
    depends on (a chain's jobs are trapped in no particular order)."""
    ordered, left = [], list(jobs)
    while left:
        job = next(job for job in left if not any(parent in left for parent in job.depends_on))
        ordered.append(job)
        left.remove(job)
    return ordered


class OmsCommon(TransactionCase):
    """One user per group, a channel with a mapped carrier, and products with SKUs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.usd = cls.env.ref("base.USD")
        assert cls.company.currency_id == cls.usd, "the payloads of these tests are in USD"
        cls.oms_user = new_test_user(cls.env, "oms_user", groups="oms_ecommerce.group_oms_user")
        cls.oms_manager = new_test_user(cls.env, "oms_manager", groups="oms_ecommerce.group_oms_manager")
        # One user per team (issue 17's roles): the warehouse works with Odoo's Inventory group, customer
        # service with ours, accounting with Odoo's Billing group.
        cls.oms_warehouse_user = new_test_user(cls.env, "oms_team_packer", groups="stock.group_stock_user")
        cls.oms_service_user = new_test_user(cls.env, "oms_team_agent", groups="oms_ecommerce.group_oms_service")
        cls.oms_billing_user = new_test_user(cls.env, "oms_team_accountant", groups="account.group_account_invoice")
        cls.portal_user = new_test_user(cls.env, "oms_portal", groups="base.group_portal")
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        ship_product = cls.env["product.product"].create(
            {"name": "OMS Standard Shipping", "type": "service", "sale_ok": False, "list_price": 5.0}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {"name": "OMS Post", "delivery_type": "fixed", "fixed_price": 5.0, "product_id": ship_product.id}
        )
        cls.mug = cls.env["product.product"].create(
            {
                "name": "OMS Mug",
                "default_code": "OMS-MUG",
                "barcode": "9990000000017",
                "type": "consu",
                "is_storable": True,
                "list_price": 15.0,
                "weight": 0.35,
            }
        )
        cls.tea = cls.env["product.product"].create(
            {
                "name": "OMS Tea",
                "default_code": "OMS-TEA",
                "barcode": "9990000000024",
                "type": "consu",
                "is_storable": True,
                "list_price": 9.0,
                "weight": 0.1,
            }
        )
        cls.channel = cls.env["oms.channel"].create(
            {
                "name": "Test Shop",
                "code": "test-shop",
                "secret": "s3cret-test-shop",
                "company_id": cls.company.id,
                "warehouse_id": cls.warehouse.id,
                "currency_id": cls.usd.id,
                "lang": "en_US",
                "carrier_map_ids": [(0, 0, {"method": "standard", "carrier_id": cls.carrier.id})],
            }
        )
        cls.Intake = cls.env["oms.intake"]

    @classmethod
    def _put_in_stock(cls, quantity=50):
        stock = cls.warehouse.lot_stock_id
        for product in cls.mug | cls.tea:
            cls.env["stock.quant"]._update_available_quantity(product, stock, quantity)

    def ship(self, picking):
        """Validate a delivery with everything it was asked for."""
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        return picking

    def receive(self, *payloads, channel=None, source="api"):
        return self.Intake._receive(channel or self.channel, list(payloads), source=source)

    def run_step_email_jobs(self):
        """Run the step-email jobs waiting in queue_job's queue (``oms.order.step._oms_job_notify``) as its runner
        would: each as the user who enqueued it, with the context it was enqueued with, then marked done.

        :return: how many emails they composed
        """
        composed = 0
        waiting = self.env["queue.job"].search(
            [("method_name", "=", "_oms_job_notify"), ("state", "=", "pending")], order="id"
        )
        for record in waiting:
            job = Job.load(self.env, record.uuid)
            composed += job.perform()
            job.set_done()
            job.store()
        self.env.invalidate_all()
        return composed

    def assert_user_told(self, progress, text, kind="success"):
        """The user who started a long action (``oms.job.progress``) was told how it ended: a notification in
        their open browser tabs (sent on the bus when the transaction commits) and a message in their inbox."""
        partner = progress.user_id.partner_id
        sent = [
            json.loads(values["message"])
            for values in self.env.cr.precommit.data.get("bus.bus.values", [])
            if json.loads(values["channel"]) == [self.env.cr.dbname, "res.partner", partner.id]
        ]
        told = [
            message["payload"]
            for message in sent
            if message["type"] == "simple_notification" and text in message["payload"]["message"]
        ]
        self.assertEqual([payload["type"] for payload in told], [kind], sent)
        inbox = progress.message_ids.filtered(lambda message: partner in message.partner_ids and text in message.body)
        self.assertEqual(len(inbox), 1, progress.message_ids.mapped("body"))


class OmsPackingCommon(OmsCommon):
    """Stock, a box type with a barcode, a tolerance of 10 % or 0.05 kg, and a carrier tracking link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._put_in_stock()
        cls.box = cls.env["stock.package.type"].create(
            {"name": "OMS Test Box", "barcode": "OMS-BOX", "base_weight": 0.2, "sequence": -1}
        )
        cls.carrier.tracking_url = "https://track.example.com/p/<shipmenttrackingnumber>"
        cls.channel.write({"weight_tolerance_percent": 10.0, "weight_tolerance_abs": 0.05})

    def delivery(self, external_id="pk-1", **overrides):
        """A confirmed channel order's reserved delivery: 2 mugs (0.35 kg) and 1 tea (0.1 kg)."""
        [(status, body)] = self.receive(order_payload(external_id, **overrides))
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        return picking

    def lines(self, picking, product=None):
        lines = picking.move_line_ids.filtered(lambda ml: ml.quantity)
        if product:
            lines = lines.filtered(lambda ml: ml.product_id == product)
        return lines

    def pack_all(self, picking, weight=None, tracking_ref=False, **kwargs):
        """Everything in one box; by default weighed exactly as expected (2 x 0.35 + 0.1 + 0.2 = 1.0 kg)."""
        lines = [(ml, ml.quantity) for ml in self.lines(picking)]
        if weight is None:
            weight = picking._oms_check_parcel(lines, self.box, 0.0)["expected"]
        return picking._oms_pack(
            [{"lines": lines, "package_type": self.box, "weight": weight, "tracking_ref": tracking_ref}], **kwargs
        )


class OmsAccountingCommon(AccountTestInvoicingCommon):
    """Odoo's own accounting test base under the OMS fixtures, for the tests that invoice, pay, refund and book
    payouts: put it after an OMS base (``class TestX(OmsCommon, OmsAccountingCommon)``) and the channel, its
    warehouse and products are made in ``AccountTestInvoicingCommon``'s company, which has a chart of accounts,
    journals and taxes (``company_data``, ``init_invoice``, ...). The tests run as superuser, as the other OMS
    tests, and with the mail features on: the OMS tells its users and customers by mail."""

    @classmethod
    def setup_independent_user(cls):
        return None

    @classmethod
    def default_env_context(cls):
        return {}


class OmsJobsMixin:
    """Runs the jobs trapped with queue_job's ``trap_jobs`` as its runner would."""

    def run_jobs(self, trap):
        """Run the trapped jobs as queue_job's runner does: a ``RetryableJobError`` puts the job back (with its
        wait), any other error rolls the job's work back and calls the job function's ``on_fail_method``."""
        outcomes = []
        jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
        for job in jobs:
            try:
                with self.env.cr.savepoint():
                    job.perform()
                outcomes.append(("done", job.result))
            except RetryableJobError as error:
                trap.enqueued_jobs.append(job)
                outcomes.append(("retry", error.seconds))
            except Exception as error:
                self.env.invalidate_all()
                message = error.args[0] if error.args else str(error)
                job.on_fail({"exc_info": "", "exc_name": type(error).__name__, "exc_message": message})
                outcomes.append(("failed", message))
        self.env.invalidate_all()
        return outcomes
