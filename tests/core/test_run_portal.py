"""`run_portal` and `make run` stop everything they started, however the stop signal arrives.

Each test starts the real supervisor (sandbox, cluster with one worker, web server, the one-shot
grants seeder) on free ports in a session of its own, as a terminal or a service manager would,
stops it one way and then checks that no process it started is left, that the ports are free and
that nothing printed a traceback. Every process started carries a marker in its environment, so
one that escaped the tree (re-parented to init) is found too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc"),
]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
MARKER = "RUN_PORTAL_TEST_MARKER"
START_SECONDS = 45
STOP_SECONDS = 20  # the supervisor's own grace period is 15 s; a clean stop takes about one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    # SO_REUSEADDR as a restarted server binds: TIME_WAIT leftovers do not count, a listener does.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_pair() -> int:
    """A free port whose successor is free too: the sandbox's API and login hosts."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and port_is_free(port + 1):
            return port
    raise RuntimeError("no two consecutive free ports")


def answers(port: int, path: str = "/") -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).close()
    except urllib.error.HTTPError:
        return True  # any HTTP answer will do: /healthz is 503 until the first heartbeat
    except OSError:
        return False
    return True


def parent_pids() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # Fields after the command name, which may itself hold spaces and parentheses.
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return parents


def descendants(root: int) -> set[int]:
    parents = parent_pids()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def marked_pids(marker: str) -> set[int]:
    """Live processes (not zombies: their environ reads empty) that inherited this marker."""
    needle = f"{MARKER}={marker}".encode()
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    pids.add(int(entry.name))
            except OSError:
                pass
    return pids


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Portal:
    """One running `run_portal` (or `make run`) started by a test."""

    process: subprocess.Popen[bytes]
    web_port: int
    sandbox_port: int
    marker: str
    output: Path
    tree: set[int] = field(default_factory=set)

    @property
    def ports(self) -> list[int]:
        return [self.web_port, self.sandbox_port, self.sandbox_port + 1]

    @property
    def supervisor(self) -> int:
        """The `run_portal` process: the one started, or make's child."""
        return next(pid for pid in sorted(self.tree | {self.process.pid}) if "run_portal" in command_line(pid))

    def wait_until_serving(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"exited early with {self.process.returncode}:\n{self.log()}"
            self.tree = descendants(self.process.pid)
            # The cluster is its command, its sentinel, one worker, the monitor and the pusher.
            cluster = [pid for pid in self.tree if "qcluster" in command_line(pid)]
            return len(cluster) >= 5 and answers(self.sandbox_port) and answers(self.web_port, "/healthz")

        assert wait_for(ready, START_SECONDS), f"the portal did not come up:\n{self.log()}"
        self.tree = descendants(self.process.pid)
        # So the check after the stop covers the whole tree, and any process that left it.
        assert self.tree <= marked_pids(self.marker) | {pid for pid in self.tree if not command_line(pid)}

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def assert_stopped_cleanly(self) -> None:
        """Nothing it started is left, its ports are free and nothing printed a traceback."""
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.process.args[:3]} did not exit:\n{self.log()}")
        def left() -> dict[int, str]:
            return {pid: command_line(pid) for pid in marked_pids(self.marker)}

        assert wait_for(lambda: not left(), STOP_SECONDS), f"left running: {left()}\n{self.log()}"
        assert all(port_is_free(port) for port in self.ports), f"ports still taken: {self.ports}"
        log = self.log()
        assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


