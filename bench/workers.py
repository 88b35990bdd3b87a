#!/usr/bin/env python3
"""Workers benchmark of oms_ecommerce: channel API intake with more workers, and a worker killed mid-run.

One run, one throwaway database (``oms_bench_workers``, dropped at the end unless OMS_BENCH_KEEP=1), the
channel API's ``POST /oms/v1/<code>/orders`` (API.md, signed) served by prefork ``odoo-bin`` processes:

Throughput (the default): N orders (default 400) from S concurrent senders (default 8) with 1, 2 and 4
prefork workers (the server restarted for each setting, same database, new external ids each time), then
with two servers of 2 workers each on the same PostgreSQL, the senders split between them. Printed per
setting: answer p50/p95/max, orders per second until every order exists, duplicates and lost orders (both
must be 0); last the ratio of 4 workers' throughput to 1 worker's.

Hard case (``--hard``): N_HARD orders (default 10,000) from 16 senders against ``--workers`` (default 4)
prefork workers; a tenth of the orders sent a second time, later, by another sender; about a tenth sent in
batches of 10 (``orders/batch``); at a third of the run one worker is killed with SIGKILL (the master
spawns a new one). A request that fails (no answer, connection reset, 5xx, timeout) is sent again, the same
body signed anew, up to 5 times with a short back-off, as platforms do. Then, from the database: every
external id must exist exactly once as an order and have the payload it was sent with stored (a done
intake); printed: requests retried, requests the kill interrupted, and last the ratio of orders present
exactly once (with their payload) to orders sent, which must be 1.00.

Settings: ODOO_SRC, ADDONS_PATH, PGHOST, PGPORT, PGUSER, N (400), N_HARD (10000), OMS_BENCH_SENDERS (8),
OMS_BENCH_WORKERS (4, the hard case's), OMS_BENCH_PORTS (e.g. 8400-8499), OMS_BENCH_DB, OMS_BENCH_KEEP=1.
"""

import argparse
import functools
import http.client
import json
import os
import queue
import random
import signal
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import intake as base  # the intake bench: database, data, orders
import webhooks  # the webhook bench: prefork server, senders, counting

WORKER_SETTINGS = (1, 2, 4)
BATCH_SIZE = 10
MAX_RETRIES = 5
BACKOFF = 0.25  # seconds before the first retry, doubled for each next one
ANSWER_TIMEOUT = 120  # seconds a sender waits for an answer before it counts the request as unanswered
USED_PORTS = set()  # the ports given to a server of this run (a stopped server's gevent port may linger)


def parse_args():
    parser = common.parser(__doc__.split("\n\n")[0], "oms_bench_workers", pg=True)
    parser.add_argument("-n", "--orders", type=int, default=common.env_int("N", 400))
    parser.add_argument("--senders", type=int, default=common.env_int("OMS_BENCH_SENDERS", 8))
    parser.add_argument("--hard", action="store_true", help="the hard case instead of the throughput settings")
    parser.add_argument("--hard-orders", type=int, default=common.env_int("N_HARD", 10000))
    parser.add_argument("--hard-senders", type=int, default=16)
    parser.add_argument("--workers", type=int, default=common.env_int("OMS_BENCH_WORKERS", 4))
    parser.add_argument("--kills", type=int, default=1, help="workers killed in the hard case (default 1, at a third)")
    parser.add_argument(
        "--ports",
        default=os.environ.get("OMS_BENCH_PORTS"),
        help="the servers' ports, e.g. 8400-8499 (env OMS_BENCH_PORTS; default: any free ones)",
    )
    args = parser.parse_args()
    if min(args.orders, args.senders, args.hard_senders, args.workers, args.kills) < 1 or args.hard_orders < 100:
        parser.error("need --orders, --senders, --hard-senders, --workers and --kills >= 1, --hard-orders >= 100")
    return args


def port_in_range(args, taken):
    """A free loopback port of ``--ports`` (first-last), not in ``taken``."""
    first, _sep, last = args.ports.partition("-")
    for port in range(int(first), int(last or first) + 1):
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise SystemExit(f"no free port left in {args.ports}: free one or give another range (--ports)")


