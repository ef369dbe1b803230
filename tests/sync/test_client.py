"""The HQ client: timeouts, backoff with jitter, Retry-After, refusals, TLS."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import requests

from pos_promo.sync.client import HQClient, RetryPolicy, retry_after
from pos_promo.sync.errors import HQProtocolError, HQUnavailable
from tests.sync.harness import HQ, Till


class CountingSession(requests.Session):
    """A real session that counts the requests it sends (a test transport seam)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def request(self, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.sent += 1
        return super().request(*args, **kwargs)  # type: ignore[arg-type]


def test_every_wait_is_drawn_between_zero_and_the_capped_exponential() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0)
    rng = random.Random(7)
    for attempt in range(10):
        bound = min(4.0, 0.5 * 2**attempt)
        draws = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= bound for d in draws)
        assert max(draws) > bound / 2


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    assert retry_after("7", now) == 7
    assert retry_after("Fri, 20 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after("Fri, 20 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_hqs_retry_after_replaces_the_backoff_draw(hq: HQ, till: Till) -> None:
    waits: list[float] = []
    client = till.client(
        hq,
        wait=lambda s: waits.append(s) or False,
        retry=RetryPolicy(attempts=4, base=0.01, retry_after_cap=60),
    )
    hq.faults(fail_429=2, retry_after=3)
    client.changes("", 10)
    assert waits == [3.0, 3.0]


def test_a_retry_after_longer_than_the_cap_is_capped(hq: HQ, till: Till) -> None:
    waits: list[float] = []
    client = till.client(
        hq,
        wait=lambda s: waits.append(s) or False,
        retry=RetryPolicy(attempts=3, retry_after_cap=1.5),
    )
    hq.faults(fail_429=1, retry_after=3600)
    client.changes("", 10)
    assert waits == [1.5]


def test_server_errors_are_retried_until_the_attempts_run_out(hq: HQ, till: Till) -> None:
    session = CountingSession()
    client = till.client(hq, session=session, retry=RetryPolicy(attempts=3, base=0.001))
    hq.faults(fail_500=5)
    with pytest.raises(HQUnavailable, match="after 3 attempt"):
        client.changes("", 10)
    assert session.sent == 3


def test_a_hanging_hq_trips_the_read_timeout_and_the_call_is_retried(hq: HQ, till: Till) -> None:
    hq.faults(hang=1, hang_seconds=1.0)
    client = till.client(hq, read_timeout=0.2)
    assert client.changes("", 10).cursor == "1"


def test_an_unreachable_hq_is_unavailable_after_its_retries(till: Till) -> None:
    client = HQClient(
        "http://127.0.0.1:9",
        "t",
        "s1",
        retry=RetryPolicy(attempts=2, base=0.001),
        connect_timeout=0.5,
    )
    with pytest.raises(HQUnavailable, match="ConnectionError"):
        client.changes("", 10)


def test_tls_verification_is_on_unless_turned_off() -> None:
    assert HQClient("https://hq.example", "t", "s1").verify is True


def test_speaking_tls_to_a_plain_http_port_fails_as_a_tls_error_not_a_retry(
    hq: HQ, till: Till
) -> None:
    client = HQClient(
        f"https://127.0.0.1:{hq.port}", "token-s1", "s1", retry=RetryPolicy(attempts=3, base=0.001)
    )
    with pytest.raises(HQProtocolError, match="TLS failure"):
        client.changes("", 10)


def test_a_bad_request_is_reported_with_hqs_reason_and_not_retried(hq: HQ, till: Till) -> None:
    session = CountingSession()
    client = till.client(hq, session=session)
    with pytest.raises(HQProtocolError, match="HTTP 400 bad_request"):
        client.changes("not-a-cursor", 10)
    assert session.sent == 1
