import logging
import os
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from urllib.parse import urlparse

from odoo import api, models, modules, tools
from odoo.addons.base.models.ir_actions_report import _run_wkhtmltopdf, _wkhtml
from odoo.exceptions import UserError
from odoo.http import request, root
from odoo.service import security

_logger = logging.getLogger(__name__)

# wkhtmltopdf runs at once while a document of several reports is built (system parameter to change it).
PDF_WORKERS_PARAM = "oms_ecommerce.pdf_workers"
PDF_WORKERS_DEFAULT = 2


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _oms_pdf_workers(self):
        value = self.env["ir.config_parameter"].sudo().get_param(PDF_WORKERS_PARAM)
        workers = int(value) if value and value.isdigit() else PDF_WORKERS_DEFAULT
        return max(1, min(workers, os.cpu_count() or 1))

    @api.model
    def _oms_render_pdfs(self, jobs, progress=None):
        """PDFs of several reports, their wkhtmltopdf runs in parallel.

        The HTML of each report is rendered here, one after the other (Python, this transaction); as soon
        as one is ready its wkhtmltopdf run starts in a subprocess while the next one is rendered, up to
        ``oms_ecommerce.pdf_workers`` runs at once (default 2, at most the number of CPUs). A document of
        several reports thus takes about the time of its HTML plus its longest conversions, not the sum.

        :param jobs: [(report_ref, res_ids, data)] in the order of the result
        :param progress: called with the number of jobs done, as each one's PDF is ready, in order
        :return: [pdf bytes] in the order of ``jobs``
        """
        if not jobs:
            return []
        workers = self._oms_pdf_workers()
        testing = modules.module.current_test or tools.config["test_enable"]
        if workers == 1 or (testing and not self.env.context.get("force_report_rendering")):
            # Odoo's own path, one report after the other (tests render HTML there instead of PDF).
            results = []
            for report_ref, res_ids, data in jobs:
                results.append(self._render_qweb_pdf(report_ref, res_ids, data=data)[0])
                if progress:
                    progress(len(results))
            return results
        if _wkhtml().state == "install":
            raise UserError(self.env._("Unable to find Wkhtmltopdf on this system. The PDF can not be created."))
        self = self.with_context(webp_as_jpg=True)
        results = []
        with ExitStack() as files, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="oms-pdf") as pool:
            cookie = self._oms_wkhtmltopdf_cookie(files)
            running = deque()
            for report_ref, res_ids, data in jobs:
                args, output = self._oms_wkhtmltopdf_args(report_ref, res_ids, data, cookie, files)
                running.append((pool.submit(_run_wkhtmltopdf, args), output))
                # One more job rendered than runs converting: the CPUs stay busy while this thread renders.
                while len(running) > workers:
                    results.append(self._oms_wkhtmltopdf_result(*running.popleft()))
                    if progress:
                        progress(len(results))
            while running:
                results.append(self._oms_wkhtmltopdf_result(*running.popleft()))
                if progress:
                    progress(len(results))
        return results

    def _oms_wkhtmltopdf_cookie(self, files):
        """What Odoo's ``_run_wkhtmltopdf`` passes in a request: a temporary session for internal links."""
        if not (request and request.db):
            return []
        session = root.session_store.new()
        session.update({**request.session, "debug": "", "_trace_disable": True})
        if session.uid:
            session.session_token = security.compute_session_token(session, self.env)
        root.session_store.save(session)
        files.callback(root.session_store.delete, session)
        domain = urlparse(self._get_report_url()).hostname
        path = self._oms_temp_file(files, ".txt", f"session_id={session.sid}; HttpOnly; domain={domain}; path=/;")
        return ["--cookie-jar", path]

    @api.model
    def _oms_temp_file(self, files, suffix, text=None):
        fd, path = tempfile.mkstemp(suffix=suffix, prefix="report.oms.tmp.")
        with os.fdopen(fd, "wb") as handle:
            if text is not None:
                handle.write(text.encode())
        files.callback(_remove, path)
        return path

    def _oms_wkhtmltopdf_args(self, report_ref, res_ids, data, cookie, files):
        """The HTML of one report written to files, and the wkhtmltopdf arguments that convert them (as
        ``_render_qweb_pdf_prepare_streams`` and ``_run_wkhtmltopdf`` do, without running it)."""
        data = dict(data or {}, report_type="pdf", debug=False)
        report = self._get_report(report_ref)
        html = self.with_context(debug=False)._render_qweb_html(report_ref, res_ids, data=data)[0]
        bodies, _ids, header, footer, paperformat_args = report.with_context(debug=False)._prepare_html(
            html, report_model=report.model
        )
        args = self._build_wkhtmltopdf_args(
            report.get_paperformat(),
            self.env.context.get("landscape"),
            specific_paperformat_args=paperformat_args,
            set_viewport_size=self.env.context.get("set_viewport_size"),
        )
        args += cookie
        if header:
            args += ["--header-html", self._oms_temp_file(files, ".html", header)]
        if footer:
            args += ["--footer-html", self._oms_temp_file(files, ".html", footer)]
        args += [self._oms_temp_file(files, ".html", body) for body in bodies]
        output = self._oms_temp_file(files, ".pdf")
        return [*args, output], output

    def _oms_wkhtmltopdf_result(self, future, output):
        """The PDF of a finished run, or Odoo's error for a failed one."""
        process = future.result()
        if process.returncode not in (0, 1):
            message = self.env._(
                "Wkhtmltopdf failed (error code: %(error_code)s). Message: %(message)s",
                error_code=process.returncode,
                message=(process.stderr or "")[-1000:],
            )
            _logger.warning(message)
            raise UserError(message)
        if process.returncode == 1:
            _logger.warning("wkhtmltopdf: %s", process.stderr)
        with open(output, "rb") as pdf:
            return pdf.read()


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        _logger.error("Error when trying to remove file %s", path)
