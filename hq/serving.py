"""Running HQ's WSGI application under gunicorn: worker processes, threads, timeouts.

gunicorn's main process binds the port and forks the workers; each worker
serves with a pool of threads (``gthread``), which keeps connections alive
and gives the timeouts a public server needs: a kept-alive connection idle
for ``keepalive`` seconds is closed, a client that stalls mid-request
gives its thread back to the pool, and a worker silent for ``timeout``
seconds is killed and replaced. A worker that dies (SIGKILL included) is
replaced too; a push it was applying rolls back with its transaction, and
the till sends it again. SIGTERM stops gracefully (workers finish their
requests within ``graceful_timeout``), SIGINT at once.

Receipt replay runs in a process of its own beside the workers, forked by
gunicorn's main process and kept alive by it (replaced within a second if
it dies), at a lower CPU priority (``nice`` +10): a push is acknowledged
once stored, so replay is what should wait when the machine is busy. Under
load the queue grows; when the load drops the replay process takes the
idle CPU and drains it. Several HQ machines each run one; they share the
queue through the database (``SKIP LOCKED`` on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from pos_promo_hq.db import open_database
from pos_promo_hq.replay import ReplayWorker
from pos_promo_hq.server import HQApp

__all__ = ["REPLAY_NICENESS", "REPLAY_PROCESS_NAME", "ServerOptions", "serve"]

log = logging.getLogger("hq")
REPLAY_NICENESS = 10
REPLAY_PROCESS_NAME = "hq-replay"
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


@dataclass(frozen=True)
class ServerOptions:
    """How to serve: where to listen, how many processes and threads, the timeouts."""

    host: str = "127.0.0.1"
    port: int = 8750
    workers: int = 1
    threads: int = 8
    keepalive: int = 5
    graceful_timeout: int = 10
    timeout: int = 30
    port_file: str | None = None
    verbose: bool = False


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn's embedding API: our settings, our application object."""

    def __init__(self, app: HQApp, settings: dict[str, Any]) -> None:
        self._app = app
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._settings.items():
            self.cfg.set(key, value)

    def load(self) -> HQApp:
        return self._app

    def run(self) -> None:
        _ReplayingArbiter(self, self._app).run()


class _ReplayingArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's main process, which also keeps one replay process alive (when HQ replays)."""

    def __init__(self, application: _Gunicorn, app: HQApp) -> None:
        super().__init__(application)
        self._hq = app
        self._replay_pid = 0

    def manage_workers(self) -> None:
        super().manage_workers()
        if self._hq.replay and not self._replay_alive():
            self._replay_pid = _fork_replay(self._hq, self.LISTENERS)

    def spawn_worker(self) -> int:
        """gunicorn's fork of a worker, with the stop signals held from the fork
        until the worker has its own handlers (:func:`_worker_ready` lets them
        through). Without this a SIGTERM sent while HQ is still starting hit the
        main process's handler in the child, which only queues it, and was lost."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            return int(super().spawn_worker())
        finally:  # in the worker this runs only as it exits
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def stop(self, graceful: bool = True) -> None:
        replaying = self._replay_alive()
        if replaying:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._replay_pid, signal.SIGTERM)
        super().stop(graceful)
        if replaying:  # it finishes the replay in hand, as a worker its request
            deadline = time.monotonic() + self.cfg.graceful_timeout
            while self._replay_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._replay_alive():
                os.kill(self._replay_pid, signal.SIGKILL)
        self._replay_pid = 0

    def _replay_alive(self) -> bool:
        if not self._replay_pid:
            return False
        try:  # gunicorn's reaping (waitpid(-1)) collects it once it has exited
            done, _ = os.waitpid(self._replay_pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0


def _worker_ready(worker: Any) -> None:
    """In a worker that has set its handlers: the stop signals held since the fork."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _fork_replay(app: HQApp, listeners: list[Any]) -> int:
    """Fork the replay process; its pid (in the child this never returns).

    The stop signals are held across the fork and let through in the child
    once its own handlers are set, so a SIGTERM that arrives meanwhile waits
    for them instead of reaching the main process's inherited handler."""
    parent = os.getpid()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return pid
    status = 1
    try:
        for listener in listeners:  # the port is the workers': a stopped HQ must free it
            listener.close()
        _replay_forever(app, parent, held)
        status = 0
    except BaseException:
        log.exception("the replay process failed")
    finally:
        os._exit(status)


def _replay_forever(app: HQApp, parent: int, mask: set[int | signal.Signals]) -> None:
    """The replay process: niced, works the queue until SIGTERM/SIGINT or its parent is gone."""
    stop = threading.Event()
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    for sig in (signal.SIGHUP, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGWINCH, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop sent since the fork lands now
    with contextlib.suppress(OSError):  # Linux: what ps and top call it, and how tests find it
        Path("/proc/self/comm").write_text(REPLAY_PROCESS_NAME)
    os.nice(REPLAY_NICENESS)
    db = open_database(app.database, size=1, migrate=False)
    worker = ReplayWorker(db, app.stores, interval=app.replay_interval).start()
    try:
        while not stop.wait(1.0) and os.getppid() == parent:
            pass
    finally:
        worker.stop()
        db.close()


def serve(app: HQApp, options: ServerOptions) -> int:
    """Serve until SIGTERM or SIGINT; the main process's exit status."""

    def when_ready(arbiter: Any) -> None:
        if options.port_file:
            port = arbiter.LISTENERS[0].getsockname()[1]
            tmp = Path(options.port_file + ".tmp")
            tmp.write_text(str(port))
            tmp.replace(options.port_file)

    def post_worker_init(worker: Any) -> None:
        app.start_process()  # its connections, before any request
        _worker_ready(worker)

    def worker_exit(arbiter: Any, worker: Any) -> None:
        app.close()

    settings: dict[str, Any] = {
        "bind": [f"{options.host}:{options.port}"],
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "keepalive": options.keepalive,
        "timeout": options.timeout,
        "graceful_timeout": options.graceful_timeout,
        "when_ready": when_ready,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "loglevel": "debug" if options.verbose else "warning",
        "control_socket_disable": True,
        "proc_name": "pos-promo-hq",
    }
    app.replay_thread = False  # the replay process replays (_ReplayingArbiter)
    main_process = os.getpid()
    try:
        _Gunicorn(app, settings).run()
    except SystemExit as stop:
        status = int(stop.code or 0)
        if os.getpid() != main_process:
            # A worker leaving: gunicorn forks workers from inside run(), so their
            # exit unwinds through here. It ends with gunicorn's status and runs
            # none of the main process's clean-up (HQ's "stopped", the fault file).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        return status
    return 0
