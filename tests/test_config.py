"""Options: environment over [tool.agentlog] over defaults, with clear errors."""

from __future__ import annotations

import pytest

from agentlog.core.config import Config, ConfigError, load_config


def write_pyproject(folder, body: str) -> None:
    (folder / "pyproject.toml").write_text("[tool.agentlog]\n" + body, encoding="utf-8")


class TestLoadConfig:
    def test_defaults(self, tmp_path):
        """With no pyproject and no environment, the documented defaults apply."""
        config = load_config(cwd=tmp_path, env={})
        assert config == Config()
        assert (config.max_str_chars, config.max_items, config.max_depth) == (200, 10, 3)
        assert (config.ring_size, config.max_record_bytes) == (65536, 64 * 1024)

    def test_pyproject_found_above_cwd(self, tmp_path):
        """The nearest pyproject.toml at or above the working directory is read."""
        write_pyproject(tmp_path, 'trace = "crash"\nmax-items = 4\nredact_names = ["iban", "ssn"]\n')
        nested = tmp_path / "src" / "pkg"
        nested.mkdir(parents=True)
        config = load_config(cwd=nested, env={})
        assert (config.trace, config.max_items, config.redact_names) == ("crash", 4, ("iban", "ssn"))

    def test_environment_wins(self, tmp_path):
        """Environment variables override pyproject values."""
        write_pyproject(tmp_path, 'trace = "crash"\nmax_items = 4\n')
        env = {"AGENTLOG_TRACE": "off", "AGENTLOG_MAX_ITEMS": "7", "AGENTLOG_QUIET": "yes",
               "AGENTLOG_REDACT_NAMES": "iban, ssn", "AGENTLOG_REDACT_PATTERNS": r"acct-\d+" + "\n" + r"x\d"}
        config = load_config(cwd=tmp_path, env=env)
        assert (config.trace, config.max_items, config.quiet) == ("off", 7, True)
        assert config.redact_names == ("iban", "ssn")
        assert config.redact_patterns == (r"acct-\d+", r"x\d")

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"AGENTLOG_TRACE": "fast"}, "trace mode must be one of off, crash, calls"),
            ({"AGENTLOG_MAX_STR": "-1"}, "max_str_chars must be >= 0"),
            ({"AGENTLOG_RING_SIZE": "lots"}, "invalid literal for int()"),
        ],
    )
    def test_bad_values(self, tmp_path, env, message):
        """Unusable values raise ConfigError naming the problem."""
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(cwd=tmp_path, env=env)

    def test_broken_pyproject_is_a_problem(self, tmp_path):
        """Without a problems list, a pyproject.toml that is not valid TOML raises ConfigError."""
        (tmp_path / "pyproject.toml").write_text("[tool.agentlog\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="is not valid TOML"):
            load_config(cwd=tmp_path, env={})

    def test_data_dir_is_absolute(self, tmp_path, monkeypatch):
        """A relative dir resolves against the working directory."""
        monkeypatch.chdir(tmp_path)
        assert Config(dir="rel/data").data_dir == tmp_path / "rel" / "data"

    def test_lenient_keeps_defaults_and_names_the_variable(self, tmp_path):
        """With a problems list, bad values keep their defaults and each problem names its variable."""
        problems: list[str] = []
        env = {"AGENTLOG_MAX_FILE_BYTES": "abc", "AGENTLOG_MAX_ITEMS": "5"}
        config = load_config(cwd=tmp_path, env=env, problems=problems)
        assert config.max_file_bytes == Config().max_file_bytes and config.max_items == 5
        assert problems == [
            "AGENTLOG_MAX_FILE_BYTES='abc' is not usable (invalid literal for int() with base 10: 'abc'); "
            "using 8388608"
        ]


OWN = b'[tool.agentlog]\nredact_names = ["iban"]\n'
PYPROJECT_CORPUS = [
    # (file bytes, redact_names read, words the problem line must hold; None: no problem)
    (OWN, ("iban",), None),
    (b"[project]\nname = 'x'\n" + OWN + b"[tool.other]\nk = 1\n", ("iban",), None),
    (b"tool = 3\n", (), None),
    (b"[tool]\nagentlog = 5\n", (), None),
    (b"[tool.agentlog\n", (), "using defaults for every option"),
    (b'[project]\nname = "x\n' + OWN, ("iban",), "read [tool.agentlog] alone"),
    (b"[project]\nname = 'caf\xe9'\n" + OWN, ("iban",), "byte 0xe9 at offset 21 is not UTF-8"),
    (OWN + b"[tool.other]\nk = \xff\n", ("iban",), "read [tool.agentlog] alone"),
    (b"[x]\ny = = 1\n  [ tool . agentlog ]  # ours\nredact_names = ['ssn']\n", ("ssn",), "alone"),
    (b"\xff\xfe[\x00", (), None),  # not about us: not even parsed
    (b"\xff\xfe[tool.agentlog\n", (), "using defaults"),
    (b"[x\n[tool.agentlog]\nredact_names = [\n", (), "using defaults"),
    (b"# [tool.agentlog]\nredact_names = ['x']\n[broken\n", (), "using defaults"),
]


class TestUnreadablePyproject:
    @pytest.mark.parametrize(("content", "names", "problem"), PYPROJECT_CORPUS)
    def test_corpus(self, tmp_path, content, names, problem):
        """Broken TOML or non-UTF-8 bytes: one problem line, and [tool.agentlog] still read when it parses alone."""
        (tmp_path / "pyproject.toml").write_bytes(content)
        problems: list[str] = []
        config = load_config(cwd=tmp_path, env={}, problems=problems)
        assert config.redact_names == names
        if problem is None:
            assert problems == []
        else:
            assert len(problems) == 1 and problem in problems[0] and "is not valid TOML" in problems[0]

    def test_launched_program_keeps_running_and_redacting(self, tmp_path):
        """A non-UTF-8 byte elsewhere in pyproject.toml: one warning line, same output, redaction kept."""
        from support import both, read_records

        (tmp_path / "pyproject.toml").write_bytes(b"[project]\nname = 'caf\xe9'\n" + OWN)
        (tmp_path / "prog.py").write_text("iban = 'DE44500105175407324931'\nprint('ran')\nraise ValueError('x')\n")
        data = tmp_path / "data"
        plain, traced = both(["prog.py"], tmp_path, data)
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout) == (1, "ran\n")
        warning, *rest = traced.stderr.splitlines()
        assert warning.startswith("agentlog: warning [bad-option]: ") and "not valid TOML" in warning
        assert "\n".join(rest) + "\n" == plain.stderr
        (record,) = read_records(data, "failure")
        assert "DE44500105175407324931" not in str(record)
        assert "iban" in str(record["exc"]["frames"])


class TestLauncherWithBadOptions:
    def test_program_runs_with_one_warning(self, tmp_path):
        """A bad AGENTLOG_* value costs one warning line; the program runs and records as usual."""
        from support import child_env, read_records, run_python

        (tmp_path / "prog.py").write_text("print('ran')\nraise ValueError('x')\n")
        data = tmp_path / "data"
        env = child_env(data, AGENTLOG_MAX_FILE_BYTES="abc")
        result = run_python(["-m", "agentlog", "prog.py"], tmp_path, env)
        assert result.returncode == 1 and result.stdout == "ran\n"
        first = result.stderr.splitlines()[0]
        assert first.startswith("agentlog: warning [bad-option]: AGENTLOG_MAX_FILE_BYTES='abc' is not usable")
        assert [r["exc"]["m"] for r in read_records(data, "failure")] == ["x"]
