"""Baseline peer (issue 16): the usual script approach to bulk wrap-up codes, against the same sandbox as the engine.

    .venv/bin/python bench/baseline_script.py                  # 1,000 legs at 300 requests/min, as the engine's bench
    .venv/bin/python bench/baseline_script.py --fault-mix      # 10 % 5xx, tokens that expire every minute
    .venv/bin/python bench/baseline_script.py --legs 400 --json-out bench/out/baseline.json

What a team writes when it needs codes on a list of legs and has no portal: ``requests`` directly
(not our client), one token fetched up front, then for each leg, one after the other, the same
``PATCH /api/v2/conversations/{cid}/participants/{pid}`` with ``{"wrapup": {"code": …}}`` the engine
sends. On a 429 or a 5xx (or a dropped connection) it sleeps 1, 2 and 4 seconds and gives up after
the third retry; on a 401 it fetches a new token and sends again. No pacing, no ``Retry-After``,
no read-back.

The sandbox is built exactly as ``bench/assignments_bench.py`` builds the engine's (same seed,
organisation, quota, fault knobs, and the same legs made in the same order), so the two runs
differ only in who writes. Figures come from the sandbox itself: legs carrying the code at the end
(ground truth), accepted PATCH writes per leg (a leg written more than once is a duplicate), 429s
it answered. Exit status 0 once measured: the script has no target, it is what the engine is
compared with (bench/report.py gives the ratios).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.assignments_bench import FAULT_MIX, SANDBOX_SEED, Sandbox, parse_time  # noqa: E402
from integrations.genesys_sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402

BACKOFF_SECONDS = (1, 2, 4)  # then give up: three retries
TIMEOUT_SECONDS = 10


class NaiveScript:
    """The reference script: sequential PATCHes, fixed backoff, token renewed only when a 401 says so."""

    def __init__(self, api_url: str, login_url: str) -> None:
        self.api_url, self.login_url = api_url, login_url
        self.http = requests.Session()
        self.token = ""
        self.counts: collections.Counter[str] = collections.Counter()

    def fetch_token(self) -> None:
        response = self.http.post(f"{self.login_url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                                  data={"grant_type": "client_credentials"}, timeout=TIMEOUT_SECONDS)  # fmt: skip
        response.raise_for_status()
        self.token = response.json()["access_token"]
        self.counts["tokens"] += 1

    def assign(self, conversation_id: str, participant_id: str, code: str) -> bool:
        """Put ``code`` on one leg; False when the script gave up or was refused."""
        url = f"{self.api_url}/api/v2/conversations/{conversation_id}/participants/{participant_id}"
        retries = 0
        renewed = False
        while True:
            self.counts["requests"] += 1
            try:
                response = self.http.patch(url, json={"wrapup": {"code": code}}, timeout=TIMEOUT_SECONDS,
                                           headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip
                status = response.status_code
            except requests.RequestException:
                status = 0  # treated like a 5xx: sent again, blindly
            if 200 <= status < 300:
                return True
            if status == 401 and not renewed:
                renewed = True
                self.fetch_token()
                continue
            if status in (0, 429) or status >= 500:
                if retries == len(BACKOFF_SECONDS):
                    self.counts["gave_up"] += 1
                    return False
                self.counts["retries"] += 1
                time.sleep(BACKOFF_SECONDS[retries])
                retries += 1
                continue
            self.counts[f"refused_{status}"] += 1
            return False


def run(args: argparse.Namespace, sandbox: Sandbox) -> dict[str, Any]:
    # The same legs as the engine's run (it makes one more, for its single request during the job).
    code, legs = sandbox.make_legs(args.legs + 1)
    legs = legs[:-1]
    before = sandbox.control("GET", "stats")
    script = NaiveScript(sandbox.server.url, sandbox.server.login_url)
    started = time.time()
    script.fetch_token()
    succeeded = sum(script.assign(cid, pid, code) for cid, pid in legs)
    finished = time.time()
    after = sandbox.control("GET", "stats")
    log = [dict(r, t=parse_time(r["time"])) for r in sandbox.control("GET", "requests")]
    api = [r for r in log if r["path"].startswith("/api/") and r["t"] >= started - 0.001]
    carried = sandbox.carried()
    writes = after["writes"]
    elapsed = finished - started
    carrying = sum(1 for leg in legs if carried.get(leg) == code)
    return {
        "legs": args.legs, "quota": f"{args.rate_limit} requests / {args.window:g} s per token",
        "faults": FAULT_MIX if args.fault_mix else {},
        "elapsed_seconds": round(elapsed, 1), "succeeded_by_its_own_count": succeeded, "carrying_code": carrying,
        "assignments_per_minute": round(carrying / elapsed * 60, 1) if elapsed > 0 else 0.0,
        "api_calls": len(api), "calls_per_assignment": round(len(api) / max(len(legs), 1), 3),
        "token_requests": script.counts["tokens"], "retries": script.counts["retries"],
        "gave_up": script.counts["gave_up"],
        "refused": {k: v for k, v in script.counts.items() if k.startswith("refused_")},
        "duplicates": sum(1 for cid, pid in legs if writes.get(f"{cid}/{pid}", 0) > 1),
        "lost": len(legs) - carrying,
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "rate_limited_share": round((after["rate_limited"] - before["rate_limited"]) / max(len(api), 1), 4),
        "server_5xx": sum(1 for r in api if r["status"] >= 500),
        "unauthorized_401": sum(1 for r in api if r["status"] == 401),
        "samples": {"writes_applied_at": sorted(round(r["t"] - started, 3) for r in api
                                                if r["method"] == "PATCH" and 0 < r["status"] < 300),
                    "rate_limited_at": sorted(round(r["t"] - started, 3) for r in api if r["status"] == 429)},
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=None, help="legs in ACW to code (default 1,000; --quick 100)")
    parser.add_argument("--quick", action="store_true", help="100 legs at 1,200 requests/min, as the engine's --quick")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per window per token (default 300)")
    parser.add_argument("--window", type=float, default=60.0, help="quota window in seconds")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every sandbox answer")
    parser.add_argument("--fault-mix", action="store_true", help="10 %% of API answers a 5xx, tokens expire every minute")
    parser.add_argument("--json-out", type=Path, help="also write the figures (and samples for plots) here as JSON")
    args = parser.parse_args()
    args.legs = args.legs or (100 if args.quick else 1000)
    args.rate_limit = args.rate_limit or (1200 if args.quick else 300)

    sandbox = Sandbox(args)
    sandbox.server.start()
    try:
        figures = run(args, sandbox)
    finally:
        sandbox.server.stop()
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=2))
    if args.json_out:
        figures["knobs"] = {"legs": args.legs, "rate_limit": args.rate_limit, "window_seconds": args.window,
                            "fault_mix": args.fault_mix, "seed": SANDBOX_SEED, "backoff_seconds": BACKOFF_SECONDS}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
