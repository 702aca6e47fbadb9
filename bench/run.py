"""`make bench`: measure the figures of DESIGN.md, each beside a baseline measured in the same run.

    .venv/bin/python bench/run.py                 # everything (the inbox and export seed 1,000,000 rows once)
    .venv/bin/python bench/run.py --quick         # smaller sizes and shorter runs, for a smoke test
    .venv/bin/python bench/run.py --only engine,page

Prints one line per figure (value, baseline, ratio, target, PASS/FAIL), saves bench/results/*.json,
and exits 1 when a figure fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from journey import complete_and_send, gunicorn  # noqa: E402

from screening import store  # noqa: E402
from screening.rules import load_ruleset  # noqa: E402

RESULTS: list[dict] = []
SECRET = "bench-secret-key-0123456789abcdef"


def report(name: str, value: float, unit: str, baseline: float | None, target: str, ok: bool, note: str = ""):
    ratio = f"{value / baseline:6.2f}x" if baseline else "      -"
    base = f"{baseline:10.3g}" if baseline is not None else "         -"
    print(
        f"{'PASS' if ok else 'FAIL'}  {name:<46} {value:10.2f} {unit:<6} baseline {base}  ratio {ratio}  "
        f"target {target}  {note}",
        flush=True,
    )
    RESULTS.append(
        {
            "name": name,
            "value": value,
            "unit": unit,
            "baseline": baseline,
            "target": target,
            "ok": ok,
            "note": note,
        }
    )


# --- the rule engine ------------------------------------------------------------------------------


def random_answers(questionnaire, rng: random.Random) -> dict:
    answers: dict = {}
    for q in questionnaire.questions.values():
        if q.show_when is not None and not q.show_when.test(answers):
            continue
        if q.type == "number":
            answers[q.id] = rng.randint(q.min, q.max)
        elif q.type == "single":
            answers[q.id] = rng.choice(q.options).id
        else:
            plain = [o.id for o in q.options if not o.exclusive]
            exclusive = [o.id for o in q.options if o.exclusive]
            if exclusive and rng.random() < 0.5:
                answers[q.id] = [exclusive[0]]
            else:
                answers[q.id] = rng.sample(plain, rng.randint(1, min(3, len(plain))))
    return answers


def per_call(fn, items, repeat: int = 5) -> float:
    """Return the best mean seconds per call of fn over items."""
    best = min(timeit.repeat(lambda: [fn(item) for item in items], number=1, repeat=repeat))
    return best / len(items)


def calibration() -> float:
    """Seconds per call of a fixed pure-Python workload: the engine figures' baseline."""
    data = {f"k{i}": i for i in range(20)}

    def work(_):
        return sum(1 for k, v in data.items() if v % 3 == 0 and k)

    return per_call(work, range(2000))


def generated_rules(questionnaire, count: int, rng: random.Random) -> str:
    """Return rules.yaml text with `count` random rules over the shipped questionnaire."""

    def leaf():
        q = rng.choice(list(questionnaire.questions.values()))
        if q.type == "number":
            return {"question": q.id, rng.choice(["at_least", "at_most"]): rng.randint(q.min, q.max)}
        ids = [o.id for o in q.options]
        if q.type == "multi":
            return {"question": q.id, "has_any": rng.sample(ids, min(2, len(ids)))}
        if q.ordered and rng.random() < 0.5:
            return {"question": q.id, "at_least": rng.choice(ids)}
        return {"question": q.id, "in": rng.sample(ids, min(2, len(ids)))}

    def condition(depth=0):
        roll = rng.random()
        if depth < 2 and roll < 0.4:
            return {rng.choice(["all", "any"]): [condition(depth + 1) for _ in range(rng.randint(2, 3))]}
        if depth < 2 and roll < 0.5:
            return {"not": leaf()}
        return leaf()

    lines = [
        'version: "bench"',
        "levels:",
        "  - {id: emergency, role: emergency, label: Now, summary: Get help now.}",
        "  - {id: urgent, role: urgent, label: Soon, summary: See a doctor soon.}",
        "  - {id: discuss, label: Talk, summary: Talk to a doctor.}",
        "  - {id: info, label: Know, summary: Good to know.}",
        "sources:",
        "  s: {title: Source, kind: article}",
        "topics:",
        "  safety: {role: safety, title: Safety, what: Safety first.}",
        "  t: {title: Topic, what: A topic.}",
        "rules:",
    ]
    for n in range(count):
        level = "discuss" if n % 2 else "info"
        lines.append(
            f"  - {{id: r{n}, level: {level}, topic: t, title: Rule, message: A rule., sources: [s], "
            f"when: {json.dumps(condition())}}}"
        )
    return "\n".join(lines) + "\n"


