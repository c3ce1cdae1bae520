"""Crash capture end to end: real programs crash under ``python -m agentlog``; records are checked."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest
from support import both, child_env, needs_pth, read_records, run_python


def crash(write_script, tmp_path, data_dir, source: str, *args: str, env: dict | None = None):
    """Run ``source`` under the launcher; return (result, failure records)."""
    write_script("prog.py", source)
    result = run_python(["-m", "agentlog", *args, "prog.py"], tmp_path, env or child_env(data_dir))
    failures = read_records(data_dir, "failure") if data_dir.exists() else []
    return result, failures


def user_frames(exc: dict) -> list[dict]:
    return [f for f in exc["frames"] if f.get("u")]


class TestScriptCrash:
    def test_frames_locals_and_source(self, write_script, tmp_path, data_dir):
        """Every user frame is recorded innermost first, with locals and source around the line."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def parse(raw):
                fields = raw.split(",")
                return int(fields[1])

            def load(lines):
                total = 0
                for line in lines:
                    total += parse(line)
                return total

            load(["a,1", "b,x"])
        """)
        assert result.returncode == 1
        [failure] = failures
        exc = failure["exc"]
        assert exc["t"] == "ValueError"
        assert "invalid literal for int()" in exc["m"]
        frames = user_frames(exc)
        assert [f["f"] for f in frames] == ["parse", "load", "<module>"]
        inner = frames[0]
        assert inner["loc"]["raw"] == {"t": "str", "v": "'b,x'", "l": 3}
        assert inner["loc"]["fields"]["l"] == 2
        assert frames[1]["loc"]["total"]["v"] == "1"
        assert [n for n, _ in inner["src"]] == [2, 3, 4, 6]  # line 5 is blank: left out
        assert any("int(fields[1])" in text for _, text in inner["src"])
        for key in ("sv", "sid", "pid", "tid", "th", "ts", "id"):
            assert key in failure

    def test_module_crash(self, write_script, tmp_path, data_dir):
        """``-m package.module`` crashes are recorded the same way."""
        write_script("pkg/__init__.py", "")
        write_script("pkg/job.py", "def run(n):\n    return 10 // n\nrun(0)\n")
        result = run_python(["-m", "agentlog", "-m", "pkg.job"], tmp_path, child_env(data_dir))
        assert result.returncode == 1
        [failure] = read_records(data_dir, "failure")
        assert failure["exc"]["t"] == "ZeroDivisionError"
        assert user_frames(failure["exc"])[0]["loc"]["n"]["v"] == "0"

    def test_no_record_without_failure(self, write_script, tmp_path, data_dir):
        """A clean run or sys.exit(0) writes no failure record (a non-zero exit does: test_context_scope_e2e)."""
        result, failures = crash(write_script, tmp_path, data_dir, "import sys\nsys.exit(0)\n")
        assert result.returncode == 0
        assert failures == []


class TestConcurrencyCrashes:
    def test_thread_crash(self, write_script, tmp_path, data_dir):
        """An exception in a thread is recorded with that thread's name and locals."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import threading
            def worker(job_id):
                payload = {"job": job_id}
                raise KeyError(payload["missing"])
            t = threading.Thread(target=worker, args=(7,), name="loader-1")
            t.start(); t.join()
            print("main continues")
        """)
        assert result.returncode == 0
        assert result.stdout == "main continues\n"
        [failure] = failures
        assert failure["src"] == "thread"
        assert failure["th"] == "loader-1"
        assert user_frames(failure["exc"])[0]["loc"]["job_id"]["v"] == "7"

    def test_thread_crash_with_user_threading_excepthook(self, write_script, tmp_path, data_dir):
        """A program that replaces threading.excepthook keeps its output; the thread's failure is still recorded."""
        write_script("prog.py", (
            "import threading\n"
            "threading.excepthook = lambda args: print('mine:', args.exc_value)\n"
            "def work(n):\n"
            "    return 10 // n\n"
            "t = threading.Thread(target=work, args=(0,))\n"
            "t.start(); t.join()\n"
        ))
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        [failure] = read_records(data_dir, "failure")
        assert failure["src"] == "thread" and user_frames(failure["exc"])[0]["loc"]["n"]["v"] == "0"

    def test_asyncio_run_crash(self, write_script, tmp_path, data_dir):
        """A coroutine crash under asyncio.run keeps the coroutine's locals."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import asyncio
            async def fetch(url):
                retries = 3
                raise ConnectionError(f"cannot reach {url}")
            async def main():
                await fetch("http://example.invalid/api")
            asyncio.run(main())
        """)
        assert result.returncode == 1
        [failure] = failures
        fetch = next(f for f in user_frames(failure["exc"]) if f["f"] == "fetch")
        assert fetch["loc"]["retries"]["v"] == "3"

    def test_asyncio_unretrieved_task_exception(self, write_script, tmp_path, data_dir):
        """A task whose exception is never retrieved is recorded via the loop's handler."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import asyncio, gc
            async def background(batch):
                size = len(batch)
                raise RuntimeError(f"batch of {size} failed")
            async def main():
                asyncio.get_running_loop().create_task(background([1, 2, 3]))
                await asyncio.sleep(0.05)
            asyncio.run(main())
            gc.collect()
            print("done")
        """)
        assert result.returncode == 0
        assert "done" in result.stdout
        assert "Task exception was never retrieved" in result.stderr
        [failure] = failures
        assert failure["src"] == "asyncio"
        assert user_frames(failure["exc"])[0]["loc"]["size"]["v"] == "3"

    @needs_pth
    def test_spawn_pool_worker_crash(self, write_script, tmp_path, data_dir):
        """A spawn Pool worker's own frames and locals are recorded, not only the parent's text."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import multiprocessing as mp
            def work(item):
                scale = item["scale"]
                return 10 / scale
            if __name__ == "__main__":
                mp.set_start_method("spawn")
                with mp.Pool(2) as pool:
                    print(pool.map(work, [{"scale": 1}, {"scale": 0}]))
        """)
        assert result.returncode == 1
        worker = [f for f in failures if f["src"] == "mp_worker"]
        parent = [f for f in failures if f["src"] == "excepthook"]
        assert len(worker) == 1 and len(parent) == 1
        assert worker[0]["pid"] != parent[0]["pid"]
        assert worker[0]["sid"] == parent[0]["sid"]
        frame = user_frames(worker[0]["exc"])[0]
        assert frame["f"] == "work"
        assert frame["loc"]["scale"]["v"] == "0"

    @pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
    def test_fork_pool_worker_crash(self, write_script, tmp_path, data_dir):
        """A fork Pool worker inherits the hooks and records its own frames and locals."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import multiprocessing as mp
            def work(n):
                divisor = n - 3
                return 100 // divisor
            if __name__ == "__main__":
                with mp.get_context("fork").Pool(2) as pool:
                    print(pool.map(work, range(5)))
        """)
        assert result.returncode == 1
        assert "ZeroDivisionError" in result.stderr
        [worker] = [f for f in failures if f["src"] == "mp_worker"]
        frame = user_frames(worker["exc"])[0]
        assert frame["f"] == "work" and frame["loc"]["divisor"]["v"] == "0"
        assert any(f["src"] == "excepthook" and f["pid"] != worker["pid"] for f in failures)
        from agentlog.context.builder import get_debug_context

        context = get_debug_context(max_tokens=3000, data_dir=data_dir)
        assert f"in worker pid={worker['pid']}: ZeroDivisionError" in context
        assert "divisor: int = 0" in context

    @needs_pth
    def test_process_child_crash(self, write_script, tmp_path, data_dir):
        """A crashing ``Process`` child is recorded with its locals; its printed traceback is unchanged."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            import multiprocessing as mp
            def child(path):
                with open(path) as fh:
                    return fh.read()
            if __name__ == "__main__":
                mp.set_start_method("spawn")
                p = mp.Process(target=child, args=("/nonexistent/config.ini",))
                p.start(); p.join()
                print("exit", p.exitcode)
        """)
        assert result.returncode == 0
        assert "exit 1" in result.stdout
        plain = run_python(["prog.py"], tmp_path, child_env(data_dir))
        assert result.stderr == plain.stderr and "agentlog" not in result.stderr
        [failure] = failures
        assert failure["src"] == "mp_process"
        assert user_frames(failure["exc"])[0]["loc"]["path"]["v"] == "'/nonexistent/config.ini'"

    @needs_pth
    def test_env_activation(self, write_script, tmp_path, data_dir):
        """``AGENTLOG=true python prog.py`` records without the launcher, output unchanged."""
        write_script("prog.py", "x = 41\nprint('hi')\nraise ValueError(x + 1)\n")
        plain = run_python(["prog.py"], tmp_path, child_env(data_dir))
        traced = run_python(["prog.py"], tmp_path, child_env(data_dir, AGENTLOG="true"))
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        [failure] = read_records(data_dir, "failure")
        assert failure["exc"]["m"] == "42"


