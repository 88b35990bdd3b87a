#!/usr/bin/env python3
"""Wave printing benchmark of oms_ecommerce, against Odoo's own delivery slips, in one run.

Setup (not timed): N_SMALL + N_LARGE channel orders received through the intake, confirmed, reserved,
packed in one weighed parcel each, in two waves (Odoo batch transfers). An Odoo HTTP server on the
bench database serves the report styles to wkhtmltopdf, as in production.

(a) Odoo's delivery slips (``stock.action_report_delivery``) of the N_SMALL deliveries: one PDF;
(b1) our wave document of the same N_SMALL deliveries: pick list, then each delivery's packing slip and
    label (twice the pages of (a) and more), one PDF, one wkhtmltopdf run at a time;
(b) the same with up to OMS_PDF_WORKERS (default: the CPUs) wkhtmltopdf runs at once; ratio b/a of wall
    seconds (goal <= 1.5). Wall and CPU seconds (this process + the wkhtmltopdf runs it waited for; the
    HTTP server that serves the report styles to wkhtmltopdf is not counted, alike for both) of each;
(c) a wave of N_LARGE deliveries end to end through the background job (as the queue job runs it), in a fresh
    Odoo process of its own, as a job runner's worker: seconds, pages, peak memory (max RSS) of that process
    (registry loaded, then the job: what a worker needs for it, not what this process kept from the set-up),
    and that it completed.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N_SMALL (default 100), N_LARGE (default 1000),
OMS_BENCH_DB (default oms_bench_wave, dropped at the end unless OMS_BENCH_KEEP=1), OMS_BENCH_PORT (8369).
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time

import common
from labels import setup_pickings


def parse_args():
    parser = common.parser(__doc__, "oms_bench_wave")
    parser.add_argument("--n-small", type=int, default=int(os.environ.get("N_SMALL", 100)))
    parser.add_argument("--n-large", type=int, default=int(os.environ.get("N_LARGE", 1000)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("OMS_BENCH_PORT", 8369)))
    parser.add_argument(
        "--pdf-workers",
        type=int,
        default=int(os.environ["OMS_PDF_WORKERS"]) if os.environ.get("OMS_PDF_WORKERS") else None,
        help="wkhtmltopdf runs at once for (b) (default: the number of CPUs)",
    )
    parser.add_argument("--large-wave", type=int, help=argparse.SUPPRESS)  # (c) in its own process: the wave's id
    return parser.parse_args()


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_rss_mb():
    """The peak memory of the largest child process waited for so far (here: wkhtmltopdf runs)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_rss_mb():
    """The peak resident memory of this process's own memory since it started (VmHWM): unlike ru_maxrss, not
    inherited from the process that forked it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return max_rss_mb()


def run(opts):
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api
    from odoo.tools.pdf import PdfReader

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{opts.port}")
        started = time.perf_counter()
        pickings = setup_pickings(env, opts.n_small + opts.n_large)
        waves = []
        for chunk in (pickings[: opts.n_small], pickings[opts.n_small :]):
            wave = env["stock.picking.batch"].create(
                {"picking_ids": [(6, 0, chunk.ids)], "picking_type_id": chunk[0].picking_type_id.id}
            )
            wave.action_confirm()
            waves.append(wave.id)
        small_ids = pickings[: opts.n_small].ids
        cr.commit()
        print(f"setup: {len(pickings)} deliveries packed in 2 waves in {time.perf_counter() - started:.0f} s")

    cpu = {}

    def cpu_seconds():
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime

    def timed(func, name=None):
        """Wall seconds of ``func``; its CPU seconds (this process, and the wkhtmltopdf runs it waited for)
        kept under ``name``."""
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.invalidate_all()
            own0, children0 = cpu_seconds()
            started = time.perf_counter()
            result = func(env)
            cr.commit()
            seconds = time.perf_counter() - started
            own1, children1 = cpu_seconds()
            if name:
                cpu[name] = (own1 - own0, children1 - children0)
            return result, seconds

    def cpu_text(name):
        own, children = cpu[name]
        return f"CPU {own + children:.1f} s (Odoo process {own:.1f} s, wkhtmltopdf {children:.1f} s)"

    def set_workers(workers):
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].set_param(
                "oms_ecommerce.pdf_workers", str(workers)
            )

    # Warm up both report paths once (asset bundles, templates), then measure.
    timed(lambda env: env["ir.actions.report"]._render_qweb_pdf("stock.action_report_delivery", small_ids[:2]))
    timed(lambda env: env["stock.picking"].browse(small_ids[:2])._oms_label_pages())

    slips, slip_seconds = timed(
        lambda env: env["ir.actions.report"]._render_qweb_pdf("stock.action_report_delivery", small_ids)[0], "a"
    )
    slip_pages = len(PdfReader(io.BytesIO(slips)).pages)
    print(
        f"(a) Odoo delivery slips, {len(small_ids)} deliveries: {slip_seconds:.2f} s wall, {cpu_text('a')}, "
        f"{slip_pages} pages; its wkhtmltopdf run's peak memory {children_rss_mb():.0f} MB"
    )
    workers = os.cpu_count() if opts.pdf_workers is None else opts.pdf_workers
    set_workers(1)
    (serial_pdf, printed, skipped), serial_seconds = timed(
        lambda env: env["stock.picking.batch"].browse(waves[0])._oms_wave_pdf(reprint=True), "b1"
    )
    print(
        f"(b1) OMS wave document, {len(printed)} deliveries, one wkhtmltopdf run at a time: {serial_seconds:.2f} s wall, "
        f"{cpu_text('b1')}, {len(PdfReader(io.BytesIO(serial_pdf)).pages)} pages"
    )
    set_workers(workers)
    (wave_pdf, printed, skipped), wave_seconds = timed(
        lambda env: env["stock.picking.batch"].browse(waves[0])._oms_wave_pdf(reprint=True), "b"
    )
    wave_pages = len(PdfReader(io.BytesIO(wave_pdf)).pages)
    assert len(printed) == len(small_ids) and not skipped, (len(printed), skipped)
    print(
        f"(b) OMS wave document, {len(printed)} deliveries (pick list + slip + label each), up to {workers} "
        f"wkhtmltopdf runs at once: {wave_seconds:.2f} s wall, {cpu_text('b')}, {wave_pages} pages"
    )
    rss_before = max_rss_mb()
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            f"--odoo-src={opts.odoo_src}",
            f"--addons-path={opts.addons_path}",
            f"--db={opts.db}",
            f"--port={opts.port}",
            f"--large-wave={waves[1]}",
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    large = json.loads(child.stdout.strip().splitlines()[-1])
    state, count, large_seconds = large["state"], large["count"], large["seconds"]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        raw = env["ir.attachment"].browse(large["attachment_id"]).raw if large["attachment_id"] else b""
        large_pages = len(PdfReader(io.BytesIO(raw)).pages) if raw else 0
    print(
        f"(c) OMS wave document, {opts.n_large} deliveries through the background job: {state}, {count} deliveries, "
        f"{large_pages} pages, {len(raw) / 1e6:.1f} MB, {large_seconds:.1f} s; peak memory of the job's own Odoo "
        f"process {large['max_rss_mb']:.0f} MB ({large['loaded_rss_mb']:.0f} MB with the registry loaded, before "
        f"the job; this set-up process: {rss_before:.0f} MB); the largest wkhtmltopdf run {large['wkhtmltopdf_rss_mb']:.0f} MB"
    )
    cpu_a, cpu_b = sum(cpu["a"]), sum(cpu["b"])
    print(
        f"ratio b/a={wave_seconds / slip_seconds:.2f} (goal <= 1.5, for {wave_pages / slip_pages:.1f}x the pages; "
        f"serial b1/a={serial_seconds / slip_seconds:.2f}; CPU b/a={cpu_b / cpu_a:.2f}); "
        f"{opts.n_large}-delivery wave completed: {state == 'done' and count == opts.n_large}"
    )


def run_large(opts):
    """(c) in this fresh process: the queue job's work on the large wave; prints its figures as JSON."""
    registry = common.open_registry(opts)
    from odoo import SUPERUSER_ID, api

    loaded = peak_rss_mb()
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        job, _created = env["oms.wave.print"]._request(env["stock.picking.batch"].browse(opts.large_wave), reprint=True)
        job._run()
        figures = {"state": job.state, "count": job.delivery_count, "attachment_id": job.attachment_id.id}
        cr.commit()
    figures.update(
        seconds=time.perf_counter() - started,
        max_rss_mb=peak_rss_mb(),
        loaded_rss_mb=loaded,
        wkhtmltopdf_rss_mb=children_rss_mb(),
    )
    print(json.dumps(figures), flush=True)


def main():
    opts = parse_args()
    if opts.large_wave:
        run_large(opts)
    else:
        common.with_database(opts, run, server=True)


if __name__ == "__main__":
    main()
