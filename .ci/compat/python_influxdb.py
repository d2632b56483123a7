#!/usr/bin/env python3
"""Kodo compatibility check with Debian's python3-influxdb (5.3).

Run by cmd/kodo's TestCompatClients against the built binary with
KODO_HOST, KODO_PORT, KODO_DB and KODO_TOKEN set. The client asks for
MessagePack answers by default, so value types are checked too. Exits
non-zero on the first failed assertion.
"""
import datetime
import os
import sys

from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError


def env(k):
    v = os.environ.get(k)
    if not v:
        sys.exit(k + " is not set")
    return v


def expect_error(fn, needle):
    try:
        fn()
    except InfluxDBClientError as e:
        assert needle in str(e), "error %r lacks %r" % (str(e), needle)
        return e
    raise AssertionError("expected an error containing %r" % needle)


def main():
    db = env("KODO_DB")
    c = InfluxDBClient(host=env("KODO_HOST"), port=int(env("KODO_PORT")),
                       username="python", password=env("KODO_TOKEN"), database=db)
    assert c.ping() == "1.8.10", c.ping()

    c.create_database(db)  # Telegraf-style: a no-op on the own database
    assert c.get_list_database() == [{"name": db}], c.get_list_database()

    t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=1)
    ts = t0.strftime("%Y-%m-%dT%H:%M:%SZ")
    ok = c.write_points([
        {"measurement": "cpu", "tags": {"host": "a"}, "time": ts, "fields": {"usage": 2.0, "n": 1}},
        {"measurement": "cpu", "tags": {"host": "b"}, "time": ts, "fields": {"usage": 3.5, "n": 2}},
    ], time_precision="s")
    assert ok

    # MessagePack keeps the whole float 2.0 a float.
    pts = list(c.query("SELECT usage, n FROM cpu WHERE host = 'a'").get_points())
    assert len(pts) == 1, pts
    assert isinstance(pts[0]["usage"], float) and pts[0]["usage"] == 2.0, pts
    assert isinstance(pts[0]["n"], int) and pts[0]["n"] == 1, pts
    assert pts[0]["time"] == ts, pts

    # Bound parameters and epoch.
    pts = list(c.query("SELECT usage FROM cpu WHERE host = $h", bind_params={"h": "b"}, epoch="s").get_points())
    assert pts == [{"time": int(t0.timestamp()), "usage": 3.5}], pts

    # GROUP BY tags, SHOW statements, several statements at once.
    rs = c.query("SELECT sum(usage) FROM cpu GROUP BY host")
    sums = {k[1]["host"]: list(v)[0]["sum"] for k, v in rs.items()}
    assert sums == {"a": 2.0, "b": 3.5}, sums
    assert c.get_list_measurements() == [{"name": "cpu"}], c.get_list_measurements()
    multi = c.query("SHOW DATABASES; SELECT count(n) FROM cpu")
    assert list(multi[0].get_points()) == [{"name": db}], list(multi[0].get_points())
    assert list(multi[1].get_points())[0]["count"] == 2

    # JSON answers too (the CSV and MessagePack paths are the defaults' siblings).
    cj = InfluxDBClient(host=env("KODO_HOST"), port=int(env("KODO_PORT")), username="python",
                        password=env("KODO_TOKEN"), database=db, headers={"Accept": "application/json"})
    assert list(cj.query("SELECT count(usage) FROM cpu").get_points())[0]["count"] == 2

    # Retention policies made with InfluxQL are usable at once.
    c.create_retention_policy("pycompat", "2h", 1)
    names = [rp["name"] for rp in c.get_list_retention_policies()]
    assert "pycompat" in names, names
    c.write_points([{"measurement": "mem", "time": ts, "fields": {"used": 42.0}}],
                   time_precision="s", retention_policy="pycompat")
    pts = list(c.query('SELECT used FROM "pycompat".mem').get_points())
    assert pts and pts[0]["used"] == 42.0, pts
    c.drop_retention_policy("pycompat")
    expect_error(lambda: c.write_points([{"measurement": "mem", "fields": {"used": 1.0}}],
                                        retention_policy="pycompat"), "retention policy not found")

    # influxd's wording for parse errors and partial writes.
    expect_error(lambda: c.query("SELECT mean(usage FROM cpu"),
                 "error parsing query: found FROM, expected ) at line 1, char 19")
    e = expect_error(lambda: c.write_points([{"measurement": "cpu", "time": ts, "fields": {"usage": "text"}}],
                                            time_precision="s"), "partial write")
    assert "dropped=1" in str(e), str(e)
    print("python3-influxdb: all checks passed")


if __name__ == "__main__":
    main()
