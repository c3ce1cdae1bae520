"""``agentlog profile``: the exit-time profile record as a table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from agentlog.commands import data_dir_argument, profile


def write_profiles(data_dir: Path, *bodies: dict) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "records.jsonl").open("w") as fh:
        for n, body in enumerate(bodies):
            record = {
                "sv": 1,
                "k": "profile",
                "sid": "s",
                "pid": 10 + n,
                "tid": 1,
                "th": "MainThread",
                "ts": 1_700_000_000 + n,
                "engine": "c",
                **body,
            }
            fh.write(json.dumps(record) + "\n")


def args_for(data_dir: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    data_dir_argument(parser)  # cli.py gives every subcommand --dir
    profile.add_arguments(parser)
    return parser.parse_args(["--dir", str(data_dir), *extra])


ROW_A = {"f": "work", "file": "/app/a.py", "ln": 3, "n": 10, "tot": 4_000_000, "self": 3_000_000}
ROW_B = {"f": "helper", "file": "/app/a.py", "ln": 9, "n": 40, "tot": 1_000_000, "self": 1_000_000}


def test_newest_profile_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The newest profile is shown, one row per function, self time in ms."""
    write_profiles(tmp_path, {"fns": [ROW_B], "more": 0}, {"fns": [ROW_A, ROW_B], "more": 5})
    assert profile.run(args_for(tmp_path, "-n", "1")) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("profile of pid 11")
    assert out[2].split() == ["10", "4.000", "3.000", "work", "(/app/a.py:3)"]
    assert out[3] == "... 6 more functions"


def test_compare_with_previous(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--compare adds the previous run's self time and the ratio; new functions say so."""
    write_profiles(tmp_path, {"fns": [dict(ROW_B, self=500_000)]}, {"fns": [ROW_A, ROW_B]})
    profile.run(args_for(tmp_path, "--compare"))
    out = capsys.readouterr().out.splitlines()
    assert out[2].split()[3:5] == ["-", "new"]
    assert out[3].split()[3:5] == ["0.500", "2.00x"]


def test_no_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty data dir says how to get a profile."""
    assert profile.run(args_for(tmp_path / "none")) == 0
    assert "No profile recorded" in capsys.readouterr().out
