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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from pos_promo_hq.server import HQApp

__all__ = ["ServerOptions", "serve"]


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


def serve(app: HQApp, options: ServerOptions) -> int:
    """Serve until SIGTERM or SIGINT; the main process's exit status."""

    def when_ready(arbiter: Any) -> None:
        if options.port_file:
            port = arbiter.LISTENERS[0].getsockname()[1]
            tmp = Path(options.port_file + ".tmp")
            tmp.write_text(str(port))
            tmp.replace(options.port_file)

    def post_worker_init(worker: Any) -> None:
        app.start_process()  # its connections and its replay thread, before any request

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
    try:
        _Gunicorn(app, settings).run()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0