class TestChains:
    def test_cause_context_notes_and_groups(self, write_script, tmp_path, data_dir):
        """__cause__, __context__, __notes__ and ExceptionGroup members are all kept."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def load(name):
                try:
                    return {}[name]
                except KeyError as exc:
                    raise LookupError(f"no setting {name}") from exc
            def main():
                errors = []
                for name in ("host", "port"):
                    try:
                        load(name)
                    except LookupError as exc:
                        exc.add_note(f"while loading {name}")
                        errors.append(exc)
                try:
                    raise ExceptionGroup("config invalid", errors)
                except ExceptionGroup:
                    raise RuntimeError("startup failed")
            main()
        """)
        assert result.returncode == 1
        exc = failures[0]["exc"]
        assert exc["t"] == "RuntimeError"
        group = exc["ctx"]
        assert group["t"] == "ExceptionGroup"
        assert [m["m"] for m in group["group"]] == ["no setting host", "no setting port"]
        assert group["group"][0]["notes"] == ["while loading host"]
        assert group["group"][0]["cause"]["t"] == "KeyError"

    def test_recursion_collapsed(self, write_script, tmp_path, data_dir):
        """A RecursionError collapses repeated frames and the record stays small."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def walk(node, depth):
                return walk(node, depth + 1)
            walk({"id": 1}, 0)
        """)
        assert result.returncode == 1
        exc = failures[0]["exc"]
        assert exc["t"] == "RecursionError"
        assert len(exc["frames"]) < 20
        assert max(f.get("rep", 0) for f in exc["frames"]) > 100
        assert os.path.getsize(data_dir / "records.jsonl") < 64 * 1024


    def test_mutual_recursion_collapsed_with_own_locals(self, write_script, tmp_path, data_dir):
        """a -> b -> a ... collapses to one repeated two-frame block; each kept frame shows its own locals."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def a(n):
                return b(n - 1)
            def b(n):
                return a(n - 1)
            a(10 ** 6)
        """)
        assert result.returncode == 1
        frames = failures[0]["exc"]["frames"]
        assert frames[0]["f"] == "a" and frames[0]["per"] == 2 and frames[0]["rep"] > 100
        assert frames[1]["f"] == "b"
        inner_n = int(frames[0]["loc"]["n"]["v"])
        assert int(frames[1]["loc"]["n"]["v"]) == inner_n + 1
        outer_a = [f for f in frames if f["f"] == "a"][-1]
        assert outer_a["loc"]["n"]["v"] == str(10**6)


