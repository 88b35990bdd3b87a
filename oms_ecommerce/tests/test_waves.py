# Longer than ~520 lines on purpose: wave rules, wave documents and the hand-over share the wave set-up.
import base64
import io
from unittest.mock import patch

import openpyxl
from psycopg2 import IntegrityError

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import config, mute_logger
from odoo.tools.pdf import PdfReader

from ..models import oms_wave_print, stock_picking_batch
from ..models.oms_wave_print import OmsWavePrint
from .common import OmsPackingCommon, day, order_payload


class OmsWaveCommon(OmsPackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ship_product = cls.env["product.product"].create({"name": "OMS Express Shipping", "type": "service"})
        cls.express = cls.env["delivery.carrier"].create(
            {
                "name": "OMS Express",
                "delivery_type": "fixed",
                "fixed_price": 9.0,
                "product_id": ship_product.id,
                "tracking_url": "https://express.example.com/<shipmenttrackingnumber>",
            }
        )
        cls.channel.carrier_map_ids = [(0, 0, {"method": "express", "carrier_id": cls.express.id})]

    def deliveries(self, count, prefix="wv", **overrides):
        return self.env["stock.picking"].concat(*(self.delivery(f"{prefix}-{i}", **overrides) for i in range(count)))

    def packed(self, count, prefix="wp", **overrides):
        pickings = self.deliveries(count, prefix, **overrides)
        for picking in pickings:
            self.pack_all(picking, tracking_ref=f"{picking.sale_id.oms_external_id}-T".upper())
        return pickings

    def wave(self, pickings):
        wave = self.env["stock.picking.batch"].create(
            {"picking_ids": [(6, 0, pickings.ids)], "picking_type_id": pickings[0].picking_type_id.id}
        )
        wave.action_confirm()
        return wave


@tagged("post_install", "-at_install")
class TestWaveRules(OmsWaveCommon):
    def test_rules_group_by_carrier_within_the_limits(self):
        standard = self.deliveries(3, "std")
        express = self.deliveries(2, "exp", shipping={"method": "express", "price": 9.0})
        rule = self.env["oms.wave.rule"].create(
            {"name": "Test", "max_pickings": 2, "channel_ids": [(6, 0, self.channel.ids)]}
        )
        waves = rule._build_waves()
        self.assertEqual(len(waves), 3)
        self.assertEqual(sorted(len(w.picking_ids) for w in waves), [1, 2, 2])
        for wave in waves:
            self.assertEqual(len(wave.picking_ids.carrier_id), 1, "a wave never mixes carriers")
            self.assertEqual(wave.state, "in_progress")
            self.assertEqual(wave.oms_wave_rule_id, rule)
        self.assertEqual((standard | express).batch_id, waves)
        self.assertIn("OMS Express", waves.filtered(lambda w: w.picking_ids <= express).description)
        self.assertEqual(rule.last_wave_count, 3)
        # Deliveries already in a wave stay where they are.
        self.assertFalse(rule._build_waves())

    def test_rule_filters_weight_and_cutoff(self):
        other_channel = self.channel.copy({"name": "Other", "code": "other-shop", "secret": "x"})
        [(_status, body)] = self.receive(order_payload("oc-1"), channel=other_channel)
        self.env["sale.order"].browse(body["id"]).action_confirm()
        pickings = self.deliveries(3, "cut")
        self.company.resource_calendar_id.tz = "UTC"
        now = day(3, 12)
        pickings[0].sale_id.oms_placed_at = day(3, 11)  # after the 10:00 cutoff
        pickings[1].sale_id.oms_placed_at = day(3, 9)
        pickings[2].sale_id.oms_placed_at = day(2, 16)
        held = self.delivery("cut-held")
        held.sale_id.sudo()._oms_hold("Address to check")
        rule = self.env["oms.wave.rule"].create(
            {
                "name": "Morning",
                "cutoff_hour": 10.0,
                "max_weight": 1.0,  # each delivery weighs 0.8 kg of products: one per wave
                "channel_ids": [(6, 0, self.channel.ids)],
                "carrier_ids": [(6, 0, self.carrier.ids)],
            }
        )
        waves = rule._build_waves(now=now)
        self.assertEqual(len(waves), 2)
        self.assertEqual(waves.picking_ids, pickings[1:])
        self.assertFalse(pickings[0].batch_id, "placed after today's cutoff: tomorrow's wave")
        self.assertFalse(held.batch_id, "an order on hold is not picked")
        with self.assertRaises(UserError):
            rule.write({"max_pickings": 0})

    def test_wave_progress(self):
        pickings = self.deliveries(3, "prg")
        wave = self.wave(pickings)
        self.assertEqual(
            (wave.oms_delivery_count, wave.oms_printed_count, wave.oms_packed_count, wave.oms_shipped_count),
            (3, 0, 0, 0),
        )
        self.pack_all(pickings[0], tracking_ref="PRG0")
        self.pack_all(pickings[1], tracking_ref="PRG1")
        pickings[0]._oms_log_print("label_zpl")
        wave.invalidate_recordset()
        self.assertEqual(
            (wave.oms_delivery_count, wave.oms_printed_count, wave.oms_packed_count, wave.oms_shipped_count),
            (3, 1, 2, 0),
        )
        self.pack_all(pickings[2], tracking_ref="PRG2")
        for picking in pickings:
            picking.move_ids.picked = True
        wave.action_done()  # the wave is validated as a whole
        wave.invalidate_recordset()
        self.assertEqual(
            (wave.oms_delivery_count, wave.oms_printed_count, wave.oms_packed_count, wave.oms_shipped_count),
            (3, 1, 3, 3),
        )

    def test_buttons_open_what_they_name(self):
        """The wave, delivery and order buttons open the records they name, under the name they show."""

        def opened(action):
            if action.get("res_id"):
                return self.env[action["res_model"]].browse(action["res_id"])
            return self.env[action["res_model"]].search(action.get("domain") or [])

        pickings = self.deliveries(2, "btn")
        rule = self.env["oms.wave.rule"].create({"name": "Buttons", "channel_ids": [(6, 0, self.channel.ids)]})
        action = rule.action_build_waves()
        wave = pickings.batch_id
        self.assertEqual((action["name"], action["context"], opened(action)), ("New Waves", {}, wave))
        action = wave.action_oms_print_wave()
        self.assertEqual((action["res_model"], action["target"]), ("oms.wave.print.wizard", "new"))
        self.assertEqual(action["context"], {"default_batch_id": wave.id})
        job = self.env["oms.wave.print"].create({"batch_id": wave.id, "user_id": self.oms_manager.id})
        action = wave.action_oms_view_print_jobs()
        self.assertEqual((action["name"], opened(action)), ("Print Jobs", job))
        action = wave.action_oms_hand_over()
        self.assertEqual((action["res_model"], action["target"]), ("oms.handover", "new"))
        self.assertEqual(action["context"]["default_carrier_id"], pickings.carrier_id.id)
        pickings[0]._oms_log_print("label_zpl")
        action = pickings[0].action_oms_view_prints()
        self.assertEqual(opened(action).picking_ids, pickings[0])
        order = pickings[0].sale_id
        self.assertEqual(opened(order.action_oms_view_intake()), order.oms_intake_id)
        self.assertEqual(opened(order.oms_intake_id.action_open_order()), order)

    def test_wave_labels_as_zpl(self):
        pickings = self.packed(2, "zw")
        unpacked = self.delivery("zw-x")
        wave = self.wave(pickings | unpacked)
        action = wave.action_oms_print_wave_zpl()
        self.assertEqual(action["context"]["active_ids"], pickings.ids, "the packed deliveries, in wave order")
        text, _type = self.env["ir.actions.report"]._render_qweb_text(
            "oms_ecommerce.action_report_shipping_label_zpl", action["context"]["active_ids"]
        )
        self.assertEqual(str(text).count("^XA"), 2)
        self.assertLess(str(text).index("ZW-0-T"), str(text).index("ZW-1-T"))

    def test_add_orders_to_a_wave(self):
        pickings = self.deliveries(2, "add")
        action = pickings.sale_id.action_oms_add_to_wave()
        self.assertEqual(action["res_model"], "stock.picking.to.batch")
        self.assertEqual(sorted(action["context"]["active_ids"]), sorted(pickings.ids))
        wizard = self.env["stock.picking.to.batch"].with_context(**action["context"]).create({"mode": "new"})
        wizard.attach_pickings()
        self.assertEqual(len(pickings.batch_id), 1)


@tagged("post_install", "-at_install")
class TestWavePrinting(HttpCase, OmsWaveCommon):
    """The wave's one document, rendered by wkhtmltopdf and read back page by page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        cls.Report = cls.env["ir.actions.report"].with_context(force_report_rendering=True)

    def _texts(self, pdf):
        return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]

    def _two_deliveries(self):
        first = self.delivery("ord-1")
        mug_line, tea_line = self.lines(first, self.mug), self.lines(first, self.tea)
        first._oms_pack(
            [
                {
                    "lines": [(mug_line, 1), (tea_line, 1)],
                    "package_type": self.box,
                    "weight": 0.65,
                    "tracking_ref": "ORD1A",
                },
                {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.55, "tracking_ref": "ORD1B"},
            ]
        )
        second = self.delivery("ord-2")
        self.pack_all(second, tracking_ref="ORD2A")
        return first, second

    def test_page_order_pick_list_then_slip_and_labels_per_delivery(self):
        first, second = self._two_deliveries()
        wave = self.wave(first | second)
        pdf, printed, skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf()
        self.assertEqual(printed, first | second)
        self.assertFalse(skipped)
        pages = self._texts(pdf)
        self.assertEqual(len(pages), 6, "\n".join(p[:150] for p in pages))
        self.assertIn(f"Pick List {wave.name}", pages[0])
        # Grouped by location then SKU, quantities summed, with the deliveries they belong to.
        self.assertRegex(pages[0], rf"WH/Stock OMS-MUG OMS Mug 4 Units {first.name}, {second.name}")
        self.assertRegex(pages[0], rf"WH/Stock OMS-TEA OMS Tea 2 Units {first.name}, {second.name}")
        self.assertIn(f"Packing Slip {first.name}", pages[1])
        self.assertIn("ORD1A", pages[2])
        self.assertIn("Parcel 1 of 2", pages[2])
        self.assertIn("ORD1B", pages[3])
        self.assertIn(f"Packing Slip {second.name}", pages[4])
        self.assertIn("ORD2A", pages[5])
        # Face-up printers: the same pages, last first.
        pdf, _printed, _skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf(
            reverse=True, reprint=True
        )
        reversed_pages = self._texts(pdf)
        self.assertEqual(len(reversed_pages), 6)
        self.assertIn("ORD2A", reversed_pages[0])
        self.assertIn(f"Packing Slip {second.name}", reversed_pages[1])
        self.assertIn(f"Pick List {wave.name}", reversed_pages[5])
        # Labels only, for the label printer: no A4 pick list, no slips. Rendered one delivery per run here
        # (as a 1,000-delivery wave is, 100 per run): the chunks merge in wave order.
        with patch.object(stock_picking_batch, "PRINT_CHUNK", 1):
            pdf, _printed, _skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf(
                content="labels", reprint=True
            )
        pages = self._texts(pdf)
        self.assertEqual(len(pages), 3)
        self.assertNotIn("Packing Slip", " ".join(pages))
        self.assertNotIn("Pick List", " ".join(pages))
        self.assertEqual(
            [("ORD1A" in p, "ORD1B" in p, "ORD2A" in p) for p in pages],
            [(True, False, False), (False, True, False), (False, False, True)],
        )

    def test_printed_and_unpacked_deliveries_are_skipped_and_named(self):
        first, second = self._two_deliveries()
        unpacked = self.delivery("ord-3")
        heavy = self.delivery("ord-4")
        [package] = self.pack_all(heavy, tracking_ref="ORD4A")
        package.shipping_weight = 3.0  # changed after the check: no label, and the wave still prints
        wave = self.wave(first | second | unpacked | heavy)
        first._oms_log_print("label_zpl")
        pdf, printed, skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf()
        self.assertEqual(printed, second)
        self.assertEqual(set(skipped), {first, unpacked, heavy})
        self.assertEqual((skipped[first], skipped[unpacked]), ("label already printed", "not packed yet"))
        self.assertIn("weighs 3.00, expected 1.00", skipped[heavy])
        pages = self._texts(pdf)
        self.assertEqual(len(pages), 3)  # pick list, slip and label of the second delivery
        self.assertIn(f"Skipped {first.name}: label already printed {unpacked.name}: not packed yet", pages[0])
        self.assertTrue(second.oms_label_printed_at and second.oms_slip_printed_at)
        package.shipping_weight = 1.0  # weighed again: its label prints next time, the others are done
        _pdf, printed, _skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf()
        self.assertEqual(printed, heavy)
        with self.assertRaisesRegex(UserError, "Nothing to print in wave"):
            wave.with_context(force_report_rendering=True)._oms_wave_pdf()
        pdf, printed, _skipped = wave.with_context(force_report_rendering=True)._oms_wave_pdf(reprint=True)
        self.assertEqual(printed, first | second | heavy)

    @staticmethod
    def _perform(jobs):
        """Run trapped queue jobs as queue_job's runner would, rendering real PDFs (tests render HTML unless
        forced); the jobs they enqueue are left in the trap."""
        for queued in jobs:
            queued.recordset = queued.recordset.with_context(force_report_rendering=True)
            queued.perform()

    def test_large_wave_prints_once_in_the_background(self):
        # Longer than ~100 lines on purpose: the scenario's steps, end to end (request, chunks, a requeued job, assembly).
        first, second = self._two_deliveries()
        wave = self.wave(first | second)
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.wave_background_threshold", "2")
        # As in the browser: what is printed (computed from the content and reprint choices) decides the way.
        form = Form(
            self.env["oms.wave.print.wizard"].with_user(self.oms_warehouse_user).with_context(default_batch_id=wave.id)
        )
        self.assertEqual((form.delivery_count, form.skipped_count, form.background), (2, 0, False))
        self.env["ir.config_parameter"].sudo().set_param("oms_ecommerce.wave_background_threshold", "1")
        form.content = "labels"
        self.assertEqual((form.delivery_count, form.background), (2, True), "above the threshold: in the background")
        form.content = "all"
        wizard = form.save()
        self.assertTrue(wizard.background)
        with trap_jobs() as trap:
            action = wizard.action_print()
            self.assertIn("is being built", action["params"]["message"])
            # A second user clicks meanwhile: the same job, and they are told.
            again = (
                self.env["oms.wave.print.wizard"]
                .with_user(self.oms_manager)
                .create({"batch_id": wave.id})
                .action_print()
            )
            self.assertIn("already being printed by", again["params"]["message"])
            job = self.env["oms.wave.print"].search([("batch_id", "=", wave.id)])
            self.assertEqual(len(job), 1)
            self.assertEqual((job.state, job.user_id), ("queued", self.oms_warehouse_user))
            # One queue job, the first step; the second click enqueued nothing.
            trap.assert_jobs_count(1, only=job._job_build)
            trap.assert_enqueued_job(job._job_build, args=(0,))
            # Two workers racing past the check: the database keeps one active job per wave.
            real_search = OmsWavePrint.search
            calls = []

            def racing_search(records, domain, *args, **kwargs):
                calls.append(domain)
                return records.browse() if len(calls) == 1 else real_search(records, domain, *args, **kwargs)

            with patch.object(OmsWavePrint, "search", racing_search), mute_logger("odoo.sql_db"):
                raced, created = self.env["oms.wave.print"]._request(wave)
            self.assertEqual((raced, created), (job, False))
            with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                self.env["oms.wave.print"].create({"batch_id": wave.id, "user_id": self.oms_manager.id})
            trap.assert_jobs_count(1, only=job._job_build)

            # One job per delivery here (chunks of 1): the first chunk is built, its pages kept.
            built = []
            real_build_chunk = OmsWavePrint._build_chunk

            def build_chunk(records, index):
                built.append(index)
                return real_build_chunk(records, index)

            with (
                patch.object(oms_wave_print, "PRINT_CHUNK", 1),
                patch.object(OmsWavePrint, "_build_chunk", build_chunk),
            ):
                first_step = trap.enqueued_jobs
                trap.enqueued_jobs = []
                self._perform(first_step)
                self.assertRecordValues(job, [{"state": "running", "chunk_count": 2, "chunk_done": 1, "progress": 50}])
                self.assertEqual(len(job.part_ids), 1)
                trap.assert_enqueued_job(job._job_build, args=(1,))
                # A worker killed after its commit runs the step again (queue_job requeues dead jobs):
                # nothing is built twice, the wave goes on at its next chunk, not from zero.
                self._perform(first_step)
                self.assertEqual((job.chunk_done, len(job.part_ids)), (1, 1))
                while trap.enqueued_jobs:
                    queued, trap.enqueued_jobs = trap.enqueued_jobs, []
                    self._perform(queued)
        self.assertEqual(built, [0, 1])  # each chunk rendered once, whatever ran twice
        self.assertRecordValues(
            job, [{"state": "done", "progress": 100, "delivery_count": 2, "skipped_count": 0, "chunk_done": 2}]
        )
        self.assertFalse(job.part_ids)  # the chunks' pages are in the document now
        parts = self.env["ir.attachment"].search([("res_model", "=", "oms.wave.print"), ("res_id", "=", job.id)])
        self.assertFalse(parts)
        self.assertEqual(job.attachment_id.res_model, "stock.picking.batch")
        self.assertEqual(job.attachment_id.res_id, wave.id)
        pdf = PdfReader(io.BytesIO(base64.b64decode(job.attachment_id.datas)))
        self.assertEqual(len(pdf.pages), 6)
        # In wave order: the pick list, then each delivery's slip before its labels.
        text = ["".join((page.extract_text() or "").split()) for page in pdf.pages]
        first_slip = next(i for i, t in enumerate(text) if f"#OMS-SLIP:{first.name}#" in t)
        second_slip = next(i for i, t in enumerate(text) if f"#OMS-SLIP:{second.name}#" in t)
        self.assertLess(0, first_slip)
        self.assertLess(first_slip, second_slip)
        message = wave.message_ids[0]
        self.assertIn(job.attachment_id, message.attachment_ids)
        self.assertIn(self.oms_warehouse_user.partner_id, message.partner_ids)
        self.assertIn("2 deliveries printed", message.body)
        self.assertTrue(first.oms_label_printed_at and second.oms_slip_printed_at)
        # Done: a new click starts a new job.
        with trap_jobs():
            new_job, created = self.env["oms.wave.print"]._request(wave, reprint=True)
        self.assertTrue(created)
        # A step that fails for good (queue_job's retries spent) ends the job, failed: the wave is free again.
        new_job._job_build_failed(exc_name="SerializationFailure", exc_message="could not serialize access")
        self.assertEqual(new_job.state, "failed")
        self.assertIn("could not serialize access", new_job.error)
        self.assertIn("could not be built", wave.message_ids[0].body)
        with trap_jobs():
            self.assertTrue(self.env["oms.wave.print"]._request(wave, reprint=True)[1])

    def test_wave_print_job_fails_with_the_reason(self):
        """Nothing left to print when the job starts: the job fails with the reason, told to who asked."""
        first, second = self._two_deliveries()
        wave = self.wave(first | second)
        with trap_jobs() as trap:
            job, _created = self.env["oms.wave.print"].with_user(self.oms_warehouse_user)._request(wave)
            wave.with_context(force_report_rendering=True)._oms_wave_pdf()  # printed meanwhile, by hand
            self._perform(trap.enqueued_jobs)
        self.assertEqual(job.state, "failed")
        self.assertIn("Nothing to print in wave", job.error)
        self.assertIn(self.oms_warehouse_user.partner_id, wave.message_ids[0].partner_ids)

    def test_a_long_slip_keeps_its_pages_together(self):
        products = self.env["product.product"].create(
            [
                {"name": f"Long Item {i:02d}", "default_code": f"LONG-{i:02d}", "is_storable": True, "weight": 0.1}
                for i in range(45)
            ]
        )
        for product in products:
            self.env["stock.quant"]._update_available_quantity(product, self.warehouse.lot_stock_id, 5)
        long = self.delivery(
            "long-1", lines=[{"sku": p.default_code, "quantity": 1, "unit_price": 2.0} for p in products]
        )
        short = self.delivery("long-2")
        pages = (long | short).with_context(force_report_rendering=True)._oms_slip_pages()
        self.assertGreater(len(pages[long]), 1, "45 lines take more than one page")
        self.assertEqual(len(pages[short]), 1)
        texts = ["".join((page.extract_text() or "").split()) for page in pages[long] + pages[short]]
        self.assertIn(f"#OMS-SLIP:{long.name}#", texts[0])
        self.assertIn("LONG-44", texts[len(pages[long]) - 1])
        self.assertIn(f"#OMS-SLIP:{short.name}#", texts[-1])

    def test_small_wave_downloads_at_once(self):
        first, second = self._two_deliveries()
        wave = self.wave(first | second)
        wizard = (
            self.env["oms.wave.print.wizard"].with_context(force_report_rendering=True).create({"batch_id": wave.id})
        )
        self.assertFalse(wizard.background)
        action = wizard.action_print()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual(attachment.res_id, wave.id)
        self.assertTrue(first.oms_label_printed_at and second.oms_slip_printed_at)

    def test_manifest_hand_over_pdf_and_xlsx(self):
        # Longer than ~60 lines on purpose: the scenario's steps, end to end.
        cod = self.delivery("man-1", payment={"status": "cod", "method": "cod", "amount": 0})
        mug_line, tea_line = self.lines(cod, self.mug), self.lines(cod, self.tea)
        cod._oms_pack(
            [
                {
                    "lines": [(mug_line, 1), (tea_line, 1)],
                    "package_type": self.box,
                    "weight": 0.65,
                    "tracking_ref": "MAN1A",
                },
                {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.55, "tracking_ref": "MAN1B"},
            ]
        )
        paid = self.delivery("man-2")
        self.pack_all(paid, weight=1.02, tracking_ref="MAN2A")
        express = self.delivery("man-3", shipping={"method": "express", "price": 9.0})
        self.pack_all(express, tracking_ref="MAN3A")
        express_wave = self.wave(express)
        for picking in cod | paid | express:
            self.ship(picking)
        # As in the browser: choosing the courier fills its deliveries (a computed field), a wave narrows them.
        form = Form(self.env["oms.handover"].with_user(self.oms_warehouse_user))
        form.carrier_id = self.carrier
        self.assertEqual(sorted(form.picking_ids.ids), sorted((cod | paid).ids))
        form.batch_ids.add(express_wave)
        self.assertEqual(form.picking_ids.ids, [], "none of the carrier's deliveries is in that wave")
        handover = self.env["oms.handover"].with_user(self.oms_warehouse_user).create({"carrier_id": self.carrier.id})
        self.assertEqual(handover.picking_ids, cod | paid, "the carrier's shipped deliveries not handed over yet")
        handover.picking_ids |= express  # another carrier's parcel added by hand stays out
        action = handover.action_hand_over()
        manifest = self.env["oms.manifest"].browse(action["res_id"])
        self.assertEqual(manifest.picking_ids, cod | paid)
        self.assertTrue(cod.oms_handed_over_at and paid.oms_handed_over_at)
        self.assertFalse(express.oms_manifest_id)
        amount = cod.sale_id.amount_total
        self.assertRecordValues(
            manifest, [{"delivery_count": 2, "parcel_count": 3, "total_weight": 2.22, "cod_total": amount}]
        )
        # XLSX: a row per parcel, then the totals.
        action = manifest.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas))).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[0][:3], ("Delivery", "Order", "Channel Ref."))
        self.assertEqual([row[6] for row in rows[1:4]], ["MAN1A", "MAN1B", "MAN2A"])
        self.assertEqual([row[5] for row in rows[1:4]], ["1/2", "2/2", "1/1"])
        self.assertEqual([row[8] for row in rows[1:4]], [amount, 0, 0])
        self.assertEqual(rows[4][0], "Total")
        self.assertEqual(rows[4][5], 3)
        self.assertAlmostEqual(rows[4][7], 2.22)
        self.assertAlmostEqual(rows[4][8], amount)
        # PDF: the same rows and totals, and a signature line.
        pdf, _type = self.Report._render_qweb_pdf("oms_ecommerce.action_report_manifest", manifest.ids)
        text = " ".join(self._texts(pdf))
        for number in ("MAN1A", "MAN1B", "MAN2A"):
            self.assertIn(number, text)
        self.assertNotIn("MAN3A", text)
        self.assertIn(f"Total 3 parcels, 2 deliveries 2.22 {amount:.2f}", text)
        self.assertIn("Name, date and signature", text)
        with self.assertRaisesRegex(UserError, "No shipped delivery of OMS Post is waiting"):
            self.env["oms.handover"].create({"carrier_id": self.carrier.id}).action_hand_over()
        # Any list of waves exports the same columns.
        action = express_wave.action_oms_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        rows = list(
            openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas))).active.iter_rows(values_only=True)
        )
        self.assertEqual(rows[1][6], "MAN3A")

    def test_access(self):
        first, second = self._two_deliveries()
        wave = self.wave(first | second)
        packer = new_test_user(self.env, "wave_packer", groups="stock.group_stock_user")
        _pdf, printed, _skipped = wave.with_user(packer).with_context(force_report_rendering=True)._oms_wave_pdf()
        self.assertEqual(printed, first | second)
        # Salespeople read deliveries (sale_stock) but print no shipping documents.
        salesman = new_test_user(self.env, "wave_sales", groups="sales_team.group_sale_salesman")
        deliveries = (first | second).with_user(salesman)
        deliveries.check_access("read")
        with self.assertRaisesRegex(AccessError, "Only Inventory users print"):
            deliveries.with_context(force_report_rendering=True)._oms_slip_pages()
        with self.assertRaisesRegex(AccessError, "Only Inventory users print"):
            deliveries.with_context(force_report_rendering=True)._oms_label_pages()
        with self.assertRaises(AccessError):
            self.env["oms.wave.rule"].with_user(packer).create({"name": "Mine"})
        with self.assertRaises(AccessError):
            self.env["oms.wave.print"].with_user(packer).create({"batch_id": wave.id})
