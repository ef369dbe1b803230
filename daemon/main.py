"""``python -m daemon --config FILE`` / ``pos-promo-daemon``: run the sync jobs.

APScheduler 3.x ``BlockingScheduler`` on the main thread, jobs on a thread
pool. Its defaults are not ours (``misfire_grace_time=1`` would drop a run
that starts a second late, ARCHITECTURE "Traps"), so every job is added
with ``max_instances=1`` (a slow push is never doubled), ``coalesce=True``
(runs missed while the machine slept collapse into one) and a grace time of
one interval. All jobs run once at start. SIGTERM and SIGINT stop the
scheduler, cut any backoff wait short, and wait for running jobs (whose
transactions are atomic anyway) before the lock is released.

Every failure an operator can cause is one line on stderr, never a
traceback. Exit codes:

* 0: stopped cleanly (or, with ``--once``, every job succeeded);
* 1: with ``--once``, a job did not succeed; its log line says why (HQ
  unavailable after N attempts, HQ refused the token, ...);
* 2: the config, its token file or the database cannot be used: a TOML
  error with its line and column, a missing or group-readable token file,
  plain ``http://`` to another host, an unwritable database folder;
* 3: another daemon holds the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from pos_promo_daemon.config import DaemonConfig, check_config, load_config
from pos_promo_daemon.jobs import Jobs
from pos_promo_daemon.lock import DatabaseLock

from pos_promo import __version__
from pos_promo.errors import InvalidInput, PromoError
from pos_promo.sync.errors import DaemonAlreadyRunning
from pos_promo.sync.local import JOBS

__all__ = [
    "STOP_TIMEOUT",
    "build_parser",
    "build_scheduler",
    "main",
]

log = logging.getLogger("daemon")
STOP_TIMEOUT = 30.0
"""Seconds a stop waits for running jobs before leaving them to die with the process."""


def build_parser() -> argparse.ArgumentParser:
    """The daemon's command line; separate from :func:`main` so tests and the README check can
    read its options."""
    p = argparse.ArgumentParser(prog="pos-promo-daemon", description=__doc__.split("\n")[0])
    p.add_argument("--config", metavar="FILE", help="the daemon's TOML config file")
    p.add_argument(
        "--check-config",
        metavar="FILE",
        help="report every problem of a config file (exit 2 if any) and exit",
    )
    p.add_argument(
        "--once",
        choices=JOBS,
        action="append",
        help="run these jobs once, in the order given, and exit (no scheduler)",
    )
    p.add_argument("--verbose", action="store_true", help="also log each retry")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def build_scheduler(jobs: Jobs, config: DaemonConfig) -> BlockingScheduler:
    """The scheduler with the five jobs, each due at once and then every interval."""
    scheduler = BlockingScheduler(
        timezone=dt.UTC,
        executors={"default": ThreadPoolExecutor(max_workers=len(JOBS))},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    now = dt.datetime.now(dt.UTC)
    for job in JOBS:
        seconds = float(getattr(config.intervals, job))
        scheduler.add_job(
            jobs.run,
            IntervalTrigger(seconds=seconds, timezone=dt.UTC),
            args=[job],
            id=job,
            name=job,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, round(seconds)),
            next_run_time=now,
        )
    return scheduler


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    # APScheduler logs "Running job"/"executed successfully" per run; ours is the one line.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # the skip is logged by the scheduler, the missed run by the executor that ran late
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(name).addFilter(_expected_skips)
    if not verbose:
        logging.getLogger("urllib3").setLevel(logging.WARNING)


_EXPECTED = ("maximum number of running instances reached", "was missed by")


def _expected_skips(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warnings about runs it skipped by our own design.

    A run skipped because the previous one still runs (``max_instances=1``)
    or missed while the machine was busy (``coalesce=True``: the next run
    catches up) is what the settings above ask for, not a problem; on a
    loaded till they would flood the log between our one-line-per-run.
    """
    return not any(text in record.getMessage() for text in _EXPECTED)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the daemon (or check a config file) and return the exit code: 0 on a clean stop, 2 on
    a bad config, never a traceback for the operator."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.check_config:
        return _check(args.check_config)
    if not args.config:
        parser.error("--config FILE is required (or --check-config FILE)")
    _logging(args.verbose)
    try:
        config = load_config(args.config)
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with DatabaseLock(config.db):
            return _run(config, args.once)
    except DaemonAlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except PromoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(f"error: {config.db}: {exc}", file=sys.stderr)
        return 2


def _check(path: str) -> int:
    """``--check-config``: one ``error:`` line per problem, or one ``ok`` line."""
    problems = check_config(path)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    config = load_config(path)
    print(f"{path}: ok (database {config.db}, HQ {config.hq_url})")
    return 0


def _run(config: DaemonConfig, once: list[str] | None) -> int:
    jobs = Jobs(config).open()
    try:
        if once:
            results = [jobs.run(job) for job in once]
            return 0 if all(r.status == "ok" for r in results) else 1
        scheduler = build_scheduler(jobs, config)
        jobs.on_stopped = scheduler.pause_job

        def stop(signum: int, frame: FrameType | None) -> None:
            if jobs.stop.is_set():
                return  # a second signal while stopping
            log.info("stopping on %s", signal.Signals(signum).name)
            jobs.stop.set()
            threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("started for %s, HQ %s", config.db, config.hq_url)
        scheduler.start()
        if not jobs.wait_idle(STOP_TIMEOUT):
            log.warning("stopped with a job still running after %.0fs", STOP_TIMEOUT)
        log.info("stopped")
        return 0
    finally:
        jobs.close()
