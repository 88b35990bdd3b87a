"""The same order delivered twice at the same moment to a multi-worker Odoo server."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import psycopg2.errors
import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import config, mute_logger

from ..tools.signing import signed_headers
from .common import order_payload


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestConcurrentDelivery(TransactionCase):
    """Two real requests on two prefork workers, each in its own transaction, exactly as in
    production. That needs committed fixtures and a server of its own (the test process holds the
    registry lock), so the test starts one on this database and removes what it committed after."""

    def _committed_fixtures(self, tag):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            product = env["product.product"].create({"name": f"Race {tag}", "default_code": f"RACE-{tag}"})
            channel = env["oms.channel"].create({"name": f"Race {tag}", "code": f"race-{tag}", "secret": "race"})
            return product.id, channel.id

    def _cleanup(self, tag, product_id, channel_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
            partners = orders.partner_id | env["res.partner"].search([("email", "=", f"race-{tag}@example.com")])
            orders.unlink()
            env["oms.intake"].search([("channel_id", "=", channel_id)]).unlink()
            env["oms.channel"].browse(channel_id).unlink()
            env["product.product"].browse(product_id).unlink()
            partners.child_ids.unlink()
            partners.unlink()

    def _start_server(self):
        port, gevent_port = _free_port(), _free_port()
        odoo_bin = os.path.join(os.path.dirname(next(iter(odoo.__path__))), "odoo-bin")
        args = [
            sys.executable,
            odoo_bin,
            "-d",
            self.env.cr.dbname,
            f"--db-filter=^{self.env.cr.dbname}$",
            f"--addons-path={config['addons_path'] if isinstance(config['addons_path'], str) else ','.join(config['addons_path'])}",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            f"--gevent-port={gevent_port}",
            "--workers=2",
            "--max-cron-threads=0",
            "--log-level=warn",
        ]
        for option, flag in (
            ("db_host", "--db_host"),
            ("db_port", "--db_port"),
            ("db_user", "--db_user"),
            ("db_password", "--db_password"),
        ):
            if config.get(option):
                args.append(f"{flag}={config[option]}")
        server_log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by addCleanup; a pipe could fill and block
        self.addCleanup(server_log.close)
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=server_log)
        self.addCleanup(self._stop_server, server)
        deadline = time.time() + 90
        while time.time() < deadline and server.poll() is None:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=2).status_code == 200:
                    return f"http://127.0.0.1:{port}"
            time.sleep(0.5)
        server_log.seek(0)
        self.fail(f"the test server did not start within 90 s:\n{server_log.read().decode()[-2000:]}")

    def _stop_server(self, server):
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    def test_two_concurrent_requests_make_one_order(self):
        tag = uuid.uuid4().hex[:8]
        product_id, channel_id = self._committed_fixtures(tag)
        self.addCleanup(self._cleanup, tag, product_id, channel_id)
        base_url = self._start_server()
        payload = order_payload(
            f"race-{tag}",
            lines=[{"sku": f"RACE-{tag}", "quantity": 1}],
            shipping=None,
            customer={"email": f"race-{tag}@example.com", "name": "Racer"},
        )
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            **signed_headers("race", "POST", f"/oms/v1/race-{tag}/orders", body),
        }
        # Warm both workers up (registry loaded) so that the two deliveries really overlap.
        for _i in range(4):
            requests.get(f"{base_url}/web/health", timeout=10)
        barrier = threading.Barrier(2)
        answers = [None, None]

        def deliver(index):
            barrier.wait()
            response = requests.post(f"{base_url}/oms/v1/race-{tag}/orders", data=body, headers=headers, timeout=60)
            answers[index] = (response.status_code, response.json())

        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        self.assertTrue(all(answers), answers)
        self.assertEqual(sorted(answer[1]["status"] for answer in answers), ["created", "duplicate"], answers)
        created = next(a for a in answers if a[1]["status"] == "created")
        duplicate = next(a for a in answers if a[1]["status"] == "duplicate")
        self.assertEqual((created[0], duplicate[0]), (201, 200))
        self.assertEqual(duplicate[1], {"status": "duplicate", "order": created[1]["order"], "id": created[1]["id"]})
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("oms_channel_id", "=", channel_id)])
            self.assertEqual(len(orders), 1, "one order, never two")
            intakes = env["oms.intake"].search([("channel_id", "=", channel_id)], order="id")
            self.assertEqual(sorted(intakes.mapped("state")), ["done", "duplicate"], "both payloads are kept")
            self.assertEqual(intakes.order_id, orders, "the duplicate is linked to the order once committed")

    @mute_logger("odoo.sql_db")
    def test_unique_constraint_holds_in_the_database(self):
        """Even code that skips the intake cannot create the same channel order twice."""
        channel = self.env["oms.channel"].create({"name": "Uniq", "code": "uniq-shop"})
        partner = self.env["res.partner"].create({"name": "Uniq"})
        self.env["sale.order"].create({"partner_id": partner.id, "oms_channel_id": channel.id, "oms_external_id": "u1"})
        with (
            self.assertRaisesRegex(psycopg2.errors.UniqueViolation, "oms_channel_external_uniq"),
            self.env.cr.savepoint(),
        ):
            self.env["sale.order"].create(
                {"partner_id": partner.id, "oms_channel_id": channel.id, "oms_external_id": "u1"}
            )
