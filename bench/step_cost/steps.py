"""Records findings and takes each one step (confirm) through the API with several threads, and
times GET /healthz with the same client: prints one JSON line. Used by run.sh; see bench/README.md."""

import argparse
import http.client
import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--count", type=int, default=1000)
p.add_argument("--threads", type=int, default=8)
a = p.parse_args()
if not 1 <= a.count <= 100_000 or not 1 <= a.threads <= 64:
    sys.exit("--count 1..100000, --threads 1..64")
url = urlparse(a.base)
assert url.hostname == "127.0.0.1", "only ever 127.0.0.1"


class Client:
    def __init__(self, cookie=""):
        self.c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.cookie = cookie

    def call(self, method, path, body=None):
        h = {"Accept": "application/json", "Origin": a.base}
        if self.cookie:
            h["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        self.c.request(method, path, body=data, headers=h)
        r = self.c.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw and r.getheader("Content-Type", "").startswith("application/json") else None), r


def must(status, body, what):
    if status >= 300:
        sys.exit(f"{what}: {status} {body}")
    return body


c = Client()
s, b, r = c.call("POST", "/api/v1/auth/login", {"username": a.user, "password": a.password})
must(s, b, "login")
cookie = r.getheader("Set-Cookie").split(";")[0]
c = Client(cookie)
me = must(*c.call("GET", "/api/v1/me")[:2], "me")
dept = must(*c.call("GET", "/api/v1/departments?page_size=100")[:2], "departments")["items"]
dept = next(d["id"] for d in dept if d.get("status", "active") == "active" and d.get("parent_id"))
cat = must(*c.call("GET", "/api/v1/finding-categories")[:2], "categories")[0]["id"]
today = (datetime.now(timezone.utc) + timedelta(hours=8)).date()
plan = must(*c.call("POST", "/api/v1/plans", {
    "title": "step_cost bench", "period_start": str(today - timedelta(days=1)), "period_end": str(today + timedelta(days=30)),
    "status": "active", "targets": [{"department_id": dept}], "team": [me["id"]]})[:2], "plan")["id"]
visit = must(*c.call("POST", f"/api/v1/plans/{plan}/visits", {"department_id": dept, "scheduled_on": str(today)})[:2], "visit")["id"]


def run(n, work):
    """Runs work(client, i) for i in 0..n over the threads; returns (seconds, failures)."""
    failures = []
    nxt = iter(range(n))
    lock = threading.Lock()

    def worker():
        cl = Client(cookie)
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                return
            st = work(cl, i)
            if st >= 300:
                failures.append(st)

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, failures


ids = [None] * a.count
occurred = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(cl, i):
    st, body, _ = cl.call("POST", "/api/v1/findings", {
        "visit_id": visit, "department_id": dept, "category_id": cat, "occurred_at": occurred,
        "description": f"窗口人员离岗，群众等候（第{i + 1}条）"})
    if st < 300:
        ids[i] = body["id"]
    return st


def confirm(cl, i):
    return cl.call("POST", f"/api/v1/findings/{ids[i]}/steps", {"action": "confirm"})[0]


def health(cl, i):
    return cl.call("GET", "/healthz")[0]


rec_s, rec_fail = run(a.count, record)
if rec_fail:
    sys.exit(f"recording failed {len(rec_fail)} times: {rec_fail[:5]}")
step_s, step_fail = run(a.count, confirm)
if step_fail:
    sys.exit(f"confirming failed {len(step_fail)} times: {step_fail[:5]}")
h_s, _ = run(a.count * 4, health)
print(json.dumps({"count": a.count, "threads": a.threads, "record_per_s": round(a.count / rec_s),
                  "confirm_per_s": round(a.count / step_s), "healthz_per_s": round(a.count * 4 / h_s)}))
