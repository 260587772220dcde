#!/usr/bin/env python3
"""Helpers of bench/faults.sh (python stdlib only): concurrent timed HTTP requests, checks of their
answers, the vote ledger, the recovery timer and a held SQLite write lock.

Every subcommand prints lines of four kinds, tab-separated, that faults.sh turns into its output:
  fig<TAB>text      a figures line (also kept for the final summary)
  ok<TAB>text       a check that passed
  not ok<TAB>text   a check that failed
  info<TAB>text     anything else worth showing
Subcommands:
  questions  --base URL --db DB --out Q.json      the warm set (the home page's questions) and the rest
  warm       --base URL --questions Q.json --warm A:B
  mix        --base URL --questions Q.json --out R.jsonl --label L [--concurrency N] [--retry-until S] [--t0 EPOCH] SPEC...
  check      R.jsonl LABEL CLASSES RULE...
  voters     --base URL --questions Q.json --count N --out V.json   N voter cookies (bb_voter)
  ballots    --base URL --voters V.json --label L R.jsonl...   each voter's ballot read back
  count      --db DB --qids 1,2,3                 ballots of those questions (a bare number)
  metrics    --base URL --label L [PREFIX...]     the app's /metrics lines with these prefixes (beebeta_db_)
  ledger     --db DB --qids 1,2,3 --before N --label L R.jsonl...
  recover    --base URL --questions Q.json --db DB --t0 EPOCH --out R.jsonl --label L [--max S]
  hold-sqlite PATH SECONDS                        BEGIN IMMEDIATE, sleep, ROLLBACK ("locked|released<TAB>EPOCH")
DB is mysql:PORT:DATABASE (a private instance on 127.0.0.1, user root, no password) or sqlite:PATH.
A mix SPEC is CLASS=A:B (question indexes) or CLASS=N (repetitions):
  cold=A:B      GET /q/<id>/<slug> of cold questions A..B (never read before)
  coldapi=A:B   GET /api/v1/questions/<id> of cold questions
  warm=A:B      GET /q/<id>/<slug> of warm questions (read during the warm-up)
  warmapi=A:B   GET /api/v1/questions/<id> of warm questions
  vote=A:B      PUT /api/v1/questions/<id>/vote {"choices":[<first choice>]} on warm questions; with
                --voters the k-th vote carries voter cookie offset+k, else none (a new voter each)
  home=N, healthz=N, readyz=N
"""
import argparse
import http.client
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"


def out(kind, text):
    print(f"{kind}\t{text}", flush=True)


# ---------------------------------------------------------------- HTTP

def request(port, method, path, body=None, timeout=15.0, cookie=None, keep_body=False):
    """One request on a new connection; the time covers connect to the last body byte."""
    r = {"method": method, "path": path, "status": 0}
    conn = None
    t0 = time.monotonic()
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        headers = {"Connection": "close", "Accept-Encoding": "identity"}
        if cookie:
            headers["Cookie"] = cookie
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        r["status"] = resp.status
        r["retry_after"] = resp.getheader("Retry-After")
        r["age"] = resp.getheader("Age")
        ctype = resp.getheader("Content-Type") or ""
        r["ctype"] = ctype
        r["saved_copy"] = b"data-saved-copy" in raw
        r["bytes"] = len(raw)
        r["set_cookie"] = [c.split(";", 1)[0] for c in resp.msg.get_all("Set-Cookie") or []]
        if keep_body:
            r["body"] = raw
        if "json" in ctype and resp.status >= 400:
            try:
                r["code"] = json.loads(raw)["error"]["code"]
            except Exception:
                r["code"] = None
    except Exception as e:  # refused, reset, timed out
        r["error"] = f"{type(e).__name__}: {e}"
    finally:
        r["secs"] = round(time.monotonic() - t0, 4)
        if conn is not None:
            conn.close()
    return r


def port_of(base):
    return urllib.parse.urlsplit(base).port


def page_path(q):
    return f"/q/{q['id']}/{q['slug']}"


def rng(spec, n):
    a, b = spec.split(":")
    a, b = int(a), int(b)
    if not 0 <= a <= b <= n:
        sys.exit(f"range {spec} outside 0..{n}")
    return range(a, b)