class TestHostileValues:
    HOSTILE = """
        import time
        calls = []
        class Raises:
            def __repr__(self): raise RuntimeError("repr exploded")
        class Huge:
            def __repr__(self): return "x" * 5_000_000
        class Slow:
            def __repr__(self):
                time.sleep(30); return "slow"
        class Cyclic:
            def __init__(self): self.me = self
            def __repr__(self): return f"Cyclic({self.me!r})"
        class Noisy:
            def __repr__(self):
                calls.append(1); print("Noisy.__repr__ ran"); return "Noisy()"
        def boom(a, b, c, d, e):
            raise ValueError("hostile")
        import atexit
        atexit.register(lambda: print("repr calls:", len(calls)))
        boom(Raises(), Huge(), Slow(), Cyclic(), Noisy())
    """

    def test_user_reprs_not_called_by_default(self, write_script, tmp_path, data_dir):
        """The program's own __repr__ never runs by default: no output, no state change, attributes instead."""
        start = time.monotonic()
        result, failures = crash(write_script, tmp_path, data_dir, self.HOSTILE)
        assert time.monotonic() - start < 10
        assert result.returncode == 1
        assert result.stdout == "repr calls: 0\n"
        assert result.stderr.rstrip().endswith("ValueError: hostile")
        loc = user_frames(failures[0]["exc"])[0]["loc"]
        for name, cls in zip("abce", ("Raises", "Huge", "Slow", "Noisy"), strict=True):
            assert loc[name]["v"] == f"<__main__.{cls} object>" and "note" not in loc[name]
        assert loc["d"]["attrs"]["me"]["note"] == "cycle"

    def test_hostile_reprs_guarded_when_enabled(self, write_script, tmp_path, data_dir):
        """With AGENTLOG_USER_REPR=1, raising, 5 MB, slow and cyclic reprs cost a note each, not a crash or a hang."""
        start = time.monotonic()
        env = child_env(data_dir, AGENTLOG_USER_REPR="1")
        result, failures = crash(write_script, tmp_path, data_dir, self.HOSTILE, env=env)
        assert time.monotonic() - start < 20
        assert result.returncode == 1
        assert result.stderr.rstrip().endswith("ValueError: hostile")
        loc = user_frames(failures[0]["exc"])[0]["loc"]
        assert "repr raised RuntimeError" in loc["a"]["note"]
        assert loc["b"]["x"] > 4_000_000 and len(loc["b"]["v"]) <= 210
        assert "timed out" in loc["c"]["note"]
        assert "RecursionError" in loc["d"]["note"]

    def test_user_exception_str_not_called(self, write_script, tmp_path, data_dir):
        """An exception class's own __str__ runs once (for Python's traceback), never for AgentLog."""
        write_script("prog.py", (
            "class E(Exception):\n"
            "    def __str__(self):\n"
            "        print('E.__str__ called')\n"
            "        return 'shown by python'\n"
            "def f():\n"
            "    raise E('order 7 rejected')\n"
            "f()\n"
        ))
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert traced.stdout.count("E.__str__ called") == 1
        assert read_records(data_dir, "failure")[0]["exc"]["m"] == "order 7 rejected"  # from args

    def test_huge_values_bounded(self, write_script, tmp_path, data_dir):
        """A 20 MB string and a 2M-item list keep their lengths in a record under 64 KB."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def process(blob, rows, table):
                raise MemoryError("simulated")
            process("a" * 20_000_000, list(range(2_000_000)), {i: str(i) for i in range(200_000)})
        """)
        assert result.returncode == 1
        loc = user_frames(failures[0]["exc"])[0]["loc"]
        assert loc["blob"]["l"] == 20_000_000 and loc["blob"]["x"] > 19_000_000
        assert loc["rows"]["l"] == 2_000_000 and loc["rows"]["more"] > 0
        assert loc["table"]["l"] == 200_000
        assert os.path.getsize(data_dir / "records.jsonl") < 64 * 1024