def demo_environment(**values: str) -> dict[str, str]:
    """What `make run` runs with: DEBUG on and the sandbox (no GENESYS_*), and no outer make's flags."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GENESYS_", "MAKE", "MFLAGS"))}
    return {**env, "DJANGO_DEBUG": "1", **values}


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo users, copied for each test: what `make run` does before `run_portal`."""
    path = tmp_path_factory.mktemp("run_portal") / "db.sqlite3"
    env = demo_environment(DATABASE_URL=f"sqlite:///{path}")
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture
def start_portal(migrated_database: Path, tmp_path: Path) -> Iterator[Callable[..., Portal]]:
    started: list[Portal] = []

    def start(*, make: bool = False) -> Portal:
        database = tmp_path / "db.sqlite3"
        shutil.copy(migrated_database, database)
        web_port, sandbox_port, marker = free_port(), free_port_pair(), uuid.uuid4().hex
        env = demo_environment(DATABASE_URL=f"sqlite:///{database}", PORTAL_Q_WORKERS="1",
                               PORTAL_SANDBOX_PORT=str(sandbox_port), PYTHONUNBUFFERED="1", **{MARKER: marker})
        if make:
            # -o: never reinstall the requirements from a test, even if requirements.txt changed.
            argv = ["make", "--no-print-directory", "-o", ".venv/.requirements-installed", "run",
                    f"RUN_ARGS=--addr 127.0.0.1:{web_port}"]
        else:
            argv = [PYTHON, "manage.py", "run_portal", "--addr", f"127.0.0.1:{web_port}"]
        output = tmp_path / "output.log"
        with output.open("wb") as sink:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        portal = Portal(process, web_port, sandbox_port, marker, output)
        started.append(portal)
        portal.wait_until_serving()
        return portal

    yield start
    for portal in started:  # a failed test must not leave a portal running on the shared machine
        for pid in marked_pids(portal.marker) | ({portal.process.pid} if portal.process.poll() is None else set()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        portal.process.wait(timeout=10)


def test_ctrl_c_stops_every_process(start_portal: Callable[..., Portal]) -> None:
    portal = start_portal()
    os.killpg(portal.process.pid, signal.SIGINT)  # what the terminal sends its foreground group
    portal.assert_stopped_cleanly()


def test_sigterm_to_the_supervisor_alone_stops_every_process(start_portal: Callable[..., Portal]) -> None:
    portal = start_portal()
    os.kill(portal.process.pid, signal.SIGTERM)
    portal.assert_stopped_cleanly()


def test_sigterm_to_the_process_group_stops_every_process(start_portal: Callable[..., Portal]) -> None:
    portal = start_portal()
    os.killpg(portal.process.pid, signal.SIGTERM)  # kill -- -PGID, as systemd and most supervisors do
    portal.assert_stopped_cleanly()


def test_more_sigterms_during_clean_up_are_ignored(start_portal: Callable[..., Portal]) -> None:
    # As from `kill -- -PGID` under make (once directly, once passed on by make), and then some more,
    # spread so that some land while the children are being signalled and some while they stop.
    portal = start_portal()
    for pause in (0, 0.001, 0.005, 0.02, 0.1, 0.3):
        time.sleep(pause)
        os.kill(portal.process.pid, signal.SIGTERM)
    portal.assert_stopped_cleanly()
    assert portal.log().count("SIGTERM: stopping the portal.") == 1
    assert "SIGTERM: already stopping, ignored." in portal.log()


def test_children_stop_when_the_supervisor_is_killed(start_portal: Callable[..., Portal]) -> None:
    portal = start_portal()
    os.kill(portal.process.pid, signal.SIGKILL)  # no clean-up at all: the children must notice on their own
    portal.assert_stopped_cleanly()


def test_the_rest_stop_when_one_child_dies(start_portal: Callable[..., Portal]) -> None:
    portal = start_portal()
    web = next(pid for pid in portal.tree if "runserver" in command_line(pid))
    os.kill(web, signal.SIGKILL)
    portal.assert_stopped_cleanly()
    assert portal.process.returncode == 1
    assert "web exited with status -9; stopping the rest." in portal.log()


@pytest.mark.parametrize("how", ["ctrl-c", "kill-make", "kill-group"])
def test_make_run_stops_every_process(start_portal: Callable[..., Portal], how: str) -> None:
    # Ctrl-C: make and run_portal both get SIGINT, make waits for its child. `kill <make pid>`: make
    # passes SIGTERM on to run_portal and waits. `kill -- -PGID`: run_portal gets SIGTERM twice, once
    # directly and once from make, and must still stop everything exactly once.
    portal = start_portal(make=True)
    assert parent_pids()[portal.supervisor] == portal.process.pid  # make's own child, no shell between
    if how == "ctrl-c":
        os.killpg(portal.process.pid, signal.SIGINT)
    elif how == "kill-make":
        os.kill(portal.process.pid, signal.SIGTERM)
    else:
        os.killpg(portal.process.pid, signal.SIGTERM)
    portal.assert_stopped_cleanly()