def build(questions, specs):
    """The requests of a mix: (class, method, path, body, question id); votes are numbered in order."""
    warm, cold = questions["warm"], questions["cold"]
    reqs = []
    for spec in specs:
        cls, _, arg = spec.partition("=")
        if cls == "cold":
            reqs += [(cls, "GET", page_path(cold[i]), None, cold[i]["id"]) for i in rng(arg, len(cold))]
        elif cls == "coldapi":
            reqs += [(cls, "GET", f"/api/v1/questions/{cold[i]['id']}", None, cold[i]["id"]) for i in rng(arg, len(cold))]
        elif cls == "warm":
            reqs += [(cls, "GET", page_path(warm[i]), None, warm[i]["id"]) for i in rng(arg, len(warm))]
        elif cls == "warmapi":
            reqs += [(cls, "GET", f"/api/v1/questions/{warm[i]['id']}", None, warm[i]["id"]) for i in rng(arg, len(warm))]
        elif cls == "vote":
            reqs += [(cls, "PUT", f"/api/v1/questions/{warm[i]['id']}/vote", {"choices": [warm[i]["choice"]]}, warm[i]["id"])
                     for i in rng(arg, len(warm))]
        elif cls in ("home", "healthz", "readyz"):
            path = {"home": "/", "healthz": "/healthz", "readyz": "/readyz"}[cls]
            reqs += [(cls, "GET", path, None, None)] * int(arg)
        else:
            sys.exit(f"unknown class in {spec}")
    return reqs


def fmt_status(results):
    counts = {}
    for r in results:
        k = str(r["status"]) if r["status"] else "none"
        counts[k] = counts.get(k, 0) + 1
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))


def figures(label, cls, results):
    secs = [r["secs"] for r in results]
    med = statistics.median(secs) if secs else 0.0
    mx = max(secs) if secs else 0.0
    return f"{label:<24} {cls:<8} n={len(results):<4} {fmt_status(results):<22} median {med:.3f} s  max {mx:.3f} s"


def cmd_questions(a):
    port = port_of(a.base)
    conn = http.client.HTTPConnection(HOST, port, timeout=15)
    conn.request("GET", "/api/v1/questions")
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    if resp.status != 200:
        sys.exit(f"GET /api/v1/questions answered {resp.status}")
    home = json.loads(raw)["items"]
    rows = db_query(a.db, "SELECT q.id, q.slug, (SELECT MIN(c.id) FROM choices c WHERE c.question_id = q.id) "
                          "FROM questions q WHERE q.deleted_at IS NULL AND q.hidden_at IS NULL ORDER BY q.id")
    by_id = {int(i): {"id": int(i), "slug": s, "choice": int(c)} for i, s, c in rows if c not in ("None", "NULL")}
    warm_ids = [int(it["id"]) for it in home]
    warm = [by_id[i] for i in warm_ids]
    cold = [q for i, q in sorted(by_id.items()) if i not in set(warm_ids)]
    with open(a.out, "w") as f:
        json.dump({"warm": warm, "cold": cold}, f)
    out("info", f"{len(warm)} warm questions (the home page's), {len(cold)} cold ones")


def cmd_warm(a):
    port = port_of(a.base)
    qs = json.load(open(a.questions))
    paths = ["/"] + [page_path(qs["warm"][i]) for i in rng(a.warm, len(qs["warm"]))] + \
            [f"/api/v1/questions/{qs['warm'][i]['id']}" for i in rng(a.warm, len(qs["warm"]))]
    results = []
    for _ in range(2):
        for p in paths:
            results.append(request(port, "GET", p))
    bad = [r for r in results if r["status"] != 200]
    aged = [r for r in results if r.get("age") is not None or r.get("saved_copy")]
    out("ok" if not bad else "not ok",
        f"{a.label}: warm-up GETs (home, {len(paths) // 2} pages, their JSON; twice) all 200 "
        f"({fmt_status(results)}{'; first bad: ' + bad[0]['path'] if bad else ''})")
    out("ok" if not aged else "not ok",
        f"{a.label}: fresh answers carry no Age header and no data-saved-copy ({len(aged)} do)")


