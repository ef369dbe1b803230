"""Jobs under an injected clock that jumps back an hour and forward ten years.

The jobs are called directly: a live APScheduler under frozen or faked time
deadlocks (ARCHITECTURE "Traps"). Nothing in a sync step may depend on the
wall clock moving forward: cursors, acknowledgements and retries do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pos_promo_daemon.config import load_config
from pos_promo_daemon.jobs import Jobs
from pos_promo_daemon.main import build_scheduler

from pos_promo.store.counts import member_counts
from pos_promo.sync.status import read_status
from tests.sync.harness import AT, HQ, Till, campaign, daemon_config, ring_up

BASE = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


class JumpingClock:
    """Returns the instants it was given, one per call, repeating the last."""

    def __init__(self, *instants: dt.datetime) -> None:
        self.instants = list(instants)

    def __call__(self) -> dt.datetime:
        return self.instants.pop(0) if len(self.instants) > 1 else self.instants[0]


@pytest.fixture
def jobs(tmp_path: Path, hq: HQ, till: Till) -> Iterator[Jobs]:
    config = load_config(daemon_config(tmp_path, till.path, hq, "token-s1"))
    runner = Jobs(config).open()
    try:
        yield runner
    finally:
        runner.close()


@pytest.mark.parametrize(
    "jump",
    [dt.timedelta(hours=-1), dt.timedelta(days=3653)],
    ids=["back an hour", "forward ten years"],
)
def test_every_job_does_the_right_thing_after_the_clock_jumps(
    jump: dt.timedelta, jobs: Jobs, hq: HQ, till: Till
) -> None:
    jobs.clock = JumpingClock(BASE)
    assert jobs.run("pull_campaigns").status == "ok"
    ring_up(till, 5, member="m-1")
    assert jobs.run("push_events").status == "ok"

    jobs.clock = JumpingClock(BASE + jump)
    hq.publish(campaign("p2"))
    ring_up(till, 5, prefix="later", member="m-1")
    results = [
        jobs.run(job).status
        for job in (
            "pull_campaigns",
            "push_events",
            "pull_members",
            "release_gifts",
            "housekeeping",
        )
    ]

    assert results == ["ok"] * 5
    assert len(till.engine.index) == 2
    assert hq.report()["events"] == 20
    assert till.pending() == 0
    assert member_counts(till.conn, "m-1", AT.date()).participations["p1"].total == 10
    shown = {j.job: j.last_success_at for j in read_status(till.path).jobs}
    assert shown["push_events"] == (BASE + jump).isoformat()


def test_a_job_that_failed_under_one_clock_recovers_under_another(
    jobs: Jobs, hq: HQ, till: Till
) -> None:
    hq.stop()
    jobs.clock = JumpingClock(BASE + dt.timedelta(days=3653))
    ring_up(till, 1)
    assert jobs.run("push_events").status == "failed"
    hq.start()
    jobs.clock = JumpingClock(BASE - dt.timedelta(hours=1))
    assert jobs.run("push_events").status == "ok"
    status = {j.job: j for j in read_status(till.path).jobs}["push_events"]
    assert (status.runs, status.failures) == (2, 1)


def test_the_scheduler_gives_each_job_one_instance_coalescing_and_an_interval_of_grace(
    tmp_path: Path, hq: HQ, till: Till, jobs: Jobs
) -> None:
    config = load_config(daemon_config(tmp_path, till.path, hq, "t", push_events=10.0))
    scheduler = build_scheduler(jobs, config)
    pending = {job.id: job for job in scheduler.get_jobs()}
    assert set(pending) == {
        "pull_campaigns",
        "pull_members",
        "push_events",
        "release_gifts",
        "housekeeping",
    }
    push = pending["push_events"]
    assert (push.max_instances, push.coalesce, push.misfire_grace_time) == (1, True, 10)
    assert push.trigger.interval == dt.timedelta(seconds=10)
