import base64
import io
import json
import re
import subprocess

import openpyxl

from odoo import Command
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import config

from ..tools.signing import signed_headers
from .common import OmsPackingCommon

COD = {"status": "cod", "method": "cod", "amount": 0, "reference": ""}


def pdf_pages(pdf):
    """The pages of a PDF as text, as poppler's ``pdftotext -layout`` reads them, whitespace collapsed."""
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return [" ".join(page.split()) for page in text.decode().split("\f")[:-1]]


@tagged("post_install", "-at_install")
class TestParcelDocuments(HttpCase, OmsPackingCommon):
    """Every document that shows a delivery's parcels shows the same parcel, number, weight and COD amount:
    labels (PDF, ZPL), packing slip, manifest (PDF, XLSX), API status, shipped email, portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # wkhtmltopdf loads the report styles from the test server.
        cls.env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        cls.company.email = "shop@example.com"
        cls.Report = cls.env["ir.actions.report"].with_context(force_report_rendering=True)

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)  # a session that names the test database, nothing more

    def _pack_two(self, picking, numbers=(False, False)):
        """Parcel 1: a mug and the tea (0.66 kg), parcel 2: a mug (0.56 kg), weights within the tolerance."""
        mug_line, tea_line = self.lines(picking, self.mug), self.lines(picking, self.tea)
        return picking._oms_pack(
            [
                {
                    "lines": [(mug_line, 1), (tea_line, 1)],
                    "package_type": self.box,
                    "weight": 0.66,
                    "tracking_ref": numbers[0],
                },
                {"lines": [(mug_line, 1)], "package_type": self.box, "weight": 0.56, "tracking_ref": numbers[1]},
            ]
        )

    def _documents(self, picking):
        """Each document of a shipped delivery, printed or fetched as its reader gets it."""
        order = picking.sale_id
        label_pdf, _type = self.Report._render_qweb_pdf("oms_ecommerce.action_report_shipping_label", picking.ids)
        zpl, _type = self.Report._render_qweb_text("oms_ecommerce.action_report_shipping_label_zpl", picking.ids)
        zpl = zpl.decode() if isinstance(zpl, bytes) else str(zpl)
        slip_pdf, _type = self.Report._render_qweb_pdf("oms_ecommerce.action_report_packing_slip", picking.ids)
        handover = self.env["oms.handover"].create(
            {"carrier_id": picking.carrier_id.id, "picking_ids": [Command.set(picking.ids)]}
        )
        manifest = self.env["oms.manifest"].browse(handover.action_hand_over()["res_id"])
        manifest_pdf, _type = self.Report._render_qweb_pdf("oms_ecommerce.action_report_manifest", manifest.ids)
        action = manifest.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas))).active
        path = f"/oms/v1/{order.oms_channel_id.code}/orders/{order.oms_external_id}"
        response = self.url_open(path, headers=signed_headers(order.oms_channel_id.sudo().secret, "GET", path))
        self.assertEqual(response.status_code, 200, response.text)
        self.run_step_email_jobs()
        mail = self.env["mail.mail"].search(
            [("model", "=", "sale.order"), ("res_id", "=", order.id), ("subject", "ilike", "shipped")]
        )
        self.assertEqual(len(mail), 1, "one shipped email")
        portal = self.url_open(order.get_portal_url())
        self.assertEqual(portal.status_code, 200)
        return {
            "label_pages": pdf_pages(label_pdf),
            "zpl_blocks": [block.split("^XZ")[0] for block in zpl.split("^XA")[1:]],
            "slip_pages": pdf_pages(slip_pdf),
            "manifest_pdf": " ".join(pdf_pages(manifest_pdf)),
            "manifest_xlsx": list(sheet.iter_rows(values_only=True)),
            "api": response.json()["tracking"],
            "email": mail.body_html,
            "portal": portal.text,
        }

    def _check_documents(self, picking, parcels, extra=(), cod=0.0):
        # Longer than ~60 lines on purpose: every document of a parcel checked in one place.
        """``parcels``: (number, weight) of parcel 1, 2, …; ``extra``: numbers beyond the parcels; ``cod``: the
        amount collected with parcel 1. Every document shows exactly these, each number with its parcel."""
        docs = self._documents(picking)
        count = len(parcels)
        numbers = [number for number, _weight in parcels] + list(extra)
        links = [f"https://track.example.com/p/{number}" for number in numbers]
        amount = f"{cod:.2f}"
        # Labels: one page / one ZPL block per parcel, with its number, weight, and the COD on parcel 1 only.
        self.assertEqual(len(docs["label_pages"]), count)
        self.assertEqual(len(docs["zpl_blocks"]), count)
        for n, ((number, weight), page, block) in enumerate(
            zip(parcels, docs["label_pages"], docs["zpl_blocks"], strict=True), start=1
        ):
            self.assertIn(f"Parcel {n} of {count}", page)
            self.assertIn(f"{weight:.2f} kg", page)
            self.assertIn(number, page)
            self.assertNotIn("NO TRACKING NUMBER", page)
            self.assertIn(f"Parcel {n} of {count}", block)
            self.assertIn(f"^FD{weight:.2f} kg^FS", block)
            self.assertIn(f"^BCN,160,Y,N,N^FD{number}^FS", block)
            self.assertIn(f"^FDQA,https://track.example.com/p/{number}^FS", block)
            for other in set(numbers) - {number}:
                self.assertNotIn(other, page)
                self.assertNotIn(other, block)
            if cod and n == 1:
                self.assertIn("CASH ON DELIVERY", page)
                self.assertIn(amount, page)
                self.assertIn(f"^FDUSD {amount}^FS", block)
            else:
                self.assertNotIn("CASH ON DELIVERY", page)
                self.assertNotIn("CASH ON DELIVERY", block)
        # Packing slip (one page): parcel n of m, its number and weight; then the numbers beyond the parcels.
        self.assertEqual(len(docs["slip_pages"]), 1, "the parcels do not push the slip onto a second page")
        [slip] = docs["slip_pages"]
        for n, (number, weight) in enumerate(parcels, start=1):
            self.assertIn(f"Parcel {n} of {count} {number} {weight:.2f} kg", slip)
        for number in extra:
            self.assertIn(f"Tracking {number}", slip)
        self.assertRegex(slip, ".*".join(map(re.escape, numbers)))
        if cod:
            self.assertRegex(slip, rf"Cash on delivery \$ ?{re.escape(amount)} with parcel 1")
        else:
            self.assertNotIn("Cash on delivery", slip)
        # Manifest: a row per parcel, then a row per number beyond; PDF and XLSX alike.
        expected_rows = [
            (f"{n}/{count}", number, weight, cod if n == 1 else 0)
            for n, (number, weight) in enumerate(parcels, start=1)
        ] + [("", number, 0, 0) for number in extra]
        self.assertEqual([(row[5] or "", row[6], row[7], row[8]) for row in docs["manifest_xlsx"][1:-1]], expected_rows)
        total = docs["manifest_xlsx"][-1]
        self.assertEqual((total[0], total[5]), ("Total", count))
        self.assertAlmostEqual(total[7], sum(weight for _number, weight in parcels))
        self.assertAlmostEqual(total[8], cod)
        manifest = docs["manifest_pdf"]
        for parcel, number, weight, collect in expected_rows:
            cells = [parcel, number, f"{weight:.2f}"] + ([f"{collect:.2f} USD"] if collect else [])
            self.assertRegex(manifest, " ".join(map(re.escape, filter(None, cells))) + r"(?! USD)")
        self.assertIn(f"Total {count} parcels, 1 deliveries", manifest)
        # API status, shipped email, portal: every number with its own link, in parcel order.
        self.assertEqual(
            docs["api"],
            [{"carrier": "OMS Post", "number": n, "url": link} for n, link in zip(numbers, links, strict=True)],
        )
        for document in ("email", "portal"):
            pattern = ".*".join(f'href="{re.escape(link)}"[^>]*>{n}<' for n, link in zip(numbers, links, strict=True))
            self.assertRegex(docs[document], re.compile(pattern, re.DOTALL))
        self.assertNotIn(",".join(numbers), docs["email"] + docs["portal"])

    def test_two_parcels_with_their_own_numbers(self):
        picking = self.delivery("par-1", payment=COD)
        self._pack_two(picking, ("PAR1A", "PAR1B"))
        self.ship(picking)
        amount = picking.sale_id._oms_cod_amount()
        self.assertTrue(amount)
        self._check_documents(picking, [("PAR1A", 0.66), ("PAR1B", 0.56)], cod=amount)

    def test_two_parcels_numbered_by_the_delivery_reference(self):
        """Parcels without their own number take the delivery's numbers ("a,b") in order."""
        picking = self.delivery("par-2")
        self._pack_two(picking)
        picking.carrier_tracking_ref = "PAR2A,PAR2B"
        self.assertEqual(
            json.loads(picking.carrier_tracking_url),
            [["PAR2A", "https://track.example.com/p/PAR2A"], ["PAR2B", "https://track.example.com/p/PAR2B"]],
        )
        self.ship(picking)
        self._check_documents(picking, [("PAR2A", 0.66), ("PAR2B", 0.56)])

    def test_one_parcel_and_two_numbers(self):
        """The issue: one parcel, "a,b" on the delivery. Parcel 1 is "a" everywhere; "b" is listed, not dropped."""
        picking = self.delivery("par-3", payment=COD)
        self.pack_all(picking, weight=1.02)
        picking.carrier_tracking_ref = "PAR3A, PAR3B"
        self.ship(picking)
        self._check_documents(picking, [("PAR3A", 1.02)], extra=["PAR3B"], cod=picking.sale_id._oms_cod_amount())

    def test_parcel_rows(self):
        """The rules, once: own numbers first, the delivery's free numbers in order, no parcel is one parcel,
        COD with parcel 1 of the first shipment only."""
        unpacked = self.delivery("row-1")
        unpacked.carrier_tracking_ref = "ROW1"
        [row] = unpacked._oms_parcel_rows()
        self.assertEqual((row["n"], row["m"], row["tracking"], row["extra"]), (1, 1, "ROW1", False))
        self.assertFalse(row["package"])
        self.assertAlmostEqual(row["weight"], 0.8, msg="the delivery's weight: 2 x 0.35 + 0.1")
        # Parcel 2 has its own number; parcel 1 takes the first number nobody owns.
        mixed = self.delivery("row-2")
        first, second = self._pack_two(mixed, (False, "ROW2B"))
        mixed.carrier_tracking_ref = "ROW2B,ROW2A,ROW2C"
        rows = mixed._oms_parcel_rows()
        self.assertEqual(
            [(r["package"], r["n"], r["tracking"], r["own"], r["extra"]) for r in rows],
            [
                (first, 1, "ROW2A", False, False),
                (second, 2, "ROW2B", True, False),
                (self.env["stock.package"], 0, "ROW2C", False, True),
            ],
        )
        self.assertEqual([r["weight"] for r in rows], [0.66, 0.56, 0.0])
        # Cash on delivery: the first shipment's parcel 1 collects, its backorder says where.
        cod = self.delivery("row-3", payment=COD)
        cod._oms_pack(
            [{"lines": [(self.lines(cod, self.mug), 2)], "package_type": self.box, "weight": 0.9, "tracking_ref": "R3"}]
        )
        action = cod.button_validate()
        Form(self.env[action["res_model"]].with_context(**action["context"])).save().process()
        backorder = cod.backorder_ids
        self.pack_all(backorder, weight=0.3, tracking_ref="R3B")
        amount = cod.sale_id._oms_cod_amount()
        rows = (cod | backorder)._oms_parcel_rows()
        self.assertEqual(
            [(r["picking"], r["tracking"], r["cod"], r["cod_amount"], r["cod_picking"]) for r in rows],
            [(cod, "R3", True, amount, cod), (backorder, "R3B", False, 0.0, cod)],
        )