def cmd_mix(a):
    port = port_of(a.base)
    qs = json.load(open(a.questions))
    reqs = build(qs, a.spec)
    # Votes carry voter cookies when given (the k-th vote: voter offset + k), else none: new voters.
    voters = json.load(open(a.voters)) if a.voters else None
    numbered, k = [], 0
    for req in reqs:
        voter = None
        if req[0] == "vote" and voters is not None:
            voter = a.voter_offset + k
            if voter >= len(voters):
                sys.exit(f"only {len(voters)} voters for vote {voter}")
            k += 1
        numbered.append(req + (voter,))
    reqs = numbered
    random.Random(1).shuffle(reqs)
    results = [None] * len(reqs)
    t_start = time.monotonic()
    # Request start offsets are seconds since --t0 (wall clock: the fault's start) or the mix's.
    t0 = a.t0 if a.t0 else time.time()

    def run_one(i):
        cls, method, path, body, qid, voter = reqs[i]
        attempts = []
        deadline = time.monotonic() + a.retry_until
        while True:
            off = time.time() - t0
            r = request(port, method, path, body, a.timeout, cookie=voters[voter] if voter is not None else None)
            r.update({"class": cls, "qid": qid, "target": i, "start": round(off, 4), "voter": voter})
            attempts.append(r)
            if a.retry_until <= 0 or 200 <= r["status"] < 300 or time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        for k, r in enumerate(attempts):
            r["attempt"] = k + 1
            r["final"] = k == len(attempts) - 1
        results[i] = attempts

    conc = a.concurrency if a.concurrency > 0 else len(reqs)
    if conc >= len(reqs):
        barrier = threading.Barrier(len(reqs) + 1) if reqs else None

        def worker(i):
            barrier.wait()
            run_one(i)
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(reqs))]
        for t in threads:
            t.start()
        if barrier:
            barrier.wait()
    else:
        lock = threading.Lock()
        nxt = [0]

        def worker():
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(reqs):
                    return
                run_one(i)
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
        for t in threads:
            t.start()
    # Bounded: every request has its socket timeout; the whole mix gets a deadline on top.
    per = a.timeout * 2 + 5 + a.retry_until
    waves = 1 if conc >= len(reqs) else (len(reqs) + conc - 1) // conc
    deadline = time.monotonic() + per * waves
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    flat = []
    for i, att in enumerate(results):
        if att is None:  # never finished
            cls, method, path, body, qid, voter = reqs[i]
            att = [{"class": cls, "method": method, "path": path, "qid": qid, "target": i, "voter": voter, "status": 0,
                    "error": "unfinished at the mix deadline", "secs": round(time.monotonic() - t_start, 4),
                    "start": round(t_start - time.monotonic() + time.time() - t0, 4), "attempt": 1, "final": True}]
        flat += att
    elapsed = time.monotonic() - t_start
    with open(a.out, "w") as f:
        for r in flat:
            f.write(json.dumps(r) + "\n")
    classes = []
    for r in flat:
        if r["class"] not in classes:
            classes.append(r["class"])
    order = ["cold", "coldapi", "warm", "home", "warmapi", "vote", "healthz", "readyz"]
    for cls in sorted(classes, key=lambda c: order.index(c) if c in order else 99):
        out("fig", figures(a.label, cls, [r for r in flat if r["class"] == cls]))
    first_at = min((r["start"] for r in flat), default=0.0)
    last_at = max((r["start"] + r["secs"] for r in flat), default=0.0)
    since = f"; seconds since the fault began: first request sent at {first_at:.2f}, last answer at {last_at:.2f}" if a.t0 else ""
    out("info", f"{a.label}: {len(flat)} requests in {elapsed:.2f} s (concurrency {conc}){since}")


# ---------------------------------------------------------------- checks