def start_server(args, workers):
    """A prefork server of ``workers`` workers on the bench database, with a log of its own; its ports in
    ``--ports`` when given (a shared machine), else any free ones."""
    server = webhooks.PreforkServer(argparse.Namespace(**{**vars(args), "workers": workers}))
    if args.ports:
        server.port, server.gevent_port = port_in_range(args, USED_PORTS), port_in_range(args, USED_PORTS)
    server.logfile = server.logfile.with_name(f"{args.db}-server-{server.port}.log")
    server.start()
    return server


def stop_servers(args, servers):
    for server in servers:
        server.stop()
        if not args.keep:
            server.logfile.unlink(missing_ok=True)
    servers.clear()


def send_split(ports, deliveries, senders):
    """``deliveries`` from ``senders`` concurrent senders, sender k talking to ``ports[k % len(ports)]``."""
    jobs = queue.Queue()
    for delivery in deliveries:
        jobs.put(delivery)
    answers = []
    threads = [webhooks.Sender(ports[k % len(ports)], jobs, answers) for k in range(senders)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, answers


# ----------------------------------------------------------------------------------------------
# Throughput
# ----------------------------------------------------------------------------------------------
def run_setting(args, ctx, tag, name, servers):
    """N new orders through ``servers``: (orders/s, p50 s, p95 s, duplicates, lost)."""
    ports = [server.port for server in servers]
    workers = sum(server.args.workers for server in servers)
    deliver = functools.partial(webhooks.api_delivery, ctx["secret"])
    warm = [base.order_payload(f"{tag}-{name}w", i, ctx["currency"]) for i in range(2 * workers)]
    send_split(ports, [functools.partial(deliver, order) for order in warm], args.senders)
    orders = [base.order_payload(f"{tag}-{name}", i, ctx["currency"]) for i in range(args.orders)]
    before = base.load()
    start = time.perf_counter()
    seconds, answers = send_split(ports, [functools.partial(deliver, order) for order in orders], args.senders)
    ids = [order["external_id"] for order in orders]
    until, total, distinct = webhooks.wait_all(args, ctx["channel_id"], ids, start)
    rate = webhooks.describe(name, seconds, answers, until, 201)
    times = [answer[0] for answer in answers]
    duplicates, lost = total - distinct, args.orders - distinct
    common.say(f"  {'':<9} duplicates {duplicates}, lost {lost}; load average {before} before, {base.load()} after")
    return rate, statistics.median(times), webhooks.percentile(times, 0.95), duplicates, lost


def throughput(args, ctx, tag):
    """Every setting in turn: 1, 2, 4 workers on one server, then two servers of 2 workers."""
    settings = [(f"{w}w", [w]) for w in WORKER_SETTINGS] + [("2x2w", [2, 2])]
    results = {}
    servers = []
    try:
        for name, layout in settings:
            servers.extend(start_server(args, workers) for workers in layout)
            where = ", ".join(f"127.0.0.1:{server.port} ({server.args.workers} workers)" for server in servers)
            common.say(f"{name}: {len(servers)} server(s), {where}; {args.senders} senders, N={args.orders}")
            results[name] = run_setting(args, ctx, tag, name, servers)
            stop_servers(args, servers)
    finally:
        stop_servers(args, servers)
    common.say("")
    common.say("setting  orders/s  p50 ms  p95 ms  duplicates  lost")
    for name, (rate, p50, p95, duplicates, lost) in results.items():
        common.say(f"{name:<8} {rate:8.1f}  {1000 * p50:6.0f}  {1000 * p95:6.0f}  {duplicates:10d}  {lost:4d}")
    status = 0 if all(r[3] == 0 and r[4] == 0 for r in results.values()) else 1
    common.say(f"ratio 4w/1w={results['4w'][0] / results['1w'][0]:.2f}")
    return status


# ----------------------------------------------------------------------------------------------
# The hard case: duplicates, batches, a worker killed, retries
# ----------------------------------------------------------------------------------------------
class Request:
    """One request a sender must get answered: one order, or a batch of orders; ``slot`` orders a lane."""

    def __init__(self, payloads, batch, slot):
        self.payloads, self.batch, self.slot = payloads, batch, slot
        self.path = f"/oms/v1/{base.CHANNEL_CODE}/orders" + ("/batch" if batch else "")
        self.raw = json.dumps({"orders": payloads} if batch else payloads[0]).encode()
        self.again = False  # the second sending of an order
        self.attempts = []  # (started, ended, status or 0, what went wrong or None)
        self.answer = None


def hard_plan(tag, n, senders, currency, rng):
    """Each sender's requests, in sending order: every order once (a tenth in batches of 10), then a tenth
    of them again, a little later, from another sender."""
    payloads = [base.order_payload(f"{tag}-hard", i, currency) for i in range(n)]
    in_batches = sorted(rng.sample(range(n), n // 10 // BATCH_SIZE * BATCH_SIZE))
    requests = [
        Request([payloads[i] for i in in_batches[k : k + BATCH_SIZE]], True, 0)
        for k in range(0, len(in_batches), BATCH_SIZE)
    ]
    batched = set(in_batches)
    requests += [Request([payloads[i]], False, 0) for i in range(n) if i not in batched]
    rng.shuffle(requests)
    lanes = [[] for _k in range(senders)]
    sender_of = {}
    for position, request in enumerate(requests):
        request.slot = position // senders
        lanes[position % senders].append(request)
        for payload in request.payloads:
            sender_of[payload["external_id"]] = (position % senders, request.slot)
    for i in rng.sample(range(n), n // 10):
        sender, slot = sender_of[payloads[i]["external_id"]]
        other = (sender + rng.randrange(1, senders)) % senders
        again = Request([payloads[i]], False, slot + rng.uniform(0.5, 40))
        again.again = True
        lanes[other].append(again)
    for lane in lanes:
        lane.sort(key=lambda request: request.slot)
    return payloads, lanes


class RetryingSender(threading.Thread):
    """Sends its lane's requests over one connection; a request without a proper answer is sent again."""

    def __init__(self, port, secret, lane, progress):
        super().__init__(daemon=True)
        self.port, self.secret, self.lane, self.progress = port, secret, lane, progress

    def run(self):
        from odoo.addons.oms_ecommerce.tools.signing import signed_headers

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=ANSWER_TIMEOUT)
        for request in self.lane:
            for attempt in range(MAX_RETRIES + 1):
                if attempt:
                    time.sleep(BACKOFF * 2 ** (attempt - 1))
                headers = {
                    "Content-Type": "application/json",
                    **signed_headers(self.secret, "POST", request.path, request.raw),
                }
                started = time.perf_counter()
                try:
                    conn.request("POST", request.path, body=request.raw, headers=headers)
                    response = conn.getresponse()
                    status, data, problem = response.status, response.read(), None
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    status, data, problem = 0, b"", type(error).__name__
                request.attempts.append((started, time.perf_counter(), status, problem))
                if status and status < 500:
                    request.answer = (status, data)
                    break
            self.progress.release()
        conn.close()


def children(pid):
    """{child pid: its command line} of process ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
    return found


def worker_pids(server):
    """The prefork HTTP workers of ``server``: the children forked with its very command line, seen twice 0.3 s
    apart. Not the long-polling process (``odoo-bin gevent …``, which Odoo respawns as soon as it dies: when it
    cannot start it is respawned over and over, and a child caught between its fork and its exec still has the
    master's command line)."""
    master = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
    first = children(server.proc.pid)
    time.sleep(0.3)
    second = children(server.proc.pid)
    return sorted(pid for pid, argv in second.items() if argv == master and first.get(pid) == master)


def long_polling_restarts(server, seconds=2.0):
    """How many long-polling processes the master started in ``seconds`` (0 when it runs as it should)."""
    seen, deadline = set(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen |= {pid for pid, argv in children(server.proc.pid).items() if b"gevent" in argv.split(b"\0")[:3]}
        time.sleep(0.05)
    return max(len(seen) - 1, 0)


def kill_workers(server, progress, thresholds, kills):
    """Each time as many requests as the next of ``thresholds`` are answered, SIGKILL one worker (a running
    one if any) and wait for the master to replace it; what was done is appended to ``kills``."""
    answered = 0
    for threshold in thresholds:
        while answered < threshold:
            progress.acquire()
            answered += 1
        pids = worker_pids(server)
        running = [pid for pid in pids if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "R"]
        victim = random.choice(running or pids)
        kill = {"pid": victim, "workers": pids, "running": bool(running), "at": time.perf_counter(), "done": answered}
        kills.append(kill)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = worker_pids(server)
            if victim not in now and len(now) >= len(pids):
                kill.update(respawned=time.perf_counter() - kill["at"], new_workers=now)
                break
            time.sleep(0.05)


def describe_kills(requests, kills):
    """One line per kill, then the requests it interrupted and what their retry was answered."""
    for kill in kills:
        common.say(
            f"  kill: worker {kill['pid']} of {kill['workers']} ({'running' if kill['running'] else 'none seen running'}) "
            f"SIGKILLed after {kill['done']} answers; replaced in {kill.get('respawned', float('nan')):.1f} s by "
            f"{kill.get('new_workers')}"
        )
        for request in requests:
            hit = [a for a in request.attempts[:-1] if a[2] == 0 and a[0] <= kill["at"] <= a[1]]
            if hit:
                status, data = request.answer or (0, b"")
                common.say(
                    f"    in flight then: {'batch of ' + str(len(request.payloads)) if request.batch else 'order'}"
                    f"{' (its second sending)' if request.again else ''} "
                    f"{request.payloads[0]['external_id']}…, {hit[0][3]} after {hit[0][1] - hit[0][0]:.2f} s; "
                    f"sent {len(request.attempts)} times, last answer {status} {data[:80]!r}"
                )


def check_database(args, channel_id, payloads):
    """From the database: orders per external id, and the external ids whose sent payload a done intake holds."""
    ids = [payload["external_id"] for payload in payloads]
    conn = base.pg_connect(args, args.db)
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT oms_external_id, array_agg(id) FROM sale_order WHERE oms_channel_id = %s "
                "AND oms_external_id = ANY(%s) GROUP BY oms_external_id",
                (channel_id, ids),
            )
            orders = dict(cr.fetchall())
            cr.execute(
                "SELECT external_id, state, payload, order_id FROM oms_intake WHERE channel_id = %s AND external_id = ANY(%s)",
                (channel_id, ids),
            )
            intakes = cr.fetchall()
    finally:
        conn.close()
    sent = {payload["external_id"]: payload for payload in payloads}
    stored, states = {}, {}
    for external_id, state, payload, order_id in intakes:
        states[state] = states.get(state, 0) + 1
        if state == "done" and json.loads(payload) == sent[external_id] and order_id in orders.get(external_id, ()):
            stored[external_id] = stored.get(external_id, 0) + 1
    return orders, stored, states


def answered_orders(lanes):
    """{external id: order ids the answers named}, and the requests without a proper answer."""
    named, unanswered = {}, []
    for request in (request for lane in lanes for request in lane):
        status, data = request.answer or (0, b"")
        if status not in (200, 201):
            unanswered.append(request)
            continue
        body = json.loads(data)
        for result in body["results"] if request.batch else [body]:
            if result.get("http_status", status) in (200, 201):
                named.setdefault(result.get("external_id") or request.payloads[0]["external_id"], set()).add(
                    result.get("id")
                )
    return named, unanswered


def hard_case(args, ctx, tag):
    n, senders = args.hard_orders, args.hard_senders
    payloads, lanes = hard_plan(tag, n, senders, ctx["currency"], random.Random(n))
    total = sum(len(lane) for lane in lanes)
    in_batches = sum(len(r.payloads) for lane in lanes for r in lane if r.batch)
    thresholds = [total * (k + 1) // (args.kills + 2) for k in range(args.kills)]  # one kill: at a third
    server = start_server(args, args.workers)
    try:
        warm = [base.order_payload(f"{tag}-hardw", i, ctx["currency"]) for i in range(2 * args.workers)]
        send_split([server.port], [functools.partial(webhooks.api_delivery, ctx["secret"], o) for o in warm], senders)
        common.say(
            f"hard case: {n} orders, {n - in_batches} sent alone and {in_batches} in batches of {BATCH_SIZE}, "
            f"{n // 10} of them sent a second time later by another sender"
        )
        common.say(
            f"  {total} requests from {senders} senders to 127.0.0.1:{server.port}, {args.workers} prefork workers "
            f"(pids {worker_pids(server)}; long-polling process restarted {long_polling_restarts(server)} times in 2 s); "
            f"one SIGKILLed after {', '.join(map(str, thresholds))} answers; load average {base.load()}"
        )
        progress, kills = threading.Semaphore(0), []
        threads = [RetryingSender(server.port, ctx["secret"], lane, progress) for lane in lanes]
        killer = threading.Thread(target=kill_workers, args=(server, progress, thresholds, kills), daemon=True)
        start = time.perf_counter()
        killer.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        killer.join(timeout=60)
        load_after = base.load()
    finally:
        stop_servers(args, [server])
    return hard_report(args, ctx, payloads, lanes, kills, seconds, load_after)


def hard_report(args, ctx, payloads, lanes, kills, seconds, load_after):
    n = len(payloads)
    requests = [request for lane in lanes for request in lane]
    retried = [request for request in requests if len(request.attempts) > 1]
    failures = [attempt for request in requests for attempt in request.attempts if attempt[2] == 0 or attempt[2] >= 500]
    kinds = {}
    for _started, _ended, status, problem in failures:
        kinds[problem or str(status)] = kinds.get(problem or str(status), 0) + 1
    hit = [a for a in failures for kill in kills if a[0] <= kill["at"] <= a[1]]
    times = [request.attempts[-1][1] - request.attempts[-1][0] for request in requests]
    common.say(
        f"  sent in {seconds:.1f} s ({n / seconds:.1f} orders/s, {len(requests)} requests); answers p50 "
        f"{1000 * statistics.median(times):.0f} ms, p95 {1000 * webhooks.percentile(times, 0.95):.0f} ms; load "
        f"average {load_after} after (the machine is shared: other agents' tests run on its 2 cores)"
    )
    describe_kills(requests, kills)
    common.say(
        f"  retries: {len(retried)} request(s) retried, {sum(len(r.attempts) - 1 for r in retried)} attempt(s) "
        f"more; failures {kinds or 'none'}; in flight when a worker was killed: {len(hit)}"
    )
    orders, stored, states = check_database(args, ctx["channel_id"], payloads)
    named, unanswered = answered_orders(lanes)
    missing = [p["external_id"] for p in payloads if p["external_id"] not in orders]
    doubled = {eid: ids for eid, ids in orders.items() if len(ids) > 1}
    once = [
        p["external_id"]
        for p in payloads
        if len(orders.get(p["external_id"], ())) == 1 and stored.get(p["external_id"]) == 1
    ]
    wrong = {eid: ids for eid, ids in named.items() if not ids <= set(orders.get(eid, ()))}
    common.say(
        f"  database: orders missing {len(missing)}, duplicated {len(doubled)}; intakes {states}; payloads "
        f"stored (a done intake, same JSON, its order) {len(stored)}/{n}; requests without a proper answer "
        f"{len(unanswered)}; answers naming an order that is not the one stored {len(wrong)}"
    )
    for what, sample in (
        ("missing", missing),
        ("duplicated", list(doubled.items())),
        ("wrong answer", list(wrong.items())),
    ):
        if sample:
            common.say(f"    e.g. {what}: {sample[:5]}")
    common.say(f"ratio once/sent={len(once) / n:.2f}")
    return 0 if len(once) == n and not unanswered and not wrong else 1


def main():
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, base.stop_on_signal)
    args = parse_args()
    tag = f"r{int(time.time())}"
    odoo = base.load_odoo(args)
    try:
        common.say(f"database {args.db}: installing oms_ecommerce without demo data …")
        common.say(f"database {args.db}: installed in {base.install(args):.0f} s")
        registry = odoo.modules.registry.Registry(args.db)
        ctx = base.setup_data(registry)
        common.say(f"code: oms_ecommerce from {base.code_version(args.addons_path)}")
        common.say(f"machine: {os.cpu_count()} CPU(s), load average {base.load()} (shared with other agents' work)")
        return hard_case(args, ctx, tag) if args.hard else throughput(args, ctx, tag)
    finally:
        base.cleanup(args, odoo, None, drop=not args.keep)


if __name__ == "__main__":
    sys.exit(main())
