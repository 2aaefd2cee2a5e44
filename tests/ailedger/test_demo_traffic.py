"""The demo traffic generator: spread traffic has its daytime peak, live traffic stays live."""

from datetime import datetime, timedelta, timezone

from ailedger.demo_traffic import generate


def test_live_traffic_lies_within_its_window_at_night_too():
    night = datetime(2026, 12, 7, 4, 30, tzinfo=timezone.utc)  # the hours the spread traffic thins out
    times = [e.occurred_at for e in generate(2_000, days=0.01, now=night)]
    assert all(night - timedelta(days=0.01) <= t <= night for t in times)


def test_spread_traffic_is_quieter_at_night():
    times = [e.occurred_at for e in generate(20_000, days=7, now=datetime(2026, 12, 7, 12, tzinfo=timezone.utc))]
    night = sum(1 for t in times if 1 <= t.hour <= 6)
    assert night < len(times) * 6 / 24 * 0.6  # 6 of 24 hours, less than 60 % of their even share