def cmd_check(a):
    flat = [json.loads(l) for l in open(a.results) if l.strip()]
    classes = None if a.classes == "all" else a.classes.split(",")
    sel = [r for r in flat if classes is None or r["class"] in classes]
    rules = list(a.rules)
    if "final" in rules:
        rules.remove("final")
        sel = [r for r in sel if r.get("final", True)]
    what = f"{a.label} {a.classes}"
    n = len(sel)
    if n == 0:
        out("not ok", f"{what}: no requests to check")
        return

    def first(bad):
        r = bad[0]
        extra = r.get("error") or f"status {r['status']}, {r['secs']:.3f} s"
        return f"; e.g. {r['method']} {r['path']}: {extra}"

    for rule in rules:
        key, _, val = rule.partition("=")
        if key == "status":
            want = [int(x) for x in val.split("|")]
            bad = [r for r in sel if r["status"] not in want]
            text = f"all {n} answered {val} ({fmt_status(sel)})"
        elif key == "2xx":
            bad = [r for r in sel if not 200 <= r["status"] < 300]
            text = f"all {n} answered 2xx ({fmt_status(sel)})"
        elif key == "not500":
            bad = [r for r in sel if r["status"] >= 500 and r["status"] != 503]
            text = f"no 500 (nor other 5xx but 503) among {n} ({fmt_status(sel)})"
        elif key == "answered":
            bad = [r for r in sel if r["status"] == 0]
            text = f"all {n} got an HTTP answer ({len(bad)} refused, reset or timed out)"
        elif key == "header":
            field = {"retry-after": "retry_after", "age": "age"}[val.lower()]
            bad = [r for r in sel if r.get(field) is None]
            text = f"all {n} carry {val} ({len(bad)} without)"
        elif key == "saved":
            bad = [r for r in sel if not r.get("saved_copy")]
            text = f"all {n} pages contain data-saved-copy ({len(bad)} without)"
        elif key == "marked":  # a page carries Age exactly when it says it is a saved copy
            bad = [r for r in sel if (r.get("age") is not None) != bool(r.get("saved_copy"))
                   and (r.get("ctype") or "").startswith("text/html")]
            text = f"every page with Age says it is a saved copy, and only those ({len(bad)} differ)"
        elif key == "some-saved":  # stale-if-error was used (others: the cache's normal stale window)
            saved = [r for r in sel if r.get("age") is not None]
            bad = [] if saved else sel[:1]
            text = (f"saved copies served ({len(saved)} of {n} with Age; the others came from the "
                    f"cache within its normal stale window)")
        elif key == "json":
            bad = [r for r in sel if r.get("code") != val]
            text = f"all {n} carry the JSON error code {val!r} ({len(bad)} without)"
        elif key == "ctype":
            bad = [r for r in sel if not (r.get("ctype") or "").startswith(val)]
            text = f"all {n} are {val} ({len(bad)} are not)"
        elif key == "max":
            lim = float(val)
            bad = [r for r in sel if r["status"] == 0 or r["secs"] > lim]
            mx = max(r["secs"] for r in sel)
            text = f"each answered within {lim:g} s (max {mx:.3f} s, {len(bad)} over or unanswered)"
        elif key == "max-but-probe":  # FAST/PROBE: each within FAST but one, within PROBE
            # An open breaker lets one request through after its cooldown (db::health): that
            # probe waits for a connection up to the pool's acquire time, the others are refused.
            fast, probe = (float(x) for x in val.split("/"))
            slow = [r for r in sel if r["status"] == 0 or r["secs"] > fast]
            bad = slow[1:] + [r for r in slow[:1] if r["status"] == 0 or r["secs"] > probe]
            mx = max(r["secs"] for r in sel)
            text = (f"each answered within {fast:g} s but at most one breaker probe within "
                    f"{probe:g} s (max {mx:.3f} s, {len(slow)} over {fast:g} s, {len(bad)} too slow "
                    f"or unanswered)")
        elif key == "within":  # every request finished within S seconds of the mix's --t0
            lim = float(val)
            end = max(r["start"] + r["secs"] for r in sel)
            bad = [r for r in sel if r["start"] + r["secs"] > lim]
            text = f"all {n} were answered during the fault, within {lim:g} s of its start (last at {end:.2f} s)"
        else:
            sys.exit(f"unknown rule {rule}")
        out("ok" if not bad else "not ok", f"{what}: {text}{first(bad) if bad else ''}")


# ---------------------------------------------------------------- database