class TestSecrets:
    def test_secrets_never_on_disk_or_in_context(self, write_script, tmp_path, data_dir):
        """Secrets in locals, nested dicts, messages, argv and source never reach any file or the context."""
        github = "ghp_" + "Z" * 36
        aws = "AKIA" + "Q" * 16
        url_pw = "s3cr3t-Pa55"
        result, failures = crash(write_script, tmp_path, data_dir, f"""
            import sys
            class Client:
                def __init__(self):
                    self.auth_token = "{github[:4]}" + "{github[4:]}"
                    self.settings = {{"db": {{"password": "hunter2-hunter2"}}, "region": "eu"}}
            import os
            def connect(client, dsn):
                api_key = "plain-value-123456"
                SECRET_KEY = b"bytes-secret-42x"
                cfg = {{"password": b"pw_bytes_123", "user": "bob"}}
                region_hint = os.environ["DEPLOY_SECRET"]
                aws_id = "{aws}"
                hints = f"{{region_hint}} {{aws_id}} {{cfg}}"
                raise PermissionError(f"denied for {{dsn}} with {{client.auth_token}} {{hints}}")
            connect(Client(), "postgres://app:{url_pw}@db:5432/prod")
        """, env=child_env(data_dir, DEPLOY_SECRET="env-secret-" + "9" * 12))
        assert result.returncode == 1
        assert failures
        from agentlog.context.builder import get_debug_context

        context = get_debug_context(max_tokens=4000, data_dir=data_dir)
        blobs = [context] + [p.read_text(errors="replace") for p in data_dir.rglob("*") if p.is_file()]
        secrets = (github, aws, url_pw, "hunter2-hunter2", "plain-value-123456", "env-secret-" + "9" * 12,
                   "bytes-secret-42x", "pw_bytes_123")
        for secret in secrets:
            for blob in blobs:
                assert secret not in blob
        assert "[REDACTED:" in context
        assert "postgres://app:" in context  # user and host survive


    def test_secret_arguments_redacted(self, write_script, tmp_path, data_dir):
        """``--password X`` and URL passwords in the program's argv never reach the data dir."""
        write_script("prog.py", "import sys\nraise SystemError(len(sys.argv))\n")
        args = ["prog.py", "--password", "hunter22-pw", "--db=postgres://u:pw9999x@h/d", "--verbose"]
        result = run_python(["-m", "agentlog", *args], tmp_path, child_env(data_dir))
        assert result.returncode == 1
        [failure] = read_records(data_dir, "failure")
        assert failure["argv"][0] == "prog.py" and failure["argv"][-1] == "--verbose"
        raw = "".join(p.read_text() for p in data_dir.rglob("*") if p.is_file())
        assert "hunter22-pw" not in raw and "pw9999x" not in raw


