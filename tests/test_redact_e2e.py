"""End to end: a program holding secrets in every everyday form crashes under ``python -m agentlog``;
no secret, whole or any 6-character piece, reaches a file under .agentlog/ or ``agentlog context``."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from support import child_env, run_python

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs a git binary")

# One distinct fake secret per form (no 6-character piece shared with anything else in the run).
S = {
    "msg_colon": "Kq7vX2pL9sT4",
    "query": "Wd3mN8bR5yH1",
    "note": "Jt6cF4gZ1xV8",
    "src_url": "Pb2kQ9wE7uM3",
    "netloc": "Hy5nL3aD8rC6",
    "asgi": "Ve9sG2jT4oB7",
    "bytes_key": "Rm1zK8fW3qN5",
    "flag_list": "Xc4hY7dP2gL9",
    "flag_str": "Ta8bM5vJ1kS6",
    "cpe": "Ng3wQ6eZ9cF2",
    "traced": "Lu7pR4xH1mD8",
    "google": "AIza" + "SyQ8fJ2kV5nB7cX1zM4pL6tR9wE3uY0hG2d",
    "diff_url": "Fo6tW1yK8aE4",
    "diff_cut": "Zi2rN7gU5bQ3",
    "subject": "Ee5jC9mV2sK7",
    "creds_tuple": "Gx4tB8nW2eR6",
    "diff_creds": "Yk9sD3fH6jP1",
}
BODY = [
    "6P7JCfHuQIozFiuo/qD1eE0bkxunU95oGLy1x1v+vKhD9Q2b8EfB2R0rs7bj7izk",
    "YQIe5oNpIB7lPJt/fd4e54AqVegKXPEO2gF5fDZTzFAkX/4HsVN9Jx0hef3e93GO",
    "9IOnqPsVKCdU2w3quDsPKGrZeuEUVUs/axZ+Hb/8HSE6Ehx9MTYxk6myLjcTNbXt",
]
DIFF_BODY = [
    "9fo3Cbf9ettwjbO4kKG2joItL2xvP7oFv/7NV6Et4Gbz4O4zBn8+ZwEoqHG5Dfrv",
    "oN3Lq8Xz5Tb1Vc7Yp2Wm4Rk9Hs6Jd0Fg3Aa5Ee8Ii1Uu4Oo7Yy2Bb5Nn8Mm1Qq+/",
]
SECRET_INT = 735914268
BEGIN, END = "-----BEGIN " + "PRIVATE KEY-----", "-----END " + "PRIVATE KEY-----"

PROGRAM = f'''
import subprocess
import agentlog


@agentlog.trace
def get_token():
    return "{S["traced"]}"


def get_secret_code():
    return {SECRET_INT}


def fetch(key_text):
    headers = [(b"x-api-key", b"{S["asgi"]}"), (b"host", b"example.com")]
    scope = {{b"password": "{S["bytes_key"]}"}}
    cmd = ["deploy", "--api-token", "{S["flag_list"]}"]
    line = "mysql --password={S["flag_str"]} -u root"
    netloc = "app:{S["netloc"]}@db.internal"
    u = 'https://example.com/login?user=bob&password={S["src_url"]}'
    maps_key = "{S["google"]}"
    creds = ("bob", "{S["creds_tuple"]}")
    get_token()
    get_secret_code()
    try:
        raise subprocess.CalledProcessError(1, ["psql", "--password", "{S["cpe"]}"])
    except subprocess.CalledProcessError as exc:
        exc.add_note("api token: {S["note"]}")
        raise RuntimeError(
            "login rejected for bob, password: {S["msg_colon"]}; 404 Client Error: Not Found for url: "
            "https://api.example.com/v1/items?access_token={S["query"]}"
        ) from exc


KEY = """{BEGIN}
{BODY[0]}
{BODY[1]}
{BODY[2]}
{END}"""
fetch(KEY)
'''

CONFIG_CHANGED = (
    f'DB = "postgres://app:{S["diff_url"]}@db/prod"\n'
    f'KEY = """{BEGIN}\n{DIFF_BODY[0]}\n{DIFF_BODY[1]}\n{END}"""\n'
    + f'DB_CREDS = "{S["diff_creds"]}"\n'
    + 'NOTE = "' + "n" * 273 + f" password='{S['diff_cut']}' " + '"\n'
)


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def pieces(secret: str) -> list[str]:
    return [secret[i : i + 6] for i in range(len(secret) - 5)]


def test_no_secret_reaches_disk_or_context(tmp_path: Path) -> None:
    """Every form of the issue's list is redacted in records, errors.log and the context."""
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "config.py").write_text("DB = None\n")
    (tmp_path / ".gitignore").write_text(".agentlog/\napp.py\n")
    git(tmp_path, "add", "config.py", ".gitignore")
    git(tmp_path, "commit", "-q", "-m", f"rotate creds, password: {S['subject']}")
    (tmp_path / "config.py").write_text(CONFIG_CHANGED)
    (tmp_path / "app.py").write_text(textwrap.dedent(PROGRAM))
    env = child_env()

    result = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert result.returncode == 1, result.stderr
    assert "RuntimeError: login rejected for bob" in result.stderr  # the program's own traceback, unredacted
    context = run_python(["-m", "agentlog", "context"], tmp_path, env)
    assert context.returncode == 0, context.stderr

    data = tmp_path / ".agentlog"
    files = [p for p in data.rglob("*") if p.is_file()]
    blobs = {str(p.relative_to(tmp_path)): p.read_text(errors="replace") for p in files}
    blobs["agentlog context"] = context.stdout
    records = blobs[".agentlog/records.jsonl"]
    # The failure was recorded with the places the secrets were in, so their absence means something.
    for seen in ("login rejected for bob, password:", "x-api-key", "--api-token", "access_token=", "config.py",
                 "get_token", "get_secret_code", "api token:", "netloc", "rotate creds", "creds",
                 "DB_CREDS"):  # fmt: skip
        assert seen in records, seen
    assert "[REDACTED:" in context.stdout

    bodies = {f"body{i}": b for i, b in enumerate(BODY)} | {f"diff_body{i}": b for i, b in enumerate(DIFF_BODY)}
    secrets = {**S, **bodies}
    leaks = sorted(
        {(where, name) for where, blob in blobs.items() for name, secret in secrets.items()
         if any(piece in blob for piece in pieces(secret))}
        | {(where, "int") for where, blob in blobs.items() if str(SECRET_INT) in blob}
    )  # fmt: skip
    assert not leaks, leaks
