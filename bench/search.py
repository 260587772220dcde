#!/usr/bin/env python3
"""The search targets of bench/run.sh.

  search.py queries BACKEND DATABASE_URL OUT   # writes OUT/search.lua, OUT/suggest.lua, OUT/search_queries.json
  search.py compare BACKEND DATABASE_URL OUT   # times the LIKE scan search used before, prints the index size

Queries are one or two real words drawn from 400 generated titles picked at random (seed 1), folded
as the app folds them (lower case, letters and digits), without words shorter than three letters
and stop words; suggestions are the first 3 to 6 letters of one of them.
"""

import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse

STOPWORDS = set(
    "a about an and are as at be by do for from how i in is it of on or that the this to was "
    "what when where which who will with you".split()
)
DB = "beebeta_bench"


def mysql(sql):
    out = subprocess.check_output(["mysql", "-h127.0.0.1", "-uroot", "-N", "-B", DB, "-e", sql])
    return [line.split("\t") for line in out.decode().splitlines()]


def sqlite(url):
    import sqlite3

    return sqlite3.connect(url.removeprefix("sqlite://"))


def titles(backend, url, n=400):
    if backend == "mysql":
        lo, hi = map(int, mysql("SELECT MIN(id), MAX(id) FROM questions")[0])
    else:
        lo, hi = sqlite(url).execute("SELECT MIN(id), MAX(id) FROM questions").fetchone()
    rng = random.Random(1)
    ids = sorted({rng.randint(lo, hi) for _ in range(n)})
    sql = f"SELECT title FROM questions WHERE id IN ({','.join(map(str, ids))})"
    if backend == "mysql":
        return [r[0] for r in mysql(sql)]
    return [r[0] for r in sqlite(url).execute(sql)]


def words(title):
    return [
        w
        for w in re.split(r"[^\w]+|_", title.lower())
        if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()
    ]


def queries(backend, url, out):
    rng = random.Random(2)
    qs, prefixes = [], []
    for t in titles(backend, url):
        ws = words(t)
        if not ws:
            continue
        if len(ws) >= 2 and rng.random() < 0.5:
            qs.append(" ".join(rng.sample(ws, 2)))
        else:
            qs.append(rng.choice(ws))
        w = rng.choice(ws)
        prefixes.append(w[: rng.randint(3, 6)])
    with open(os.path.join(out, "search_queries.json"), "w") as f:
        json.dump(qs, f)

    def lua(paths):
        items = ",".join(json.dumps(p) for p in paths)
        return (
            f"local paths = {{{items}}}\n"
            "math.randomseed(os.time())\n"
            "request = function()\n"
            "  return wrk.format(\"GET\", paths[math.random(#paths)])\n"
            "end\n"
        )

    enc = lambda s: urllib.parse.quote(s, safe="")
    with open(os.path.join(out, "search.lua"), "w") as f:
        f.write(lua([f"/api/v1/questions?q={enc(q)}" for q in qs]))
    with open(os.path.join(out, "suggest.lua"), "w") as f:
        f.write(lua([f"/api/v1/search/suggest?q={enc(p)}" for p in prefixes]))
    one = sum(1 for q in qs if " " not in q)
    print(f"(i) {len(qs)} queries ({one} of one word, {len(qs) - one} of two), e.g. "
          + ", ".join(f"“{q}”" for q in qs[:6]))


LIKE = (
    "SELECT q.id FROM questions q WHERE q.hidden_at IS NULL AND q.deleted_at IS NULL "
    "AND (q.title LIKE {p} OR q.description LIKE {p}) ORDER BY q.vote_count DESC, q.id DESC LIMIT 21"
)


def like_times(backend, url, qs):
    """Seconds per query of the LIKE scan search was before the full-text index."""
    pats = ["'%" + q.replace("'", "''") + "%'" for q in qs]
    if backend == "mysql":
        script = "SET profiling = 1; SET profiling_history_size = 100;\n"
        script += "\n".join(LIKE.format(p=p) + ";" for p in pats) + "\nSHOW PROFILES;"
        out = subprocess.check_output(["mysql", "-h127.0.0.1", "-uroot", "-N", "-B", DB],
                                      input=script.encode()).decode()
        return [float(l.split("\t")[1]) for l in out.splitlines()
                if l.count("\t") >= 2 and "LIKE" in l.split("\t")[2]]
    conn = sqlite(url)
    times = []
    for p in pats:
        t0 = time.perf_counter()
        conn.execute(LIKE.format(p=p)).fetchall()
        times.append(time.perf_counter() - t0)
    return times


def index_bytes(backend, url):
    if backend == "mysql":
        datadir = mysql("SELECT @@datadir")[0][0]
        d = os.path.join(datadir, DB)
        try:
            names = os.listdir(d)
        except OSError:
            return None
        # Every FTS_* file of this database belongs to question_search (its only FULLTEXT table).
        return sum(os.path.getsize(os.path.join(d, n)) for n in names
                   if n.startswith("FTS_") or n.startswith("question_search.")
                   or n.startswith("search_words."))
    try:
        row = sqlite(url).execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'question_search' OR name LIKE 'question_fts%' "
            "OR name = 'search_words'"
        ).fetchone()
        return row[0]
    except Exception:
        return None


def compare(backend, url, out):
    with open(os.path.join(out, "search_queries.json")) as f:
        qs = json.load(f)[:40]
    ts = sorted(like_times(backend, url, qs))
    if ts:
        p99 = ts[min(len(ts) - 1, int(round(0.99 * (len(ts) - 1))))]
        print(f"(i) the LIKE scan search used before, same words, in the database alone: "
              f"median {statistics.median(ts) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms over {len(ts)} queries")
    if backend == "mysql":
        n = int(mysql("SELECT COUNT(*) FROM question_search")[0][0])
    else:
        n = sqlite(url).execute("SELECT COUNT(*) FROM question_search").fetchone()[0]
    size = index_bytes(backend, url)
    shown = f"{size / 1e6:.1f} MB" if size else "unknown"
    print(f"search index: {shown} (question_search, its full-text index and search_words) for {n} questions")


if __name__ == "__main__":
    cmd, backend, url, out = sys.argv[1:5]
    {"queries": queries, "compare": compare}[cmd](backend, url, out)
