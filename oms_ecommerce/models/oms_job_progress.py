from datetime import timedelta

from markupsafe import Markup
from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.exceptions import UserError

KINDS = [
    ("confirm", "Bulk Confirmation"),
    ("payout_import", "Payout Import"),
    ("poll", "Pull of Missed Orders"),
    ("stock_push", "Full Stock Push"),
]
# The job channel of the desk's bulk work that belongs to no sales channel (data/oms_progress_data.xml).
BULK_JOB_CHANNEL = "root.oms_bulk"
POLL_PAGES_PER_JOB = 4  # a job of a pull reads this many pages (1,000 Shopify orders), then the next job goes on
POLL_JOB_TIME_BUDGET = 120  # seconds, as a scheduled run of the pull


class OmsJobProgress(models.Model):
    """A long action a user started (a bulk confirmation, a payout import, a pull of missed orders, a full
    stock push), run as queue_job jobs instead of in the browser's request: each job does one chunk of the
    work and moves the progress, which every user sees as soon as the job is done. When the last chunk is
    done, or a job fails for good, the user who started it gets a notification and an inbox message.

    The jobs are methods of this record (``_oms_job_*``), so that a job that fails for good ends the
    action through one ``on_fail_method`` (``_oms_job_failed``, data/oms_progress_data.xml)."""

    _name = "oms.job.progress"
    _description = "Progress of a Long Action"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    key = fields.Char(
        readonly=True,
        index=True,
        copy=False,
        help="What the action works on (a selection of orders, a channel, a payout): one running action per key.",
    )
    user_id = fields.Many2one(
        "res.users", string="Started By", required=True, readonly=True, default=lambda self: self.env.user
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    channel_id = fields.Many2one(
        "oms.channel", string="Sales Channel", readonly=True, ondelete="cascade", check_company=True
    )
    payout_id = fields.Many2one("oms.payout", string="Payout", readonly=True, ondelete="cascade", check_company=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="running",
        required=True,
        readonly=True,
        index=True,
    )
    total = fields.Integer(
        readonly=True,
        help="The work to do: orders, rows or SKUs (for a pull of missed orders, the seconds of platform history to "
        "read).",
    )
    done = fields.Integer(readonly=True, help="The part of the total done by the jobs finished so far.")
    progress = fields.Integer(compute="_compute_progress", store=True, help="Percent of the work done.")
    counters = fields.Json(readonly=True, help="What the jobs counted so far (confirmed, skipped, stored…).")
    summary = fields.Text(readonly=True)
    error = fields.Text(readonly=True)
    done_at = fields.Datetime(string="Ended At", readonly=True)

    _one_running_per_key = models.UniqueIndex(
        "(key) WHERE state = 'running'", "This action is already running: follow its progress."
    )

    @api.depends("done", "total", "state")
    def _compute_progress(self):
        for record in self:
            if record.state == "done":
                record.progress = 100
            elif record.total > 0:
                record.progress = min(99, int(100 * record.done / record.total))
            else:
                record.progress = 0

    # ------------------------------------------------------------------
    # Starting
    # ------------------------------------------------------------------
    @api.model
    def _oms_start(self, kind, name, key, total, **values):
        """The running action of ``key``, or a new one (a second click while it runs finds the first).

        :return: (the action's record, whether it was created: the caller enqueues its jobs then)
        """
        Progress = self.sudo()  # written by the jobs on behalf of the user (user_id); read by the users
        running = Progress.search([("key", "=", key), ("state", "=", "running")], limit=1)
        if running:
            return running, False
        # The action belongs to the company of what it works on (its jobs run in that company), not the current one.
        subject = Progress.env["oms.channel"].browse(values.get("channel_id")) or Progress.env["oms.payout"].browse(
            values.get("payout_id")
        )
        try:
            with self.env.cr.savepoint():
                progress = Progress.create(
                    {
                        "kind": kind,
                        "name": name,
                        "key": key,
                        "total": total,
                        "user_id": self.env.uid,
                        "company_id": (subject.company_id or self.env.company).id,
                        **values,
                    }
                )
        except UniqueViolation:
            # Another request started it between our search and our insert: theirs is the action.
            return Progress.search([("key", "=", key), ("state", "=", "running")], limit=1), False
        return progress, True

    def _oms_job_key(self, step):
        """The identity key of a step's job. A stock push's keys start with the channel's, so that the channel's
        Retry closes its failed jobs as it does those of the other stock pushes."""
        self.ensure_one()
        if self.kind == "stock_push":
            return f"oms-stock-all:{self.channel_id.id}:{self.id}:{step}"
        return f"oms-progress:{self.id}:{step}"

    def _oms_delayable(self, step, description, channel=BULK_JOB_CHANNEL):
        """A queue_job ``Delayable`` of one step of this action, run as the user who started it."""
        self.ensure_one()
        return (
            self.with_user(self.user_id)
            .with_company(self.company_id)
            .delayable(channel=channel, identity_key=self._oms_job_key(step), description=description)
        )

    def _oms_started_notification(self, message):
        """The answer of the button that started the action: it goes on in the background."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.name,
                # the web client puts the links in place of the message's %s
                "message": f"{message.replace('%', '%%')} %s",
                "links": [{"label": self.env._("Follow its progress"), "url": f"/odoo/oms.job.progress/{self.id}"}],
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # Progress and the end
    # ------------------------------------------------------------------
    def _oms_add(self, done=0, counters=None, finish=True):
        """A job did ``done`` more units and counted ``counters`` (added to the action's); with ``finish``, the
        action ends when its total is done."""
        self.ensure_one()
        record = self.sudo()
        merged = dict(record.counters or {})
        for name, value in (counters or {}).items():
            merged[name] = merged.get(name, 0) + value
        record.write({"done": min(record.total, record.done + done), "counters": merged})
        if finish and record.state == "running" and record.done >= record.total:
            record._oms_finish(record._oms_summary())

    def _oms_summary(self):
        """What the action did, from its counters, for the user."""
        self.ensure_one()
        counters = self.counters or {}
        if self.kind == "confirm":
            return self.env._(
                "%(confirmed)s orders confirmed; %(skipped)s skipped (already confirmed, on hold, or refused).",
                confirmed=counters.get("confirmed", 0),
                skipped=counters.get("skipped", 0),
            )
        if self.kind == "payout_import":
            payout = self.payout_id
            return self.env._(
                "Payout %(payout)s: %(rows)s rows imported; %(matched)s matched, %(mismatched)s to check.",
                payout=payout.name,
                rows=counters.get("rows", 0),
                matched=payout.matched_count,
                mismatched=payout.mismatch_count,
            )
        if self.kind == "poll":
            return self.env._(
                "%(channel)s: %(stored)s orders received, %(skipped)s already known (%(pages)s pages).",
                channel=self.channel_id.name,
                stored=counters.get("stored", 0),
                skipped=counters.get("skipped", 0),
                pages=counters.get("pages", 0),
            )
        return self.env._(
            "%(channel)s: the stock levels of %(pushed)s SKUs pushed; %(unknown)s unknown on the platform.",
            channel=self.channel_id.name,
            pushed=counters.get("pushed", 0),
            unknown=counters.get("unknown", 0),
        )

    def _oms_finish(self, summary):
        """The action is done: say so to the user who started it."""
        self.ensure_one()
        self.sudo().write({"state": "done", "done": self.total, "summary": summary, "done_at": fields.Datetime.now()})
        self._oms_tell_user(summary, "success")

    def _oms_fail(self, message):
        """The action stopped for a reason the user must read (what was done before it stays done)."""
        self.ensure_one()
        self.sudo().write({"state": "failed", "error": message, "done_at": fields.Datetime.now()})
        self._oms_tell_user(message, "danger")

    def _oms_tell_user(self, message, kind):
        """A notification in the user's open browser tabs and a message in their inbox."""
        self.ensure_one()
        record = self.sudo()
        title = (
            self.env._("Done: %(action)s", action=record.name)
            if kind == "success"
            else self.env._("Failed: %(action)s", action=record.name)
        )
        record.user_id._bus_send(
            "simple_notification",
            {"type": kind, "title": title, "message": message, "sticky": kind != "success"},
        )
        record.message_post(
            body=Markup("<p><strong>%s</strong></p><p>%s</p>") % (title, message),
            partner_ids=record.user_id.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )

    def _oms_job_failed(self, exc_info=None, exc_name=None, exc_message=None, **kwargs):
        """``on_fail_method`` of the jobs: a job failed for good (an error, or its retries exhausted). Runs after
        its transaction was rolled back: the chunks done before it stay done, the ones after it never run."""
        message = (exc_message or exc_name or "").strip() or self.env._("The job failed without a message.")
        for record in self.sudo().exists().filtered(lambda r: r.state == "running"):
            if record.kind == "stock_push":
                # The channel shows the failed push with its Retry button, as for any stock push.
                record.channel_id._oms_sync_job_failed(exc_name=exc_name, exc_message=exc_message)
            record._oms_fail(
                self.env._(
                    "%(message)s (stopped at %(progress)s %%: what was done before stays done).",
                    message=message,
                    progress=record.progress,
                )
            )

    # ------------------------------------------------------------------
    # The jobs (each one chunk of the work, as the user who started the action)
    # ------------------------------------------------------------------
    def _oms_job_confirm(self, order_ids):
        """Job: confirm one chunk of the orders of a bulk confirmation."""
        self.ensure_one()
        orders = self.env["sale.order"].browse(order_ids).exists()
        confirmed = orders._oms_bulk_confirm(background_notify=True)
        skipped = len(order_ids) - len(confirmed)
        self._oms_add(len(order_ids), {"confirmed": len(confirmed), "skipped": skipped})
        return f"{len(confirmed)} confirmed, {skipped} skipped"

    def _oms_job_payout_rows(self, vals_list):
        """Job: create one chunk of the lines of an imported payout."""
        self.ensure_one()
        payout = self.payout_id
        self.env["oms.payout.line"].create([dict(vals, payout_id=payout.id) for vals in vals_list])
        self._oms_add(len(vals_list), {"rows": len(vals_list)})
        return f"{len(vals_list)} rows"

    def _oms_job_payout_match(self):
        """Job: match the lines of the imported payout (all at once: duplicates are found across the payout)."""
        self.ensure_one()
        payout = self.payout_id
        payout._check_draft(importing=False)
        payout.line_ids._oms_match()
        self._oms_add(1)
        return f"{payout.matched_count} matched, {payout.mismatch_count} to check"

    def _oms_job_push_stock(self, product_ids):
        """Job: push the stock levels of one chunk of the channel's mapped SKUs."""
        self.ensure_one()
        counts = self.channel_id._oms_push_stock_now(product_ids, force=True)
        self._oms_add(len(product_ids), {"pushed": counts["pushed"], "unknown": counts["unknown"]})
        return f"{counts['pushed']} pushed, {counts['unknown']} unknown"

    def _oms_job_poll(self, since=None, run=1):
        """Job: pull a few pages of the orders the platform updated since ``since`` (the first run: since the
        channel's watermark minus its overlap); while pages are left, the next job goes on from the new
        watermark. The progress is the share of the platform's history read, from the first page's start up
        to the moment the pull was started."""
        self.ensure_one()
        channel = self.channel_id
        pages_left = iter(range(POLL_PAGES_PER_JOB - 1, -1, -1))
        result = channel._oms_poll(
            commit=lambda: next(pages_left, 0),
            budget=POLL_JOB_TIME_BUDGET,
            since=fields.Datetime.to_datetime(since) if since else None,
        )
        counters = {name: result[name] for name in ("stored", "skipped", "pages")}
        if result["error"]:
            self._oms_add(0, counters, finish=False)
            self._oms_fail(result["error"])
            return result["error"]
        start = self.create_date - timedelta(seconds=self.total)
        watermark = channel.sudo().poll_watermark
        covered = int((watermark - start).total_seconds()) if watermark and watermark > start else 0
        self._oms_add(max(0, covered - self.done), counters, finish=False)
        moved = watermark and (not since or watermark > fields.Datetime.to_datetime(since))
        if result["more"] and moved:
            self._oms_delayable(
                f"poll-{run + 1}",
                self.env._("Pull missed orders of %(channel)s (part %(run)s)", channel=channel.name, run=run + 1),
                channel=channel._oms_job_channel(),
            )._oms_job_poll(since=fields.Datetime.to_string(watermark), run=run + 1).delay()
        else:
            summary = self._oms_summary()
            if result["more"] and result["stored"]:
                # More new orders updated in the same second as the watermark than a job reads (the watermark
                # did not move): the scheduled pull goes on.
                summary = self.env._("%(summary)s The rest is pulled by the scheduled pull.", summary=summary)
                self.env.ref("oms_ecommerce.ir_cron_oms_poll")._trigger()
            self._oms_finish(summary)
        return f"{result['stored']} stored, {result['skipped']} skipped, {result['pages']} pages"

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_open_target(self):
        """Open what the action worked on: the payout, the channel, or the orders."""
        self.ensure_one()
        if self.payout_id:
            return self.payout_id._get_records_action()
        if self.channel_id:
            return self.channel_id._get_records_action()
        raise UserError(self.env._("This action has no single record to open."))

    def action_view_jobs(self):
        """The queue_job jobs of this action (queue_job's own list: state, retries, the exception)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("queue_job.action_queue_job")
        action["name"] = self.env._("Jobs of %(action)s", action=self.name)
        action["domain"] = [("identity_key", "=like", self._oms_job_key("%"))]
        action["context"] = {}  # every job of the action, not only those the default filters keep
        return action

    @api.autovacuum
    def _gc_ended(self):
        """Ended actions are kept 30 days (queue_job keeps its done jobs as long)."""
        self.search(
            [("state", "!=", "running"), ("done_at", "<", fields.Datetime.subtract(fields.Datetime.now(), days=30))]
        ).unlink()
