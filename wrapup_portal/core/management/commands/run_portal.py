"""Start the whole demo: the Genesys sandbox, the django-q2 cluster and the web server.

However it is told to stop, it stops all of them, once: Ctrl-C (SIGINT to the foreground group),
SIGTERM to it alone (`kill PID`, or make passing on its own SIGTERM), SIGTERM to its whole process
group (systemd, most supervisors), SIGHUP, or any of these twice. If one child exits on its own,
the others are stopped too, so a half-running portal never lingers; on Linux the children also
stop if this process is killed outright (`kill -9`), so none is ever orphaned.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long the children get to stop on SIGTERM (the cluster finishes the tasks in hand) before SIGKILL.
GRACE_SECONDS = 15.0
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class StopRequest:
    """The signal handler: the first stop signal asks for a stop; later ones are reported, never acted on.

    It only records, never raises: an exception thrown from a handler lands wherever the main code
    is, the clean-up included, and a clean-up cut short leaves the children running.
    """

    def __init__(self) -> None:
        self.stopping = False

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            # A signal ignored by whoever started us (nohup's SIGHUP, SIGINT for `make run &`) stays ignored.
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, self)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.stopping:
            self._say(f"{name}: already stopping, ignored.")
            return
        self.stopping = True
        self._say(f"{name}: stopping the portal.")

    @staticmethod
    def _say(line: str) -> None:
        # os.write, not self.stderr: the main code may be inside a write to that very stream. And a
        # closed stderr must not turn into an exception thrown from here.
        try:
            os.write(2, f"{line}\n".encode())
        except OSError:
            pass

    def begin(self) -> None:
        """From now on (a child exited by itself) every signal is one too many."""
        self.stopping = True


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send the child SIGTERM when this process dies, however it dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere ``None``, and only a clean-up stops the children.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no one will send the signal
            os._exit(1)

    return preexec


def hook_url(addr: str) -> str:
    """The event hook's URL on the web server ``runserver`` serves at ``addr`` (``[host:]port``)."""
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "0"):
        host = "127.0.0.1"
    return f"http://{host if ':' not in host else f'[{host}]'}:{port}/hooks/genesys/events"


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Command(BaseCommand):
    help = "Run the sandbox (unless a real Genesys org is configured), the cluster and the web server together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="web server address (default 127.0.0.1:8000)")
        parser.add_argument("--no-sandbox", action="store_true", help="do not start the local Genesys sandbox")

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands: dict[str, list[str]] = {}
        if settings.GENESYS_USES_SANDBOX and not options["no_sandbox"]:
            # The ports the web and cluster processes' settings point at: API and login host.
            commands["sandbox"] = [*manage, "run_sandbox", "--port", str(urlsplit(settings.SANDBOX_URL).port),
                                   "--login-port", str(urlsplit(settings.SANDBOX_LOGIN_URL).port),
                                   "--webhook-url", hook_url(options["addr"])]
            # Its conversation events go to the portal's hook with the portal's own secret (the
            # sandbox reads it from the environment, so it is not shown in the process list).
            os.environ["WRAPUP_WEBHOOK_SECRET"] = settings.WRAPUP_WEBHOOK_SECRET
        commands["cluster"] = [*manage, "qcluster"]
        commands["web"] = [*manage, "runserver", options["addr"], "--noreload"]

        # Before the first child exists, so that no signal can come between starting one and stopping it.
        stop = StopRequest()
        stop.install()
        processes: dict[str, subprocess.Popen[bytes]] = {}
        one_shots: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, argv in commands.items():
                if not stop.stopping:
                    processes[name] = self._start(argv)
            if not stop.stopping:
                names = ", ".join(processes)
                self.stdout.write(f"Started {names}. Portal: http://{options['addr']}/  (Ctrl-C stops all)")
                if "sandbox" in processes:
                    # Not supervised, but stopped with the rest: gives the demo team lead queues once
                    # the first sync is in.
                    one_shots["seed_demo"] = self._start([*manage, "seed_demo", "--grants", "--wait", "120"])
            exit_code = self._supervise(processes, one_shots, stop)
        finally:
            stop.begin()
            self._stop_all({**processes, **one_shots})
        if exit_code:
            sys.exit(exit_code)

    def _start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        # Each child leads a session of its own and gets exactly one SIGTERM, from here, whoever was
        # signalled: the cluster, signalled twice or through its group (its sentinel dies on a plain
        # SIGTERM), stops half-way and orphans its workers. The group lets the clean-up kill a child
        # with whatever it started; the kernel's SIGTERM covers the one case with no clean-up, kill -9.
        return subprocess.Popen(argv, start_new_session=True, preexec_fn=die_with_parent())

    def _supervise(self, processes: dict[str, subprocess.Popen[bytes]],
                   one_shots: dict[str, subprocess.Popen[bytes]], stop: StopRequest) -> int:
        """Wait for a stop signal (0) or for a supervised child to exit (its status, at least 1)."""
        while not stop.stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    stop.begin()
                    self.stderr.write(f"{name} exited with status {process.returncode}; stopping the rest.")
                    return process.returncode if process.returncode > 0 else 1
            for process in one_shots.values():
                process.poll()  # reaps one that has finished
            time.sleep(POLL_SECONDS)
        return 0

    def _stop_all(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        """SIGTERM each child, wait for them all up to the grace period, then SIGKILL whatever is left."""
        for process in processes.values():
            if process.poll() is None:
                process.terminate()  # the child alone: the cluster stops its own workers
        deadline = time.monotonic() + GRACE_SECONDS
        for name, process in processes.items():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {GRACE_SECONDS:.0f} s; killing it.")
        for process in processes.values():
            # Stragglers in each child's group, the child or what it left behind (a dead cluster's workers).
            _signal_group(process, signal.SIGKILL)
            process.wait()
