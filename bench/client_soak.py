"""Soak the Genesys client against the sandbox with faults on (issue 4, "Done when").

Starts a sandbox in its own process (or uses ``--url``), switches on 10 % 5xx answers, a
60-second token lifetime and a small quota, then with several threads sharing one client:
pages through every wrap-up code (also the division views) and queue with each queue's codes,
lists conversations through the analytics query, and reads 1,000 conversations. Prints the
figures: calls, retries, 429s, tokens, and the elapsed time against the time the quota allows.

    .venv/bin/python bench/client_soak.py [--rate-limit 50 --window 5 --threads 4 --conversations 1000]

Exit status 0 when no error surfaced and no request broke the quota.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.genesys import ConversationQuery, GenesysClient, GenesysError  # noqa: E402
from integrations.genesys_sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(conversations: int) -> tuple[str, str, subprocess.Popen[bytes]]:
    """A sandbox process on free ports (API, login), no live traffic, enough history to read."""
    port, login_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "integrations.genesys_sandbox", "--port", str(port), "--login-port", str(login_port),
           "--seed", "7", "--no-live", "--conversations", str(conversations)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{url}/__sandbox/config", timeout=1).raise_for_status()
            return url, f"http://127.0.0.1:{login_port}", proc
        except requests.RequestException:
            if proc.poll() is not None:
                raise SystemExit(f"sandbox did not start: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("sandbox did not answer within 30 s")


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    resp = requests.request(method, f"{url}/__sandbox/{path}", json=body, timeout=10)
    resp.raise_for_status()
    return resp.json()


def soak(url: str, login_url: str, args: argparse.Namespace) -> dict[str, Any]:
    control(url, "POST", "reset", {"state": False})
    control(url, "POST", "config", {"error_rate": args.error_rate, "token_lifetime_seconds": args.token_lifetime,
                                    "rate_limit": args.rate_limit, "rate_window_seconds": args.window})  # fmt: skip
    client = GenesysClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, api_url=url, login_url=login_url)
    failures: list[str] = []
    figures: dict[str, Any] = {}
    started = time.monotonic()
    try:
        figures["codes"] = sum(1 for _ in client.iter_wrapup_codes(page_size=args.page_size))
        figures["code_views"] = sum(1 for _ in client.iter_wrapup_code_division_views(page_size=args.page_size))
        queues = list(client.iter_queues(page_size=args.page_size))
        figures["queues"] = len(queues)
        with ThreadPoolExecutor(args.threads) as pool:
            per_queue = list(pool.map(lambda q: sum(1 for _ in client.iter_queue_wrapup_codes(q.id, page_size=args.page_size)), queues))
        figures["queue_codes"] = sum(per_queue)
        query = ConversationQuery.last(timedelta(days=60), ended_only=True, page_size=100)
        ids: list[str] = []
        for row in client.iter_conversation_details(query):
            ids.append(row.conversation_id)
            if len(ids) >= args.conversations:
                break
        figures["conversations_listed"] = len(ids)

        def read(conversation_id: str) -> int:
            try:
                return len(client.get_conversation(conversation_id).participants)
            except GenesysError as exc:  # counted, never hidden
                failures.append(f"{conversation_id}: {exc}")
                return 0

        with ThreadPoolExecutor(args.threads) as pool:
            participants = list(pool.map(read, ids))
        figures["conversations_read"] = sum(1 for n in participants if n)
    except GenesysError as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    server = control(url, "GET", "stats")
    stats = client.stats
    api_calls = stats.requests - stats.token_requests
    allowed = api_calls / args.rate_limit * args.window
    figures.update(
        api_calls=api_calls, token_requests=stats.token_requests, retries=stats.retries, rate_limited_seen=stats.rate_limited,
        reauthentications=stats.reauthentications, server_injected_5xx=server.get("injected_errors"),
        server_rate_limited=server.get("rate_limited"), server_tokens_issued=server.get("tokens_issued"),
        elapsed_seconds=round(elapsed, 1), quota_allows_seconds=round(allowed, 1),
        elapsed_vs_quota=round(elapsed / allowed, 3) if allowed else None, errors_surfaced=len(failures),
    )  # fmt: skip
    if failures:
        figures["first_errors"] = failures[:5]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running sandbox's API URL (default: start one)")
    parser.add_argument("--login-url", help="its login URL (default: the --url port + 1, as the sandbox does)")
    parser.add_argument("--rate-limit", type=int, default=50, help="requests per window per token")
    parser.add_argument("--window", type=float, default=5.0, help="quota window in seconds")
    parser.add_argument("--error-rate", type=float, default=0.1)
    parser.add_argument("--token-lifetime", type=int, default=60)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=10, help="small pages make the catalogue walk page")
    parser.add_argument("--json-out", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    proc = None
    url, login_url = args.url, args.login_url
    if url is None:
        url, login_url, proc = start_sandbox(max(args.conversations + 200, 1500))
    elif login_url is None:
        parts = urlsplit(url)
        login_url = f"{parts.scheme}://{parts.hostname}:{(parts.port or 80) + 1}"
    try:
        figures = soak(url, login_url, args)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    print(json.dumps(figures, indent=2))
    ok = figures["errors_surfaced"] == 0 and not figures["server_rate_limited"] and figures.get("conversations_read") == args.conversations
    if args.json_out:
        figures["knobs"] = {"conversations": args.conversations, "threads": args.threads, "rate_limit": args.rate_limit,
                            "window_seconds": args.window, "error_rate": args.error_rate,
                            "token_lifetime_seconds": args.token_lifetime, "page_size": args.page_size, "seed": 7}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2))
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