def db_query(db, sql):
    kind, _, rest = db.partition(":")
    if kind == "mysql":
        port, _, name = rest.partition(":")
        res = subprocess.run(["mysql", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", f"-P{port}", "-uroot",
                              "-N", "-B", name, "-e", sql], capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError(f"mysql: {res.stderr.strip()}")
        return [line.split("\t") for line in res.stdout.splitlines() if line]
    if kind == "sqlite":
        con = sqlite3.connect(rest, timeout=10)
        try:
            return [[str(x) for x in row] for row in con.execute(sql).fetchall()]
        finally:
            con.close()
    sys.exit(f"unknown database {db}")


def ballots(db, qids):
    return int(db_query(db, f"SELECT COUNT(*) FROM ballots WHERE question_id IN ({qids})")[0][0])


# The ledger per question, choice (0: ballots) and trust level (as vote_counts codes them).
_CODE = "CASE {} WHEN 'cookie' THEN 0 WHEN 'network' THEN 1 WHEN 'account' THEN 2 ELSE 3 END"
_LEDGER = f"""(SELECT v.question_id, v.choice_id, {_CODE.format('b.trust')} AS trust, COUNT(*) AS n
    FROM votes v JOIN ballots b ON b.id = v.ballot_id GROUP BY v.question_id, v.choice_id, trust
  UNION ALL SELECT question_id, 0, {_CODE.format('trust')} AS trust, COUNT(*) FROM ballots
    GROUP BY question_id, trust)"""
# Counters (per question, choice or ballots, and trust level) that differ from the ledger, and
# ledger rows without a counter.
COUNTERS_VS_LEDGER = f"""SELECT COUNT(*) FROM (
  SELECT c.question_id, c.choice_id, c.trust, c.n, COALESCE(l.n, 0) AS ledger FROM
    (SELECT question_id, choice_id, trust, SUM(votes) AS n FROM vote_counts
     GROUP BY question_id, choice_id, trust) c
    LEFT JOIN {_LEDGER} l
    ON l.question_id = c.question_id AND l.choice_id = c.choice_id AND l.trust = c.trust
  WHERE c.n <> COALESCE(l.n, 0)
  UNION ALL
  SELECT l.question_id, l.choice_id, l.trust, 0, l.n FROM {_LEDGER} l
    LEFT JOIN (SELECT DISTINCT question_id, choice_id, trust FROM vote_counts) c
    ON l.question_id = c.question_id AND l.choice_id = c.choice_id AND l.trust = c.trust
  WHERE c.question_id IS NULL) bad"""


def cmd_count(a):
    print(ballots(a.db, a.qids))


def vote_records(paths):
    for path in paths:
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                if r["class"] == "vote":
                    yield path, r


def cmd_ledger(a):
    # A ballot per (voter, question) acknowledged at least once; a vote without a voter cookie is
    # a new voter's, so each acknowledged one is a ballot of its own.
    keys = set()
    attempts = 0
    for path, r in vote_records(a.results):
        attempts += 1
        if 200 <= r["status"] < 300:
            keys.add((r.get("voter"), r["qid"]) if r.get("voter") is not None else (path, attempts))
    acked = len(keys)
    try:
        after = ballots(a.db, a.qids)
        differ = int(db_query(a.db, COUNTERS_VS_LEDGER)[0][0])
    except Exception as e:
        out("not ok", f"{a.label} ledger: the database could not be read ({e})")
        return
    added = after - a.before
    out("fig", f"{a.label:<24} ledger   votes sent {attempts}, ballots acknowledged {acked}, ballots added {added}, "
               f"counters differing from the ledger {differ}")
    out("ok" if added == acked else "not ok",
        f"{a.label} ledger: ballots added on the voted questions ({added}) = ballots acknowledged "
        f"({acked}; {attempts} votes sent)")
    out("ok" if differ == 0 else "not ok",
        f"{a.label} ledger: every counter equals its ledger rows ({differ} differ)")


def cmd_voters(a):
    """Voter cookies: the app issues one to a visitor without, on the first request that needs a
    voter (the question JSON does). Taken from warm questions 10.. so as not to touch others."""
    port = port_of(a.base)
    qs = json.load(open(a.questions))
    warm = qs["warm"]
    cookies = []
    for k in range(a.count):
        q = warm[10 + k % (len(warm) - 10)]
        r = request(port, "GET", f"/api/v1/questions/{q['id']}")
        c = [x for x in r.get("set_cookie", []) if x.startswith("bb_voter=")]
        if r["status"] != 200 or not c:
            sys.exit(f"no voter cookie from GET /api/v1/questions/{q['id']} (status {r['status']})")
        cookies.append(c[0])
    with open(a.out, "w") as f:
        json.dump(cookies, f)


def cmd_ballots(a):
    """Each voter's own ballot, read back through the API once the database is back: an
    acknowledged vote is the voter's ballot, a refused one left none."""
    port = port_of(a.base)
    voters = json.load(open(a.voters))
    acked = {}
    for _, r in vote_records(a.results):
        if r.get("voter") is None:
            continue
        key = (r["voter"], r["qid"], r["path"])
        acked[key] = acked.get(key, False) or 200 <= r["status"] < 300
    good_acked = good_refused = n_acked = n_refused = 0
    bad = []
    for (voter, qid, path), was_acked in sorted(acked.items()):
        deadline = time.monotonic() + a.retry_until
        while True:  # the app may refuse reads for a moment after the fault (a breaker half-open)
            r = request(port, "GET", f"/api/v1/questions/{qid}", cookie=voters[voter], keep_body=True)
            if r["status"] == 200 or time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        try:
            ballot = json.loads(r["body"])["ballot"] if r["status"] == 200 else "unreadable"
        except Exception:
            ballot = "unreadable"
        if was_acked:
            n_acked += 1
            if isinstance(ballot, dict) and ballot.get("choices"):
                good_acked += 1
            else:
                bad.append(f"voter {voter} on {qid}: acknowledged, ballot {ballot}")
        else:
            n_refused += 1
            if ballot is None:
                good_refused += 1
            else:
                bad.append(f"voter {voter} on {qid}: refused, ballot {ballot}")
    eg = f"; e.g. {bad[0]}" if bad else ""
    out("ok" if good_acked == n_acked else "not ok",
        f"{a.label}: every acknowledged vote is its voter's ballot ({good_acked} of {n_acked}){eg}")
    out("ok" if good_refused == n_refused else "not ok",
        f"{a.label}: no refused vote became a ballot ({n_refused - good_refused} of {n_refused} did){eg}")


def cmd_metrics(a):
    """The app's own database figures from /metrics (pool gauges, outages), one info line."""
    r = request(port_of(a.base), "GET", "/metrics", keep_body=True)
    if r["status"] != 200:
        out("info", f"{a.label}: /metrics answered {r['status']}")
        return
    lines = [l for l in r["body"].decode(errors="replace").splitlines()
             if l.startswith(tuple(a.prefix)) and "_bucket{" not in l]
    out("info", f"{a.label}: /metrics " + ("; ".join(lines) if lines else "has no " + " or ".join(a.prefix)))


# ---------------------------------------------------------------- recovery

def cmd_recover(a):
    """After a restart of the database: seconds (from --t0, wall clock) until the database answers,
    /readyz is 200 and a vote is acknowledged. Every vote attempt goes to --out for the ledger."""
    port = port_of(a.base)
    qs = json.load(open(a.questions))
    q = qs["warm"][a.vote]
    found = {}
    votes = []
    stop = time.monotonic() + a.timeout

    def since():
        return time.time() - a.t0

    def db_poll():
        while time.monotonic() < stop:
            try:
                db_query(a.db, "SELECT 1")
                found["db"] = since()
                return
            except Exception:
                time.sleep(0.1)

    def ready_poll():
        while time.monotonic() < stop:
            if request(port, "GET", "/readyz", timeout=5)["status"] == 200:
                found["readyz"] = since()
                return
            time.sleep(0.1)

    def vote_poll():
        while time.monotonic() < stop:
            r = request(port, "PUT", f"/api/v1/questions/{q['id']}/vote", {"choices": [q["choice"]]}, timeout=10)
            r.update({"class": "vote", "qid": q["id"], "start": round(since(), 4)})
            votes.append(r)
            if 200 <= r["status"] < 300:
                found["vote"] = since()
                return
            time.sleep(0.2)

    threads = [threading.Thread(target=f, daemon=True) for f in (db_poll, ready_poll, vote_poll)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, stop - time.monotonic()) + 12)
    with open(a.out, "w") as f:
        for r in votes:
            f.write(json.dumps(r) + "\n")

    def show(k):
        return f"{found[k]:.2f} s" if k in found else f"not within {a.timeout:g} s"
    out("fig", f"{a.label:<24} recovery database answers after {show('db')}, /readyz 200 after {show('readyz')}, "
               f"first vote acknowledged after {show('vote')} ({len(votes)} attempts: {fmt_status(votes)})")
    for k, what in (("readyz", "/readyz answers 200 again"), ("vote", "a vote is acknowledged again")):
        good = k in found and found[k] <= a.max
        out("ok" if good else "not ok", f"{a.label}: {what} within {a.max:g} s of the restart ({show(k)})")
    bad = [r for r in votes if r["status"] >= 500 and r["status"] != 503]
    out("ok" if not bad else "not ok", f"{a.label}: no 500 among the votes during recovery ({fmt_status(votes)})")