class TestStoreRobustness:
    def test_corrupt_line_skipped(self, write_script, tmp_path, data_dir):
        """A torn line in the store is skipped with a warning; other records still show."""
        crash(write_script, tmp_path, data_dir, "raise ValueError('first')\n")
        with open(data_dir / "records.jsonl", "ab") as fh:
            fh.write(b'{"sv":1,"k":"failure","exc":{"t":"Torn\n')
        write_script("prog.py", "raise TypeError('second')\n")
        run_python(["-m", "agentlog", "prog.py"], tmp_path, child_env(data_dir))
        result = run_python(["-m", "agentlog", "list"], tmp_path, child_env(data_dir))
        assert result.returncode == 0
        lines = result.stdout.splitlines()
        assert "TypeError: second" in lines[0] and "ValueError: first" in lines[1]
        assert "skipped 1 corrupt line" in result.stderr

    @pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else False,
                        reason="root can write anywhere; covered by the not-a-directory case")
    def test_unwritable_data_dir_permissions(self, write_script, tmp_path, data_dir):
        """A read-only data dir: the program runs unchanged, one warning line."""
        data_dir.mkdir(mode=0o500)
        result, _ = crash(write_script, tmp_path, data_dir, "print('ran')\nraise ValueError(1)\n")
        assert result.returncode == 1 and result.stdout == "ran\n"
        assert "agentlog: warning [data-dir-unwritable]" in result.stderr

    def test_data_dir_is_a_file(self, write_script, tmp_path, data_dir):
        """A data dir path that is a file: the program still runs and exits as usual, with a warning."""
        data_dir.write_text("not a dir")
        write_script("prog.py", "print('ran')\nraise ValueError(1)\n")
        plain = run_python(["prog.py"], tmp_path, child_env(data_dir))
        traced = run_python(["-m", "agentlog", "prog.py"], tmp_path, child_env(data_dir))
        assert traced.returncode == plain.returncode == 1
        assert traced.stdout == plain.stdout
        warning, rest = traced.stderr.split("\n", 1)
        assert warning.startswith("agentlog: warning [data-dir-unwritable]")
        assert rest == plain.stderr
        assert data_dir.read_text() == "not a dir"


