"""Send-rate limits: parsing, and properties of the count over the log of attempt starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huntaze.outbox.limits import (
    Window,
    capacity,
    next_free_at,
    parse_limits,
    parse_platform_limits,
    schedule_time,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)

windows_st = st.lists(
    st.builds(Window, st.integers(1, 20), st.integers(1, 120).map(float)),
    min_size=1,
    max_size=3,
)
# arrival offsets in microseconds over up to ~10 minutes; repeats allowed (bursts)
arrivals_st = st.lists(st.integers(0, 600_000_000), min_size=1, max_size=150).map(sorted)


def over_limit(windows: list[Window], starts: list[datetime]) -> list[tuple[Window, datetime]]:
    """Independent checker: every (window, start) whose rolling window (start - W, start]
    holds more than the window's amount, by a plain count over all starts."""
    bad = []
    for w in windows:
        span = timedelta(seconds=w.seconds)
        for end in starts:
            inside = sum(1 for t in starts if end - span < t <= end)
            if inside > w.amount:
                bad.append((w, end))
    return bad


def greedy(windows: list[Window], arrivals: list[datetime]) -> list[datetime]:
    """Start sends whenever ``capacity(...) >= 1``, deciding at each arrival and at each
    instant ``next_free_at`` names while a backlog waits."""
    starts: list[datetime] = []
    backlog = 0
    now = T0
    for nxt in [*arrivals, None]:
        # serve the backlog until the next arrival
        while backlog:
            when = next_free_at(windows, starts, now)
            if nxt is not None and when > nxt:
                break
            assert capacity(windows, starts, when) >= 1
            now = when
            starts.append(now)
            backlog -= 1
        if nxt is None:
            break
        now = nxt
        backlog += 1
        while backlog and capacity(windows, starts, now) >= 1:
            starts.append(now)
            backlog -= 1
    assert backlog == 0
    return starts


@settings(max_examples=200, deadline=None)
@given(windows_st, arrivals_st)
def test_greedy_sending_never_exceeds_any_window(windows: list[Window], offsets: list[int]) -> None:
    arrivals = [T0 + timedelta(microseconds=o) for o in offsets]
    starts = greedy(windows, arrivals)
    assert len(starts) == len(arrivals)
    assert starts == sorted(starts)
    assert over_limit(windows, starts) == []


@settings(max_examples=300, deadline=None)
@given(windows_st, st.lists(st.integers(0, 300_000_000), max_size=60), st.integers(0, 200_000_000))
def test_next_free_at_is_the_first_free_instant(
    windows: list[Window], offsets: list[int], after_last: int
) -> None:
    starts = sorted(T0 + timedelta(microseconds=o) for o in offsets)
    now = (starts[-1] if starts else T0) + timedelta(microseconds=after_last)
    when = next_free_at(windows, starts, now)
    assert when >= now
    assert capacity(windows, starts, when) >= 1
    if when > now:
        assert capacity(windows, starts, when - US) == 0
    else:
        assert capacity(windows, starts, now) >= 1


@settings(max_examples=200, deadline=None)
@given(windows_st, arrivals_st)
def test_next_free_at_along_a_greedy_history(windows: list[Window], offsets: list[int]) -> None:
    starts = greedy(windows, [T0 + timedelta(microseconds=o) for o in offsets])
    for i in range(len(starts)):
        history, now = starts[:i], starts[i]
        when = next_free_at(windows, history, now)
        assert capacity(windows, history, when) >= 1
        if when > now:
            assert capacity(windows, history, when - US) == 0


@given(
    st.integers(1, 20),
    st.integers(1, 120),
    st.integers(0, 100_000),
    st.integers(0, 10**9),
)
def test_schedule_time_for_an_empty_log_is_whole_cycles(
    amount: int, seconds: int, position: int, offset_us: int
) -> None:
    now = T0 + timedelta(microseconds=offset_us)
    window = Window(amount, float(seconds))
    expected = now + (position // amount) * timedelta(seconds=seconds)
    assert schedule_time([window], [], now, position) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/minute", (Window(10, 60.0),)),
        ("5/2seconds", (Window(5, 2.0),)),
        ("10/minute;300/hour", (Window(10, 60.0), Window(300, 3600.0))),
        ("10 per minute", (Window(10, 60.0),)),
    ],
)
def test_parse_limits_valid(text: str, expected: tuple[Window, ...]) -> None:
    assert parse_limits(text) == expected


@pytest.mark.parametrize("text", ["", "ten per minute", "10/fortnightly", "0/minute", "10"])
def test_parse_limits_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="not a send limit"):
        parse_limits(text)


def test_parse_platform_limits_valid() -> None:
    parsed = parse_platform_limits('{"onlyfans": "10/minute", "fansly": "5/2seconds;100/hour"}')
    assert parsed == {
        "onlyfans": (Window(10, 60.0),),
        "fansly": (Window(5, 2.0), Window(100, 3600.0)),
    }
    assert parse_platform_limits("") == {}


def test_parse_platform_limits_bad_json() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_platform_limits('{"onlyfans": ')


def test_parse_platform_limits_not_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        parse_platform_limits('["10/minute"]')


def test_parse_platform_limits_bad_entry_names_the_platform() -> None:
    with pytest.raises(ValueError, match=r"HUNTAZE_SEND_LIMITS\['fansly'\].*not a send limit"):
        parse_platform_limits('{"onlyfans": "10/minute", "fansly": "lots"}')
