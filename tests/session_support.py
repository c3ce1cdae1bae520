"""A recorded session full of secrets, made by real processes, for the export and sharing tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support import child_env, read_records, run_python

# Shapes the redactor knows, so each must arrive redacted wherever it was put.
SECRETS = {
    "locals": "sk-ant-api03-LOCALSlocalsLOCALS1234567890abcd",
    "message": "ghp_MESSAGEmessageMESSAGE1234567890ab",
    "output": "AKIAOUTPUT12345678AB",
    "diff": "diffPASSWORD-hunter2-7f3a9c",
    "argv": "sk-proj-ARGVargvARGVargv1234567890xyz",
}

CRASH = f'''
def charge(amount):
    api_key = "{SECRETS["locals"]}"
    ratio = amount / (amount - amount)
    return ratio, api_key

def checkout(items):
    total = 0
    for item in items:
        total += item
    try:
        return charge(total)
    except ZeroDivisionError as exc:
        raise RuntimeError("payment failed with token {SECRETS["message"]}") from exc

checkout([1, 2, 3])
'''


# The agent: a session that runs a tool through `agentlog exec`, then the program, which crashes.
AGENT = f'''
import subprocess, sys
import agentlog

with agentlog.start_session(agent="claude-code", task="fix checkout"):
    subprocess.run([sys.executable, "-m", "agentlog", "exec", "--", sys.executable, "-c",
                    "print('key {SECRETS["output"]}')", "--api-key={SECRETS["argv"]}"], check=True)
    crashed = subprocess.run([sys.executable, "-m", "agentlog", "crash.py", "--api-key={SECRETS["argv"]}"])
    assert crashed.returncode == 1
'''


def make_session(tmp_path: Path) -> tuple[Path, Path]:
    """(data dir, project dir): one session with an exec run and a crash, in a git repo with a secret diff."""
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    (project / "settings.py").write_text('password = "old"\n')
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run([*git, *args], cwd=project, check=True, capture_output=True)
    (project / "settings.py").write_text(f'password = "{SECRETS["diff"]}"\n')
    (project / "crash.py").write_text(CRASH)
    (project / "agent.py").write_text(AGENT)
    done = run_python(["agent.py"], project, child_env(data))
    assert done.returncode == 0, done.stderr
    return data, project


def session_id(data: Path) -> str:
    (start,) = read_records(data, "session_start")
    return start["sid"]


def leaked(bodies: list[bytes]) -> list[str]:
    """Which secrets appear in any of the bodies."""
    return [name for name, secret in SECRETS.items() if any(secret.encode() in body for body in bodies)]