def bench_engine(args) -> None:
    ruleset = load_ruleset(ROOT / "rules")
    rng = random.Random(7)
    answers = [random_answers(ruleset.questionnaire, rng) for _ in range(2000)]
    base = calibration()
    shipped = per_call(ruleset.evaluate, answers)
    report(
        "evaluate the shipped rule set",
        shipped * 1e6,
        "us",
        base * 1e6,
        "< 50 us",
        shipped < 50e-6,
        f"{len(ruleset.rules)} rules, {len(answers)} answer sets",
    )
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    timings = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "questionnaire.yaml").write_text((ROOT / "rules" / "questionnaire.yaml").read_text())
            (folder / "rules.yaml").write_text(
                generated_rules(ruleset.questionnaire, size, random.Random(size))
            )
            generated = load_ruleset(folder)
        sample = answers[: max(50, 20000 // size)]
        timings[size] = per_call(generated.evaluate, sample, repeat=3)
        ok = size != 1000 or timings[size] < 2e-3
        report(
            f"evaluate {size:,} generated rules",
            timings[size] * 1e6,
            "us",
            base * 1e6,
            "< 2,000 us at 1,000" if size == 1000 else "linear",
            ok,
            f"{timings[size] / size * 1e6:.2f} us per rule",
        )
    if 10000 in timings:
        growth = timings[10000] / timings[1000]
        report("growth from 1,000 to 10,000 rules", growth, "x", 10.0, "about 10x (linear)", growth < 15)


# --- pages and submissions under gunicorn ---------------------------------------------------------


def _hammer(args_tuple) -> tuple[int, int]:
    """One load process: send requests until the deadline; return (ok, errors)."""
    port, method, path, bodies, cookies, deadline, expect, accept = args_tuple
    ok = errors = 0
    index = 0
    while time.monotonic() < deadline:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Encoding": accept}
        body = None
        if bodies:
            if index >= len(bodies):
                break
            body = bodies[index]
        if cookies:
            headers["Cookie"] = cookies[index % len(cookies)]
        index += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == expect:
                ok += 1
            else:
                errors += 1
        except OSError:
            errors += 1
        finally:
            conn.close()
    return ok, errors


# As a browser over HTTPS asks: the app compresses its patient pages (the baselines compress nothing).
BROWSER_ENCODINGS = "gzip, deflate, br"


def throughput(
    base: str,
    method: str,
    path: str,
    seconds: float,
    procs: int,
    bodies=None,
    cookies=None,
    expect=200,
    accept: str = BROWSER_ENCODINGS,
) -> tuple[float, int]:
    port = int(base.rsplit(":", 1)[1])
    deadline = time.monotonic() + seconds
    parts = []
    for p in range(procs):
        parts.append(
            (
                port,
                method,
                path,
                bodies[p::procs] if bodies else None,
                cookies[p::procs] if cookies else None,
                deadline,
                expect,
                accept,
            )
        )
    start = time.monotonic()
    with multiprocessing.Pool(procs) as pool:
        results = pool.map(_hammer, parts)
    elapsed = time.monotonic() - start
    ok = sum(r[0] for r in results)
    return ok / elapsed, sum(r[1] for r in results)


def prepared_drafts(database: str, count: int, *, summary_shown: bool = True) -> tuple[list[str], list[str]]:
    """Return cookies and send-form bodies for `count` complete drafts, made straight in the store.

    `summary_shown`: each draft keeps the summary page, as the summary page keeps it for a patient who
    read it before sending (the app renders it once: every draft has the same answers). Without it, each
    send renders the summary itself, as for a patient who never opened the summary page.
    """
    from urllib.parse import urlencode

    from screening.patient.sending import answers_digest

    ruleset = load_ruleset(ROOT / "rules")
    answers = {k: v for step in __import__("journey").STEPS.values() for k, v in step.items()}
    answers["impact"] = 5
    answers = ruleset.questionnaire.clean(answers)
    db = store.connect(database)
    store.migrate(db)
    cookies, bodies = [], []
    for n in range(count):
        token = store.create_draft(db, 24)
        key = f"bench-{n}-{token[:12]}"
        store.save_draft(db, token, answers, {"send_key": key})
        cookies.append(f"draft={token}")
        bodies.append(
            urlencode(
                {
                    "key": key,
                    "answers_digest": answers_digest(ruleset.evaluate(answers).answers),
                    "name": "Bench Mark",
                    "email": "bench@example.com",
                    "contact_method": "email",
                    "consent": "y",
                }
            )
        )
    if summary_shown and cookies:
        first = cookies[0].split("=", 1)[1]
        from bench.ours_app import make_app

        app = make_app(database)
        with app.test_client() as client:
            client.set_cookie("draft", first)
            page = client.get("/summary")
            assert page.status_code == 200, page.status_code
        key, html = store.get_draft(db, first, with_summary=True)["summary"]
        assert html, "the summary page did not keep its summary with the draft"
        for cookie in cookies[1:]:
            store.keep_summary(db, cookie.split("=", 1)[1], key, html)
    db.close()
    return cookies, bodies


def submission_figure(name: str, ours_db: str, base_db: str, args, *, same_work: bool = False) -> None:
    """The full submission through gunicorn (validate, evaluate, store, redirect) against the baseline's
    validate-and-insert on the same kind of database; with `same_work` (PostgreSQL), also against the
    baseline that makes the send's own reads and writes in one transaction, which sets the verdict.

    Rounds alternate between the servers and the median counts, so a burst of noise on this shared
    machine during one run does not decide the verdict. Each round uses fresh drafts.
    """
    seconds, procs = (3, 2) if args.quick else (8, 3)
    sub_rounds, per_round = (1, 4000) if args.quick else (3, 8000)
    cookies, bodies = prepared_drafts(ours_db, per_round * sub_rounds)
    # One more round for a patient who never opened the summary page: the send renders it itself.
    unseen_cookies, unseen_bodies = prepared_drafts(ours_db, per_round, summary_shown=False)
    same_cookies, same_bodies = prepared_drafts(base_db, per_round * sub_rounds) if same_work else ([], [])
    runs: dict[str, list[float]] = {"ours": [], "bare": [], "same": []}
    errors = {"ours": 0, "bare": 0, "same": 0}
    with (
        gunicorn("bench.ours_app:app", {"BENCH_DATABASE": ours_db}) as (ours, _),
        gunicorn("bench.baseline_app:app", {"BASELINE_DATABASE": base_db}, ready="/form") as (base, _),
    ):

        def measure(side: str, url: str, path: str, bodies: list[str], cookies: list[str] | None) -> None:
            rps, failed = throughput(
                url, "POST", path, seconds, procs, bodies=bodies, cookies=cookies, expect=302
            )
            runs[side].append(rps)
            errors[side] += failed

        for r in range(sub_rounds):
            part = slice(r * per_round, (r + 1) * per_round)
            measure("ours", ours, "/send", bodies[part], cookies[part])
            measure("bare", base, "/submit", [b.replace("bench-", "base-") for b in bodies[part]], None)
            if same_work:
                measure("same", base, "/send", same_bodies[part], same_cookies[part])
        unseen, failed = throughput(
            ours, "POST", "/send", seconds, procs, bodies=unseen_bodies, cookies=unseen_cookies, expect=302
        )
        errors["ours"] += failed
    sub_ours, bare = statistics.median(runs["ours"]), statistics.median(runs["bare"])
    baseline = statistics.median(runs["same"]) if same_work else bare
    against = "the same reads and writes with plain psycopg" if same_work else "a bare validate-and-insert"
    report(
        name,
        sub_ours,
        "req/s",
        baseline,
        ">= 0.8x baseline",
        sub_ours >= 0.8 * baseline and errors["ours"] == 0 and errors["same"] == 0,
        f"validate, evaluate, store, redirect vs {against}; errors {errors['ours']} vs "
        f"{errors['same'] if same_work else errors['bare']}; with no summary page seen first (the send "
        f"renders it): {unseen:.0f} req/s, {unseen / baseline:.2f}x",
    )
    if same_work:
        report(
            name.replace("full submission", "full submission vs a bare insert"),
            sub_ours,
            "req/s",
            bare,
            "for information",
            True,
            f"the baseline validates and inserts one row (errors {errors['bare']})",
        )


def bench_pages(args) -> None:
    from baseline_app import prepare

    seconds, rounds, procs = (3, 1, 2) if args.quick else (8, 2, 3)
    with tempfile.TemporaryDirectory() as tmp:
        ours_db, base_db = f"{tmp}/ours.db", f"{tmp}/baseline.db"
        prepare(base_db)
        cookies, _ = prepared_drafts(ours_db, 50)
        env_ours = {"BENCH_DATABASE": ours_db}
        env_base = {"BASELINE_DATABASE": base_db}
        page_ours, page_base, page_plain = [], [], []
        with (
            gunicorn("bench.ours_app:app", env_ours) as (ours, _),
            gunicorn("bench.baseline_app:app", env_base, ready="/form") as (base, _),
        ):
            for _ in range(rounds):
                page_ours.append(
                    throughput(ours, "GET", "/step/treatments", seconds, procs, cookies=cookies)[0]
                )
                page_base.append(throughput(base, "GET", "/form", seconds, procs)[0])
                page_plain.append(
                    throughput(
                        ours, "GET", "/step/treatments", seconds, procs, cookies=cookies, accept="identity"
                    )[0]
                )
        ours_rps, base_rps = statistics.median(page_ours), statistics.median(page_base)
        plain_rps = statistics.median(page_plain)
        report(
            "questionnaire page (requests/s)",
            ours_rps,
            "req/s",
            base_rps,
            ">= 0.8x baseline",
            ours_rps >= 0.8 * base_rps,
            "GET /step/treatments, brotli-compressed as a browser asks, vs a minimal Flask + WTForms page; "
            f"uncompressed: {plain_rps:.0f} req/s, {plain_rps / base_rps:.2f}x",
        )

        page_sizes(ours_db)
        submission_figure("full submission (requests/s)", ours_db, base_db, args)


def page_sizes(database: str) -> None:
    """Print the bytes of each patient page (and the stylesheet and script) as sent uncompressed, gzip-
    and brotli-compressed."""
    from journey import STEPS

    from bench.ours_app import make_app

    client = make_app(database).test_client()

    def sizes(path: str) -> dict[str, int]:
        return {
            encoding: len(client.get(path, headers={"Accept-Encoding": encoding}).get_data())
            for encoding in ("identity", "gzip", "br")
        }

    pages = {path: sizes(path) for path in ("/static/site.css", "/static/app.js", "/", "/about", "/topics")}
    client.post("/start")
    for step, answers in STEPS.items():
        pages[f"/step/{step}"] = sizes(f"/step/{step}")
        client.post(f"/step/{step}", data={**answers, "shown": " ".join(answers)})
    for path in ("/check", "/summary", "/send"):
        pages[path] = sizes(path)
    for path, size in pages.items():
        report(
            f"patient page bytes, brotli: {path}",
            size["br"],
            "bytes",
            size["identity"],
            "compressed when asked",
            size["br"] < size["identity"] and size["gzip"] < size["identity"],
            f"{size['identity']:,} bytes uncompressed, {size['gzip']:,} gzip",
        )


# --- the inbox and the export at a million submissions ----------------------------------------------


def seeded_database(count: int) -> str:
    cache = HERE / ".cache"
    cache.mkdir(exist_ok=True)
    path = cache / f"inbox-{count}.db"
    if not path.exists():
        print(
            f"Seeding {count:,} submissions into {path.relative_to(ROOT)} (once; kept for later runs)...",
            flush=True,
        )
        partial = path.with_suffix(".partial.db")
        env = {
            **os.environ,
            "SCREENING_DATABASE": str(partial),
            "SCREENING_SECRET_KEY": SECRET,
            "SCREENING_ENV": "development",
        }
        subprocess.run(
            [str(Path(sys.executable).parent / "screening"), "seed", "--count", str(count), "--seed", "1"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial.rename(path)
        for suffix in ("-wal", "-shm", ".write-lock"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
    return str(path)


def bench_inbox(args) -> None:
    count = 100_000 if args.quick else 1_000_000
    db = store.connect(seeded_database(count))
    store.migrate(db)  # a seed kept from an older run gets today's schema
    inbox_figures(db, count, "inbox")
    db.close()


def inbox_figures(db, count: int, label: str) -> None:
    """Time the first page and a page deep in for each filter (best of 5), against this machine's speed."""
    levels = tuple(level.id for level in load_ruleset(ROOT / "rules").levels)
    deep = db.execute(
        "SELECT received, id FROM submissions ORDER BY received DESC, id DESC LIMIT 1 OFFSET ?", [count // 2]
    ).fetchone()
    queries = {
        "newest first": store.InboxQuery(levels=levels),
        "status new": store.InboxQuery(status="new", levels=levels),
        "level urgent": store.InboxQuery(level="urgent", levels=levels),
        "topic spinal-stenosis": store.InboxQuery(topic="spinal-stenosis", levels=levels),
        "topic + status": store.InboxQuery(topic="herniated-disc", status="in_review", levels=levels),
        "urgent first": store.InboxQuery(urgent=True, levels=levels),
        "date range": store.InboxQuery(date_from="2026-03-01", date_to="2026-05-31", levels=levels),
        "search by name": store.InboxQuery(search="garcia", levels=levels),
    }
    calib = calibration() * 1e3
    for name, query in queries.items():
        first = min(timeit.repeat(lambda q=query: store.inbox_page(db, q), number=1, repeat=5)) * 1e3
        report(f"{label} at {count:,}: {name}, first page", first, "ms", calib, "< 20 ms", first < 20)
        if not query.urgent and not query.search:
            cursor = tuple(deep)
            later = (
                min(
                    timeit.repeat(
                        lambda q=query, c=cursor: store.inbox_page(db, q, cursor=c), number=1, repeat=5
                    )
                )
                * 1e3
            )
            report(f"{label} at {count:,}: {name}, deep page", later, "ms", calib, "< 20 ms", later < 20)


def peak_rss_mb(command: list[str], env: dict, stdout: Path | None = None) -> float:
    """Run a command in a fresh wrapper process and return its peak resident memory in MB (its own output
    goes to `stdout` when given, else nowhere)."""
    wrapper = (
        "import resource, subprocess, sys; "
        "out = open(sys.argv[1], 'wb') if sys.argv[1] else subprocess.DEVNULL; "
        "subprocess.run(sys.argv[2:], check=True, stdout=out, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, str(stdout or ""), *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()) / 1024


def _command_over_seeded(args, command: Callable[[Path], list[str]]) -> tuple[int, float, float, float, Path]:
    """Run a `screening` command over the seeded submissions in a fresh process; return (count, peak MB,
    idle MB, seconds, the temporary folder it wrote into), the folder kept until the caller is done."""
    count = 100_000 if args.quick else 1_000_000
    env = {
        **os.environ,
        "SCREENING_DATABASE": seeded_database(count),
        "SCREENING_SECRET_KEY": SECRET,
        "SCREENING_ENV": "development",
    }
    screening = str(Path(sys.executable).parent / "screening")
    idle = peak_rss_mb([screening, "db", "migrate"], env)
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    start = time.monotonic()
    peak = peak_rss_mb([screening, *command(folder)], env, stdout=folder / "stdout")
    return count, peak, idle, time.monotonic() - start, folder


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def bench_export(args) -> None:
    count, peak, idle, elapsed, folder = _command_over_seeded(
        args, lambda tmp: ["export", "--csv", str(tmp / "out.csv")]
    )
    rows = _lines(folder / "out.csv") - 1
    shutil.rmtree(folder)
    note = f"{rows:,} rows in {elapsed:.0f} s; idle app process {idle:.0f} MB"
    report(f"CSV export of {count:,}: peak memory", peak, "MB", idle, "< 100 MB", peak < 100, note)


def bench_fhir_export(args) -> None:
    """`screening export --fhir` of every stored submission: peak memory (constant memory)."""
    count, peak, idle, elapsed, folder = _command_over_seeded(
        args, lambda tmp: ["export", "--fhir", str(tmp / "out.ndjson")]
    )
    size, resources = (folder / "out.ndjson").stat().st_size / 1e6, _lines(folder / "out.ndjson")
    shutil.rmtree(folder)
    note = f"{resources:,} resources ({size:,.0f} MB) in {elapsed:.0f} s; idle app process {idle:.0f} MB"
    report(f"FHIR NDJSON export of {count:,}: peak memory", peak, "MB", idle, "< 100 MB", peak < 100, note)


def bench_bulk_export(args) -> None:
    """`GET /fhir/$export` of every stored submission through gunicorn: time and the server's peak memory."""
    import bulk

    count = 100_000 if args.quick else 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    found = bulk.measure(seeded_database(count), SECRET, folder)
    shutil.rmtree(folder)
    note = (
        f"{found['resources']:,} resources ({found['mb']:,.0f} MB) written in {found['written']:.0f} s, "
        f"downloaded by {found['seconds']:.0f} s; idle server {found['idle']:.0f} MB"
    )
    ok = found["peak"] < 100 + found["idle"]
    report(
        f"$export of {count:,}: server peak memory",
        found["peak"],
        "MB",
        found["idle"],
        "< idle + 100 MB",
        ok,
        note,
    )


def bench_diff(args) -> None:
    """`screening rules diff` over every stored submission: time and peak memory (constant memory)."""

    def command(tmp: Path) -> list[str]:
        edited = tmp / "rules"
        shutil.copytree(ROOT / "rules", edited)
        text = (edited / "rules.yaml").read_text()
        # A realistic edit: the stenosis card needs 3 months of pain instead of 6 weeks.
        marker = (
            "        - {question: duration, at_least: 6_to_12_weeks}\n"
            + '    title: "A narrow space for the nerves"'
        )
        (edited / "rules.yaml").write_text(
            text.replace(marker, marker.replace("6_to_12_weeks", "3_to_6_months"))
        )
        return ["rules", "diff", "--from", str(ROOT / "rules"), "--to", str(edited), "--json"]

    count, peak, idle, elapsed, folder = _command_over_seeded(args, command)
    result = json.loads((folder / "stdout").read_text())
    shutil.rmtree(folder)
    note = (
        f"{result['compared']:,} compared, {result['changed']:,} changed, in {elapsed:.0f} s "
        f"({result['compared'] / elapsed:,.0f} per second); idle app process {idle:.0f} MB"
    )
    report(
        f"rules diff over {count:,} stored submissions: peak memory",
        peak,
        "MB",
        idle,
        "< 100 MB",
        peak < 100,
        note,
    )


# --- 50 concurrent clients --------------------------------------------------------------------------


def bench_load(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        load_figure(args, f"{tmp}/load.db", hosts=1, workers=4)


def load_figure(args, database: str, *, hosts: int, workers: int) -> None:
    """50 clients sending for a minute through `hosts` gunicorn hosts; none lost, no errors."""
    seconds = args.seconds or (15 if args.quick else 60)
    clients = 50
    env = {"SCREENING_DATABASE": database, "SCREENING_SECRET_KEY": SECRET, "SCREENING_ENV": "development"}
    acknowledged: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    with ExitStack() as stack:
        bases = [stack.enter_context(gunicorn("wsgi:app", env, workers=workers))[0] for _ in range(hosts)]
        deadline = time.monotonic() + seconds

        def client(n: int) -> None:
            while time.monotonic() < deadline:
                try:
                    reference = complete_and_send(bases[n % hosts], name=f"Client {n}")
                    with lock:
                        acknowledged.append(reference)
                except Exception as exc:
                    with lock:
                        failures.append(repr(exc)[:200])

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
    db = store.connect(database)
    stored = {row["reference"] for row in db.query("SELECT reference FROM submissions")}
    db.close()
    lost = len(set(acknowledged) - stored)
    ok = not failures and lost == 0 and len(stored) == len(acknowledged)
    where = "" if hosts == 1 else f", {hosts} hosts on PostgreSQL"
    report(
        f"{clients} clients for {seconds} s{where}",
        len(acknowledged) / seconds,
        "sends/s",
        None,
        "no errors, none lost",
        ok,
        f"{len(acknowledged)} sent, {len(stored)} stored, {lost} lost, {len(failures)} errors "
        f"{failures[:1] if failures else ''}",
    )


# --- the same figures on PostgreSQL, on a server this run starts from Debian's binaries -------------


def postgres_server():
    import pgserver

    if not pgserver.available():
        raise SystemExit("PostgreSQL 15 is not installed (Debian: apt-get install postgresql-15).")
    # Kept between runs (the million rows are copied once); durable, as a production server runs.
    return pgserver.PostgresServer(HERE / ".cache" / "postgres", durable=True)


def bench_postgres(args) -> None:
    from baseline_app import prepare

    server = postgres_server()
    try:
        for name in ("bench_ours", "bench_base", "bench_load"):
            server.drop_database(name)
            server.create_database(name)
        ours, base = server.url("bench_ours"), server.url("bench_base")
        prepare(base)
        submission_figure("PostgreSQL: full submission (requests/s)", ours, base, args, same_work=True)
        count = 100_000 if args.quick else 1_000_000
        name = f"inbox_{count}"
        if not server.exists(name):
            print(
                f"Copying {count:,} seeded submissions into PostgreSQL (once; kept for later runs)...",
                flush=True,
            )
            server.create_database(name + "_partial")
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "screening"),
                    "db",
                    "copy",
                    "--from",
                    seeded_database(count),
                    "--to",
                    server.url(name + "_partial"),
                ],
                env={**os.environ, "SCREENING_ENV": "development", "SCREENING_SECRET_KEY": SECRET},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            server.sql(f'ALTER DATABASE "{name}_partial" RENAME TO "{name}"')
        db = store.connect(server.url(name))
        store.migrate(db)  # a copy kept from an older run gets today's schema
        db.execute("ANALYZE")
        inbox_figures(db, count, "PostgreSQL inbox")
        db.close()
        load_figure(args, server.url("bench_load"), hosts=2, workers=2)
    finally:
        server.remove()


FIGURES = {
    "engine": bench_engine,
    "page": bench_pages,
    "inbox": bench_inbox,
    "export": bench_export,
    "diff": bench_diff,
    "fhir_export": bench_fhir_export,
    "bulk_export": bench_bulk_export,
    "load": bench_load,
    "postgres": bench_postgres,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(FIGURES)}")
    parser.add_argument("--seconds", type=int, default=0, help="how long the 50-client load runs")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(FIGURES)
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}")
    print(
        f"make bench on {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        f"{' (quick)' if args.quick else ''}",
        flush=True,
    )
    for name in chosen:
        FIGURES[name](args)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"{datetime.now(UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(RESULTS, indent=2))
    failed = [r["name"] for r in RESULTS if not r["ok"]]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
