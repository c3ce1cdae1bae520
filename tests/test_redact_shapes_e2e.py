"""End to end: the secret shapes of issue 17 never reach a file under .agentlog/ or ``agentlog context``.

A real program records a first failure, then loads a secret into ``os.environ`` (as a dotenv
loader does), runs with a password after ``-p``, holds a Cookie header with several cookies,
an AWS SigV4 Authorization header, an ``http.cookiejar.Cookie`` and a ``@trace``'d ``get_pin``,
and crashes with the secret in its message.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from support import child_env, run_python

S = {
    "dotenv": "Hv7" + "nQ2xLw9Tz4",
    "flag_p": "Bk3" + "mZ8rYp1Wq!",
    "cookie_a": "Ud6" + "tF1sGh8Kj3",
    "cookie_b": "Mw2" + "eR7vNc4Xb9",
    "jar": "Oy5" + "qA9zLd3Hf6",
    "signature": "9c2e" + "41f0b7d3a6e8c5f4d2b1a09e8f7d6c5b4a3e2d1c0f9e8d7c6b5a4f3e2d1f",  # 64 hex
}
PIN = 735914

PROGRAM = f'''
import os
import sys
import threading
from http.cookiejar import Cookie

import agentlog


def early():
    raise ValueError("an early failure, before the environment is loaded")


t = threading.Thread(target=early)
t.start()
t.join()
os.environ["APP_API_TOKEN"] = {S["dotenv"]!r}  # load_dotenv() after the first record


@agentlog.trace
def get_pin():
    return {PIN}


def connect(argv):
    cookie_header = "Cookie: a={S["cookie_a"]}; b={S["cookie_b"]}"
    sigv4 = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature={S["signature"]}")
    jar = Cookie(0, "sid", {S["jar"]!r}, None, False, "example.com", True, False, "/", True,
                 False, None, False, None, None, {{}})
    pin = get_pin()
    raise RuntimeError(f"connect failed with token {{os.environ['APP_API_TOKEN']}} as {{argv}}")


connect(sys.argv)
'''


def test_late_env_headers_flags_cookies_and_pins_never_reach_disk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(PROGRAM))
    env = child_env(tmp_path / ".agentlog")
    result = run_python(["-m", "agentlog", "app.py", "-u", "root", "-p", S["flag_p"]], tmp_path, env)
    assert result.returncode == 1 and "RuntimeError: connect failed" in result.stderr, result.stderr
    context = run_python(["-m", "agentlog", "context"], tmp_path, env)
    assert context.returncode == 0, context.stderr

    blobs = {str(p): p.read_text(errors="replace") for p in (tmp_path / ".agentlog").rglob("*") if p.is_file()}
    blobs["agentlog context"] = context.stdout
    records = "".join(v for k, v in blobs.items() if k.endswith(".jsonl"))
    # Recorded where the secrets were, so their absence means something.
    for seen in ("an early failure", "connect failed with token", "cookie_header", "sigv4", "get_pin", "-u"):
        assert seen in records, seen
    for name, secret in {**S, "pin": str(PIN)}.items():
        pieces = [secret[i : i + 6] for i in range(len(secret) - 5)]
        for where, text in blobs.items():
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"{name}: {leaked[:2]} in {where}"
