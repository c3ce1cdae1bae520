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

    def test_broken_pyproject_ignored(self, tmp_path):
        """A pyproject.toml that is not valid TOML is ignored, not fatal."""
        (tmp_path / "pyproject.toml").write_text("[tool.agentlog\n", encoding="utf-8")
        assert load_config(cwd=tmp_path, env={}) == Config()

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
