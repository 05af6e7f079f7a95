"""County profiles: loading, validation errors (file, line, what) and regional deadline overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from monitor.deadlines import due_date
from monitor.errors import ProfileError
from monitor.profiles import load_profile, load_profiles

GOOD = """\
[county]
code = "370830"
name = "汶上县"
province = "山东省"
city = "济宁市"

[deadlines]
township = "01-25"
reminder_days = 10

[[bodies]]
name = "汶上县人民政府"
kind = "county_gov"

[[bodies]]
name = "刘楼镇人民政府"
kind = "township"
aliases = ["刘楼镇"]
first_year = 2019

[[portals]]
flavour = "trs"
start_urls = ["http://www.wenshang.gov.cn/xxgk/gknb/index.shtml"]
body = "刘楼镇"
"""


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_a_valid_profile_loads(tmp_path: Path) -> None:
    p = load_profile(write(tmp_path, GOOD))
    assert (p.code, p.name, p.province, p.city) == ("370830", "汶上县", "山东省", "济宁市")
    assert [(b.name, b.kind) for b in p.bodies] == [("汶上县人民政府", "county_gov"), ("刘楼镇人民政府", "township")]
    assert p.body("刘楼镇").first_year == 2019
    assert p.portals[0].flavour == "trs" and p.portals[0].obey_robots is True
    assert p.deadlines == {"township": "01-25", "reminder_days": 10}


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ('code = "370830"', 'code = "37083"', 2, "6-digit"),
    ('code = "370830"', 'code = 370830', 2, "code must be str"),
    ('kind = "township"', 'kind = "village"', 17, "unknown kind 'village'"),
    ('flavour = "trs"', 'flavour = "wordpress"', 22, "unknown flavour 'wordpress'"),
    ('township = "01-25"', 'township = "1-25"', 8, "MM-DD"),
    ('township = "01-25"', 'township = "02-30"', 8, "MM-DD"),
    ('township = "01-25"', 'township = "13-01"', 8, "MM-DD"),
    ('township = "01-25"', 'hamlet = "01-25"', 8, "unknown key 'hamlet'"),
    ('reminder_days = 10', 'reminder_days = 400', 9, "reminder_days"),
    ('body = "刘楼镇"', 'body = "刘二堡镇"', 24, "not one of the county's [[bodies]]"),
    ('first_year = 2019', 'first_year = 2019\nretired_year = 2018', 20, "retired_year"),
    ('name = "汶上县"', 'name = "汶上县"\nname = "x"', 4, "invalid TOML"),
    ('aliases = ["刘楼镇"]', 'aliases = ["汶上县人民政府"]', 18, "used by two bodies"),
])
def test_invalid_profiles_name_file_line_and_problem(tmp_path: Path, old: str, new: str, line: int,
                                                    message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert f"{path}:{line}:" in str(err.value)
    assert message in str(err.value)


def test_missing_county_table(tmp_path: Path) -> None:
    path = write(tmp_path, "[[bodies]]\nname = \"x\"\nkind = \"township\"\n")
    with pytest.raises(ProfileError, match=r"missing \[county\]"):
        load_profile(path)


def test_regional_deadlines_county_over_city_over_province_over_law(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "wenshang.toml")
    write(tmp_path, GOOD.replace('"370830"', '"370831"').replace('[deadlines]\ntownship = "01-25"\n', "[deadlines]\n"),
          "other.toml")
    write(tmp_path, '[region]\nname = "山东省"\nlevel = "province"\n[deadlines]\ntownship = "01-15"\n'
                    'department = "01-20"\ncounty_gov = "03-15"\n', "regions/sd.toml")
    write(tmp_path, '[region]\nname = "济宁市"\nlevel = "city"\n[deadlines]\ndepartment = "01-10"\n',
          "regions/jn.toml")
    by_code = {p.code: p for p in load_profiles(tmp_path)}
    wenshang, other = by_code["370830"].effective_deadlines, by_code["370831"].effective_deadlines
    assert due_date("township", 2021, wenshang) == date(2022, 1, 25)  # county
    assert due_date("township", 2021, other) == date(2022, 1, 15)  # province
    assert due_date("department", 2021, wenshang) == date(2022, 1, 10)  # city over province
    assert due_date("county_gov", 2021, other) == date(2022, 3, 15)  # province
    assert due_date("street", 2021, other) == date(2022, 1, 31)  # law
    assert due_date("township", 2018, wenshang) == date(2019, 3, 31)  # 2008 条例, not overridden


def test_duplicate_county_codes_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    with pytest.raises(ProfileError, match="also used by"):
        load_profiles(tmp_path)


def test_one_county_of_a_national_directory_is_found_without_loading_the_others(tmp_path: Path) -> None:
    """A crawl looks its county up among thousands of files: only the files that mention it are
    parsed — a broken file of another county does not stop the lookup, regions still merge,
    duplicates are still refused, and a name written with TOML escapes is found all the same."""
    from monitor.jobs import find_profile

    write(tmp_path, '[region]\nname = "济宁市"\nlevel = "city"\n[deadlines]\ndepartment = "01-10"\n',
          "regions/jining.toml")
    write(tmp_path, GOOD, "370830-wenshang.toml")
    write(tmp_path, "[county]\ncode = broken", "999999-broken.toml")
    escaped = GOOD.replace('"370830"', '"370831"').replace('"汶上县"', '"\\u5609\\u7965\\u53bf"')
    write(tmp_path, escaped, "370831-jiaxiang.toml")

    assert [p.code for p in load_profiles(tmp_path, mentioning="370830")] == ["370830"]
    for key in ("370830", "汶上县"):
        p = find_profile(key, tmp_path)
        assert p.code == "370830" and p.effective_deadlines["department"] == "01-10"
    with pytest.raises(ProfileError, match="broken"):  # not mentioned: only the full scan reads it
        find_profile("嘉祥县", tmp_path)
    (tmp_path / "999999-broken.toml").unlink()
    assert find_profile("嘉祥县", tmp_path).code == "370831"
    with pytest.raises(ProfileError, match="no county profile"):
        find_profile("370832", tmp_path)
    write(tmp_path, GOOD, "copy.toml")
    with pytest.raises(ProfileError, match="also used by"):
        find_profile("370830", tmp_path)


def test_bad_region_file(tmp_path: Path) -> None:
    write(tmp_path, '[region]\nname = "山东省"\nlevel = "country"\n[deadlines]\n', "regions/x.toml")
    with pytest.raises(ProfileError, match=r"x.toml:3: unknown level"):
        load_profiles(tmp_path)


def test_a_portal_may_set_its_crawl_bounds(tmp_path: Path) -> None:
    text = GOOD.replace('body = "刘楼镇"', 'body = "刘楼镇"\nmax_list_pages = 20\nmax_depth = 5\ntime_limit = 600')
    portal = load_profile(write(tmp_path, text)).portals[0]
    assert (portal.max_list_pages, portal.max_depth, portal.time_limit) == (20, 5, 600)
    assert load_profile(write(tmp_path, GOOD, "d.toml")).portals[0].max_list_pages is None  # the crawl default


@pytest.mark.parametrize(("line", "message"), [
    ("max_list_pages = 0", "max_list_pages must be between 1 and 10000"),
    ("max_depth = true", "max_depth must be int"),
    ("time_limit = 1", "time_limit must be between 10 and 86400"),
])
def test_bad_crawl_bounds_are_refused(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, GOOD.replace('body = "刘楼镇"', f'body = "刘楼镇"\n{line}'))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert f"{path}:25:" in str(err.value) and message in str(err.value)
