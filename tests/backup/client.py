"""The backup drill's HTTP client (tests/backup/run.sh): picks questions, casts votes through the
JSON API and reads the totals the site serves. Standard library only; loopback only.

    client.py pick BASE QUESTIONS             -> JSON: hot, online, voted, sample question ids
    client.py vote BASE PLAN.json             -> JSON: votes acknowledged / failed
    client.py totals BASE IDS PAGES           -> JSON: {"results": {id: total}, "top": [[id, total], ...]}
    client.py online BASE LOG Q:C [Q:C ...]   until SIGTERM: new voters on the given questions
                                              (the first takes 60 %), one "unix_time qid" line per
                                              acknowledged vote (flushed at once) into LOG
"""

import http.client
import json
import random
import signal
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT = 10


class Http:
    """One keep-alive connection; no cookie is sent unless given, so each vote is a new voter."""

    def __init__(self, base):
        u = urlsplit(base)
        assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def request(self, method, path, body=None, cookie=None):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if cookie:
            headers["Cookie"] = cookie
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data, r.getheader("Set-Cookie")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                # A request that was sent may have been applied: only a GET is retried.
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def get_json(self, path):
        status, data, _ = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data[:200]!r}")
        return json.loads(data)


def voter_cookie(set_cookie):
    if not set_cookie:
        return None
    for part in set_cookie.split(","):
        part = part.strip()
        if part.startswith("bb_voter="):
            return part.split(";", 1)[0]
    return None


def votable(q):
    return (
        q["status"] == "open"
        and q["protection"] == "browser"
        and q["results_visibility"] == "always"
        and q["kind"] == "single"
        and len(q["choices"]) >= 2
    )


def cmd_pick(base, questions):
    """hot: the first votable question of the top list; online: the next 3; voted: the next 10
    (they get votes before the backup); sample: 20 more votable questions off the first pages."""
    h = Http(base)
    top = []
    for page in (1, 2, 3):
        top += [i["id"] for i in h.get_json(f"/api/v1/questions?sort=top&page={page}")["items"]]
    chosen, choices = [], {}
    for qid in top:
        q = h.get_json(f"/api/v1/questions/{qid}")
        if votable(q):
            chosen.append(qid)
            choices[qid] = [c["id"] for c in q["choices"]]
        if len(chosen) == 14:
            break
    rng = random.Random(7)
    sample = []
    for qid in rng.sample(range(1, int(questions) + 1), min(120, int(questions))):
        if qid in top or len(sample) == 20:
            continue
        status, data, _ = h.request("GET", f"/api/v1/questions/{qid}")
        if status == 200 and votable(json.loads(data)):
            sample.append(qid)
    if len(chosen) < 14 or len(sample) < 10:
        sys.exit(f"client.py pick: too few votable questions ({len(chosen)} listed, {len(sample)} sampled)")
    print(json.dumps({"hot": chosen[0], "online": chosen[1:4], "voted": chosen[4:14],
                      "sample": sample, "choices": choices}))


def cmd_vote(base, plan_file):
    """PLAN: [{"q": id, "choice": id, "change_to": id or null}, ...]; each item is a new voter
    (no cookie); change_to votes again with the voter's cookie (a change: same ballot count)."""
    plan = json.load(open(plan_file))
    lock = threading.Lock()
    out = {"ballots": {}, "changes": 0, "failed": 0, "errors": []}
    items = list(plan)

    def worker():
        h = Http(base)
        while True:
            with lock:
                if not items:
                    return
                item = items.pop()
            try:
                path = f"/api/v1/questions/{item['q']}/vote"
                status, data, set_cookie = h.request("PUT", path, {"choices": [item["choice"]]})
                ok = status == 200
                if ok and item.get("change_to"):
                    status2, data, _ = h.request("PUT", path, {"choices": [item["change_to"]]},
                                                 cookie=voter_cookie(set_cookie))
                    with lock:
                        if status2 == 200:
                            out["changes"] += 1
                        else:
                            out["failed"] += 1
                            out["errors"].append(f"change {status2} {data[:120]!r}")
                with lock:
                    if ok:
                        key = str(item["q"])
                        out["ballots"][key] = out["ballots"].get(key, 0) + 1
                    else:
                        out["failed"] += 1
                        out["errors"].append(f"{status} {data[:120]!r}")
            except Exception as e:  # counted, reported by the drill
                with lock:
                    out["failed"] += 1
                    out["errors"].append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["errors"] = out["errors"][:5]
    print(json.dumps(out))


def read_totals(h, ids, pages):
    results = {}
    for qid in ids:
        results[str(qid)] = h.get_json(f"/api/v1/questions/{qid}/results")["total"]
    top = []
    for page in range(1, pages + 1):
        top += [[i["id"], i["total_votes"]] for i in h.get_json(f"/api/v1/questions?sort=top&page={page}")["items"]]
    return {"results": results, "top": top}


def cmd_totals(base, ids, pages):
    """Reads until two reads 0.7 s apart agree (the site caches counts ~1 s and lists ~2 s, and
    refreshes a busy question's list counter in the background), at most ~12 s."""
    h = Http(base)
    ids = [int(x) for x in ids.split(",")]
    prev = read_totals(h, ids, int(pages))
    deadline = time.time() + 12
    while True:
        time.sleep(0.7)
        cur = read_totals(h, ids, int(pages))
        listed = dict((str(i), t) for i, t in cur["top"])
        agree = all(listed[k] == v for k, v in cur["results"].items() if k in listed)
        if (cur == prev and agree) or time.time() > deadline:
            cur["stable"] = cur == prev and agree
            print(json.dumps(cur))
            return
        prev = cur


def cmd_online(base, log, targets):
    targets = [tuple(int(x) for x in t.split(":")) for t in targets]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lock = threading.Lock()
    f = open(log, "a", buffering=1)
    stats = {"acked": 0, "failed": 0}

    def worker(n):
        rng = random.Random(n)
        h = Http(base)
        while not stop.is_set():
            qid, choice = targets[0] if rng.random() < 0.6 else rng.choice(targets[1:] or targets)
            try:
                status, _, _ = h.request("PUT", f"/api/v1/questions/{qid}/vote", {"choices": [choice]})
            except Exception:
                status = None
            with lock:
                if status == 200:
                    f.write(f"{time.time():.6f} {qid}\n")
                    stats["acked"] += 1
                else:
                    stats["failed"] += 1
                    time.sleep(0.05)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.1)
    for t in threads:
        t.join()
    f.close()
    print(json.dumps(stats))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "pick":
        cmd_pick(*args)
    elif cmd == "vote":
        cmd_vote(*args)
    elif cmd == "totals":
        cmd_totals(*args)
    elif cmd == "online":
        cmd_online(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