# ---------------------------------------------------------------- SQLite lock

def cmd_hold_sqlite(a):
    con = sqlite3.connect(a.path, isolation_level=None, timeout=10)
    con.execute("BEGIN IMMEDIATE")
    print(f"locked\t{time.time():.6f}", flush=True)
    time.sleep(a.seconds)
    con.execute("ROLLBACK")
    con.close()
    print(f"released\t{time.time():.6f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("questions")
    s.add_argument("--base", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_questions)
    s = sub.add_parser("warm")
    s.add_argument("--base", required=True)
    s.add_argument("--questions", required=True)
    s.add_argument("--warm", default="0:20")
    s.add_argument("--label", default="warm-up")
    s.set_defaults(func=cmd_warm)
    s = sub.add_parser("mix")
    s.add_argument("--base", required=True)
    s.add_argument("--questions", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--concurrency", type=int, default=0, help="0: all at once")
    s.add_argument("--timeout", type=float, default=15.0, help="socket timeout of each request")
    s.add_argument("--t0", type=float, default=0.0, help="epoch seconds the request start offsets count from")
    s.add_argument("--voters", help="a JSON list of voter cookies (from `voters`) for the votes")
    s.add_argument("--voter-offset", type=int, default=0, help="the first vote's voter")
    s.add_argument("--retry-until", type=float, default=0.0,
                   help="repeat a request that is not 2xx every 0.25 s for up to this many seconds")
    s.add_argument("spec", nargs="+")
    s.set_defaults(func=cmd_mix)
    s = sub.add_parser("check")
    s.add_argument("results")
    s.add_argument("label")
    s.add_argument("classes", help="comma-separated classes, or all")
    s.add_argument("rules", nargs="+",
                   help="status=503[|200] 2xx not500 answered header=Retry-After|Age saved json=CODE "
                        "ctype=PREFIX max=SECS within=SECS final")
    s.set_defaults(func=cmd_check)
    s = sub.add_parser("count")
    s.add_argument("--db", required=True)
    s.add_argument("--qids", required=True)
    s.set_defaults(func=cmd_count)
    s = sub.add_parser("ledger")
    s.add_argument("--db", required=True)
    s.add_argument("--qids", required=True)
    s.add_argument("--before", type=int, required=True)
    s.add_argument("--label", required=True)
    s.add_argument("results", nargs="*")
    s.set_defaults(func=cmd_ledger)
    s = sub.add_parser("voters")
    s.add_argument("--base", required=True)
    s.add_argument("--questions", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_voters)
    s = sub.add_parser("ballots")
    s.add_argument("--base", required=True)
    s.add_argument("--voters", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--retry-until", type=float, default=10.0, help="retry a read that is not 200 this long")
    s.add_argument("results", nargs="+")
    s.set_defaults(func=cmd_ballots)
    s = sub.add_parser("metrics")
    s.add_argument("--base", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("prefix", nargs="*", default=["beebeta_db_"])
    s.set_defaults(func=cmd_metrics)
    s = sub.add_parser("recover")
    s.add_argument("--base", required=True)
    s.add_argument("--questions", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--t0", type=float, required=True, help="epoch seconds of the restart")
    s.add_argument("--out", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--vote", type=int, default=0, help="index of the warm question to vote on")
    s.add_argument("--timeout", type=float, default=30.0)
    s.add_argument("--max", type=float, default=10.0)
    s.set_defaults(func=cmd_recover)
    s = sub.add_parser("hold-sqlite")
    s.add_argument("path")
    s.add_argument("seconds", type=float)
    s.set_defaults(func=cmd_hold_sqlite)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
