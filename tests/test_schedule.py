"""The daemon's schedule: per-county cadence, spread over the day, stable, picklable."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from monitor.clock import SHANGHAI
from monitor.config import load_config
from monitor.schedule import (
    CountyCadence,
    ScheduleConfig,
    county_offset,
    crawl_times,
    in_season,
    planned_jobs,
)


def cfg(**kw: object) -> ScheduleConfig:
    return ScheduleConfig(**kw)  # type: ignore[arg-type]


def test_daily_in_the_season_weekly_on_the_configured_day_outside_it() -> None:
    c = cfg(weekly_day="wed")
    jan = crawl_times("370830", c, datetime(2027, 1, 1, tzinfo=SHANGHAI), datetime(2027, 2, 1, tzinfo=SHANGHAI))
    assert [t.date() for t in jan] == [date(2027, 1, d) for d in range(1, 32)]
    summer = crawl_times("370830", c, datetime(2027, 6, 1, tzinfo=SHANGHAI), datetime(2027, 7, 1, tzinfo=SHANGHAI))
    assert [t.date() for t in summer] == [date(2027, 6, d) for d in (2, 9, 16, 23, 30)]
    assert all(t.weekday() == 2 for t in summer)


def test_season_edges_are_inclusive_and_may_wrap_the_new_year() -> None:
    season = ("01-01", "04-30")
    assert in_season(date(2027, 4, 30), season) and not in_season(date(2027, 5, 1), season)
    assert in_season(date(2027, 1, 1), season) and not in_season(date(2026, 12, 31), season)
    assert in_season(date(2026, 12, 15), ("12-01", "02-28")) and not in_season(date(2026, 11, 30), ("12-01", "02-28"))


def test_2800_counties_spread_over_the_day() -> None:
    codes = [f"{i:06d}" for i in range(110000, 110000 + 2800)]
    per_hour = Counter(county_offset(c) // 3600 for c in codes)
    assert len(per_hour) == 24
    assert max(per_hour.values()) < 2800 / 24 * 1.5  # no hour holds half again its share
    per_minute = Counter(county_offset(c) for c in codes)
    assert max(per_minute.values()) <= 10


def test_a_county_keeps_its_slot_and_the_window_bounds_it() -> None:
    assert county_offset("370830") == county_offset("370830")
    c = cfg(crawl_time="20:00", crawl_window_hours=1)
    at = crawl_times("370830", c, datetime(2027, 1, 5, tzinfo=SHANGHAI), datetime(2027, 1, 6, tzinfo=SHANGHAI))
    assert len(at) == 1 and at[0].hour == 20


def test_a_slot_past_midnight_belongs_to_the_day_before() -> None:
    trig = CountyCadence("370830", off_season="weekly", weekly_day="tue", crawl_time="23:30", window_hours=24)
    assert county_offset("370830") > 3600  # this county's slot is well past the crawl time
    first = trig.fire_time(date(2027, 6, 1))  # a Tuesday: the slot runs on Wednesday
    assert first.date() == date(2027, 6, 2)
    # asked on that Wednesday just before the slot, the trigger still finds it
    assert trig.get_next_fire_time(None, first - timedelta(minutes=1)) == first


def test_next_fire_time_follows_the_previous_one_not_now() -> None:
    trig = CountyCadence("370830")
    now = datetime(2027, 1, 20, 12, tzinfo=SHANGHAI)
    prev = trig.get_next_fire_time(None, datetime(2027, 1, 10, tzinfo=SHANGHAI))
    nxt = trig.get_next_fire_time(prev, now)
    assert nxt == prev + timedelta(days=1)  # APScheduler counts missed runs from here (then coalesces)


def test_trigger_survives_the_job_store() -> None:
    trig = CountyCadence("370830", ("01-01", "04-30"), "daily", "weekly", "02:00", 24, "mon")
    back = pickle.loads(pickle.dumps(trig))
    assert back == trig and repr(back) == repr(trig)
    t = datetime(2027, 3, 1, tzinfo=SHANGHAI)
    assert back.get_next_fire_time(None, t) == trig.get_next_fire_time(None, t)


def test_planned_jobs_from_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "nianbao.toml"
    toml.write_text('[schedule]\nsweep_time = "08:30"\ncrawl_in_season = "weekly"\n'
                    '[daemon]\nhousekeeping_time = "04:00"\n[health]\nheartbeat_time = "07:15"\n', encoding="utf-8")
    c = ScheduleConfig.from_settings(load_config(toml, env={}))
    jobs = {j.id: j for j in planned_jobs(c, ["370830", "370828", "370830"])}
    assert set(jobs) == {"sweep", "digest", "housekeeping", "heartbeat", "crawl:370828", "crawl:370830"}
    assert jobs["heartbeat"].func == "monitor.daemon:job_heartbeat"
    assert "hour='7', minute='15'" in repr(jobs["heartbeat"].trigger)
    assert jobs["crawl:370830"].func == "monitor.daemon:job_queue_crawl" and jobs["crawl:370830"].args == ("370830",)
    assert "hour='8', minute='30'" in repr(jobs["sweep"].trigger)
    assert "Asia/Shanghai" in repr(jobs["sweep"].trigger)
    assert jobs["crawl:370830"].trigger.in_season == "weekly"


@pytest.mark.parametrize("bad", ['[daemon]\nhousekeeping_time = "25:00"\n', '[daemon]\nhttp = "nowhere"\n',
                                 '[daemon]\nmax_concurrent_crawls = 0\n'])
def test_bad_daemon_settings_are_one_clear_error(tmp_path, bad: str) -> None:  # type: ignore[no-untyped-def]
    from monitor.errors import ConfigError

    toml = tmp_path / "nianbao.toml"
    toml.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="daemon"):
        load_config(toml, env={})