class TestContextCommand:
    def test_context_newest_first_within_budget(self, write_script, tmp_path, data_dir):
        """``agentlog context`` shows the newest failure first and respects --max-tokens."""
        crash(write_script, tmp_path, data_dir, "def old():\n    raise KeyError('older')\nold()\n")
        crash(write_script, tmp_path, data_dir, "def new(v):\n    raise TypeError('newer')\nnew(5)\n")
        env = child_env(data_dir)
        full = run_python(["-m", "agentlog", "context"], tmp_path, env)
        assert full.returncode == 0
        assert full.stdout.index("TypeError: newer") < full.stdout.index("KeyError: 'older'")
        assert "v: int = 5" in full.stdout
        small = run_python(["-m", "agentlog", "context", "--max-tokens", "60"], tmp_path, env)
        from agentlog.context.tokencount import count_tokens

        assert count_tokens(small.stdout) <= 60
        assert "TypeError: newer" in small.stdout

    def test_context_json(self, write_script, tmp_path, data_dir):
        """The JSON format carries whole failure records, newest first."""
        crash(write_script, tmp_path, data_dir, "raise KeyError('a')\n")
        crash(write_script, tmp_path, data_dir, "raise OSError('b')\n")
        args = ["-m", "agentlog", "context", "--format", "json", "--max-tokens", "100000"]
        out = run_python(args, tmp_path, child_env(data_dir))
        data = json.loads(out.stdout)
        assert [f["exc"]["t"] for f in data["failures"]] == ["OSError", "KeyError"]
        assert data["total"] == 2

    def test_bad_max_tokens(self, tmp_path, data_dir):
        """A bad --max-tokens is a one-line usage error."""
        out = run_python(["-m", "agentlog", "context", "--max-tokens", "zero"], tmp_path, child_env(data_dir))
        assert out.returncode == 2
        assert "not an integer: 'zero'" in out.stderr

    def test_clear(self, write_script, tmp_path, data_dir):
        """``agentlog clear`` removes the data dir; ``list`` then reports nothing."""
        crash(write_script, tmp_path, data_dir, "raise KeyError('a')\n")
        env = child_env(data_dir)
        assert run_python(["-m", "agentlog", "clear"], tmp_path, env).returncode == 0
        assert not data_dir.exists()
        assert run_python(["-m", "agentlog", "list"], tmp_path, env).stdout == "No failures recorded.\n"


def test_python_version_supported():
    """The suite runs on an interpreter with sys.monitoring (3.12+)."""
    assert sys.version_info >= (3, 12)


class TestWorkingDirectory:
    @needs_pth
    def test_chdir_before_crash(self, write_script, tmp_path):
        """The data dir is fixed at activation: a program that changes directory still records there."""
        (tmp_path / "elsewhere").mkdir()
        write_script("prog.py", "import os\nos.chdir('elsewhere')\nraise ValueError('moved')\n")
        env = child_env(None, AGENTLOG="1")
        result = run_python(["prog.py"], tmp_path, env)
        assert result.returncode == 1
        assert [r["exc"]["m"] for r in read_records(tmp_path / ".agentlog", "failure")] == ["moved"]
        assert not (tmp_path / "elsewhere" / ".agentlog").exists()


class TestTrailLines:
    def test_raise_inside_with_and_except_reports_the_raise_line(self, write_script, tmp_path, data_dir):
        """The trail says where the exception was raised, as the traceback does, not the with/except line."""
        result, failures = crash(write_script, tmp_path, data_dir, """
            def read(path):
                with open(path) as fh:
                    data = fh.read()
                    raise RuntimeError("in with")
            def price(order):
                try:
                    return order["price"]
                except KeyError as exc:
                    raise ValueError("no price") from exc
            def main():
                try:
                    read(__file__)
                except RuntimeError:
                    pass
                price({})
            main()
        """)
        assert result.returncode == 1
        failure = failures[0]
        fns = failure["trail"]["fn"]
        raised = {fns[c["c"]][0]: c["ln"] for c in failure["trail"]["calls"] if c.get("end") == "exc"}
        assert raised["price"] == 10 and raised["main"] == 16


@needs_pth
def test_process_child_printing_a_handled_exception_is_no_failure(write_script, tmp_path, data_dir):
    """A Process child that prints an exception it handled (traceback.print_exc) records nothing."""
    result, failures = crash(write_script, tmp_path, data_dir, """
        import multiprocessing as mp, traceback
        def child(n):
            try:
                {}["handled"]
            except KeyError:
                traceback.print_exc()
        if __name__ == "__main__":
            mp.set_start_method("spawn")
            p = mp.Process(target=child, args=(1,))
            p.start(); p.join()
            print("exit", p.exitcode)
    """)
    assert result.returncode == 0 and "exit 0" in result.stdout
    assert "KeyError: 'handled'" in result.stderr
    assert failures == []
