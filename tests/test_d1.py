"""Team sharing through D1: sync, share and pull against a real local D1 (miniflare), faults injected."""

from __future__ import annotations

import json

import pytest
from d1_support import ACCOUNT, DATABASE, TOKEN, d1_env, d1_fixture, miniflare_fixture  # noqa: F401 - fixtures
from session_support import leaked, make_session, session_id
from support import child_env, read_records, run_python

from agentlog.integrations.d1_client import D1Client, D1Settings, RateLimiter


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return make_session(tmp_path_factory.mktemp("d1"))


def agentlog(data, cwd, proxy, *args, token=TOKEN):
    return run_python(["-m", "agentlog", *args], cwd, child_env(data, **d1_env(proxy, token)))


def client(proxy) -> D1Client:
    return D1Client(D1Settings(ACCOUNT, DATABASE, TOKEN, proxy.api_url))


def remote_rows(proxy) -> list[dict]:
    return client(proxy).query("SELECT rkey, sid, body FROM agentlog_records ORDER BY rkey")


class TestSync:
    def test_sync_then_resync_sends_nothing_twice(self, recorded, d1):
        """Every record lands once; a second sync inserts nothing and sends no records."""
        data, project = recorded
        first = agentlog(data, project, d1, "sync", session_id(data))
        assert first.returncode == 0, first.stderr
        local = read_records(data)
        rows = remote_rows(d1)
        assert sorted(json.loads(r["body"])["k"] for r in rows) == sorted(r["k"] for r in local)
        assert f"sent {len(local)} records, 0 already there" in first.stdout
        second = agentlog(data, project, d1, "sync", "--all")
        assert second.returncode == 0, second.stderr
        assert f"sent 0 records, {len(local)} already there" in second.stdout
        assert len(remote_rows(d1)) == len(local)

    def test_faults_part_way_lose_and_duplicate_nothing(self, tmp_path, d1):
        """429 (Retry-After), 500 and a connection dropped after D1 committed: every record once."""
        from agentlog.integrations import d1 as d1_sync

        data = tmp_path / "data"
        records = [{"sv": 1, "k": "decision", "sid": "many", "pid": 1, "tid": 1, "th": "T", "ts": 1000.0 + i,
                    "what": f"step {i}", "why": "x" * 3000} for i in range(700)]
        data.mkdir()
        (data / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        # requests: schema (3), keys (1), then 3 inserts of ~1 MB: the 2nd meets a 429 then a drop, the 3rd a 500.
        d1.faults = [None] * 5 + [{"status": 429, "retry_after": "1"}, {"drop": True}, None,
                                  {"status": 500}, None]
        result = d1_sync.sync_session_to_d1("many", data, client(d1))
        sent = list(d1.seen)
        rows = remote_rows(d1)
        assert len(rows) == 700 and len({r["rkey"] for r in rows}) == 700
        assert sorted(json.loads(r["body"])["what"] for r in rows) == sorted(r["what"] for r in records)
        assert [s.answered for s in sent] == [200] * 5 + [429, 0, 200, 500, 200]  # each fault happened
        assert result.sent == 700 and len(sent) == result.requests + 3  # the retries
        inserts = [json.loads(s.body) for s in sent if b"INSERT OR IGNORE INTO agentlog_records" in s.body]
        for body in inserts:
            assert len(body["batch"]) <= 50
            assert all(len(q["params"]) <= 100 and len(q["sql"].encode()) <= 100_000 for q in body["batch"])
        assert max(len(s.body) for s in sent) <= 1_100_000

    def test_resumes_after_giving_up(self, tmp_path, d1):
        """A sync that gives up part-way (503s past the last attempt) resumes: the rerun sends only the rest."""
        from agentlog.integrations import d1 as d1_sync
        from agentlog.integrations.d1_client import D1Error

        data = tmp_path / "data"
        data.mkdir()
        records = [{"sv": 1, "k": "decision", "sid": "resume", "pid": 1, "tid": 1, "th": "T", "ts": 1.0 + i,
                    "what": "y" * 20000} for i in range(120)]
        (data / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        d1.faults = [None] * 6 + [{"status": 503}] * 2
        impatient = client(d1)
        impatient.policy = impatient.policy._replace(attempts=2)
        with pytest.raises(D1Error, match="HTTP 503 after 2 attempts"):
            d1_sync.sync_session_to_d1("resume", data, impatient)
        partial = len(remote_rows(d1))
        assert 0 < partial < 120
        result = d1_sync.sync_session_to_d1("resume", data, client(d1))
        assert (result.sent, result.present) == (120 - partial, partial)
        assert len(remote_rows(d1)) == 120

    def test_bad_token_is_one_clear_line(self, recorded, d1):
        """401: one line naming the setting and the permission; the token is never printed."""
        data, project = recorded
        result = agentlog(data, project, d1, "sync", token="wrong-token-abcdef123456")
        assert result.returncode == 1
        assert len(d1.seen) == 1  # never retried
        line = result.stderr.strip()
        assert line.startswith("agentlog sync: D1 refused the API token (HTTP 401: 10000: Authentication error)")
        assert "CLOUDFLARE_API_TOKEN" in line and "D1 Edit" in line and "wrong-token" not in line

    def test_missing_settings(self, recorded, tmp_path):
        data, project = recorded
        env = {k: v for k, v in child_env(data).items() if not k.startswith("CLOUDFLARE")}
        result = run_python(["-m", "agentlog", "sync"], project, env)
        assert result.returncode == 1
        assert result.stderr.strip() == ("agentlog sync: set CLOUDFLARE_ACCOUNT_ID, AGENTLOG_D1_DATABASE_ID, "
                                         "CLOUDFLARE_API_TOKEN (README: Team sharing through Cloudflare D1)")


class TestSchema:
    def test_migrates_a_version_1_database(self, d1):
        """A database left at schema v1 (records, no shares table) is migrated to the current version."""
        from agentlog.integrations.d1_schema import SCHEMA_VERSION, ensure_schema, remote_version

        d1_client = client(d1)
        assert ensure_schema(d1_client, target=1) == 0
        d1_client.query("INSERT INTO agentlog_records VALUES ('k', 's', 1, 'x', '{}')")
        assert remote_version(d1_client) == 1
        assert ensure_schema(d1_client) == 1
        assert remote_version(d1_client) == SCHEMA_VERSION == 2
        d1_client.query("SELECT share_id FROM agentlog_shares")  # the v2 table exists
        assert len(remote_rows(d1)) == 1  # data kept

    def test_refuses_a_newer_database(self, d1):
        from agentlog.integrations.d1_client import D1Error
        from agentlog.integrations.d1_schema import SET_VERSION, ensure_schema

        d1_client = client(d1)
        ensure_schema(d1_client)
        d1_client.query(SET_VERSION, [9])
        with pytest.raises(D1Error, match="schema v9, newer than this AgentLog's v2: upgrade agentlog"):
            ensure_schema(d1_client)


class TestShareAndPull:
    def test_a_teammate_pulls_the_session(self, recorded, d1, tmp_path):
        """share prints an id; pull on another machine imports the records once; show works there."""
        data, project = recorded
        shared = agentlog(data, project, d1, "share", session_id(data)[:8])
        assert shared.returncode == 0, shared.stderr
        share_id = shared.stdout.strip()
        assert len(share_id) == 16
        theirs = tmp_path / "teammate"
        pulled = agentlog(theirs, tmp_path, d1, "pull", share_id)
        assert pulled.returncode == 0, pulled.stderr
        mine = read_records(data)
        assert sorted(map(json.dumps, read_records(theirs))) == sorted(map(json.dumps, mine))
        assert f"imported {len(mine)} records, 0 already here" in pulled.stdout
        again = agentlog(theirs, tmp_path, d1, "pull", share_id)
        assert f"imported 0 records, {len(mine)} already here" in again.stdout
        assert len(read_records(theirs)) == len(mine)
        show = agentlog(theirs, tmp_path, d1, "show", session_id(data))
        assert show.returncode == 0 and "fix checkout" in show.stdout
        context = agentlog(theirs, tmp_path, d1, "context")
        assert "RuntimeError" in context.stdout

    def test_sharing_a_run_includes_its_sub_sessions(self, d1, tmp_path):
        """A failure in a session the program started (start_session) travels with the run shared."""
        project, data = tmp_path / "proj", tmp_path / "proj" / ".agentlog"
        project.mkdir()
        (project / "app.py").write_text(
            "import agentlog\n"
            "with agentlog.start_session(task='inner'):\n"
            "    items = []\n"
            "    print(items[3])\n")
        ran = run_python(["-m", "agentlog", "app.py"], project, child_env(data))
        assert ran.returncode == 1 and "IndexError" in ran.stderr
        starts = [r for r in read_records(data) if r["k"] == "session_start"]
        [outer] = [r["sid"] for r in starts if not r.get("parent")]
        [inner] = [r["sid"] for r in starts if r.get("parent") == outer]
        assert any(r["k"] == "failure" and r["sid"] == inner for r in read_records(data))
        shared = agentlog(data, project, d1, "share", outer)
        assert shared.returncode == 0, shared.stderr
        theirs = tmp_path / "teammate"
        pulled = agentlog(theirs, tmp_path, d1, "pull", shared.stdout.strip())
        assert pulled.returncode == 0, pulled.stderr
        assert {r["sid"] for r in read_records(theirs)} == {outer, inner}
        context = agentlog(theirs, tmp_path, d1, "context")
        assert "IndexError" in context.stdout and "items" in context.stdout

    def test_unknown_share(self, recorded, d1, tmp_path):
        result = agentlog(tmp_path / "x", tmp_path, d1, "pull", "0123456789abcdef")
        assert result.returncode == 1
        assert result.stderr.strip() == f"agentlog pull: no share '0123456789abcdef' in D1 database {DATABASE}"


def test_nothing_unredacted_reaches_d1(recorded, d1):
    """Every request body sent to D1 by sync and share is free of the session's secrets."""
    data, project = recorded
    assert agentlog(data, project, d1, "share", session_id(data)).returncode == 0
    assert len(d1.seen) >= 5
    assert leaked([s.body for s in d1.seen]) == []
    assert all(TOKEN.encode() not in s.body for s in d1.seen)


class TestRateLimiter:
    def test_waits_when_the_window_is_full(self):
        """The limit+1st request in a window waits until the oldest one leaves it."""
        now, waits = [0.0], []

        def sleep(seconds):
            waits.append(seconds)
            now[0] += seconds

        limiter = RateLimiter(limit=3, window_s=300, clock=lambda: now[0], sleep=sleep)
        for _ in range(3):
            limiter.acquire()
            now[0] += 10
        limiter.acquire()
        assert waits == [270.0]
        now[0] += 300
        limiter.acquire()
        assert waits == [270.0]


class TestBatching:
    def test_limits_hold_for_any_mix_of_sizes(self):
        """Statements keep <= 100 params, requests <= 50 statements and ~1 MB; every row exactly once."""
        from agentlog.integrations.d1 import MAX_REQUEST_BYTES, Row, insert_batches

        sizes = [10, 900_000, 50, 1_999_000, *([300] * 2500), 600_000, 700_000]
        rows = [Row(f"k{i}", "s", float(i), "x", "b" * n) for i, n in enumerate(sizes)]
        requests = list(insert_batches(rows))
        seen = []
        for request in requests:
            assert len(request) <= 50
            assert all(len(params) <= 100 and len(params) % 5 == 0 for _sql, params in request)
            bodies = [p for _sql, params in request for p in params[4::5]]
            assert len(bodies) == 1 or sum(map(len, bodies)) <= MAX_REQUEST_BYTES
            seen += [p for _sql, params in request for p in params[0::5]]
        assert seen == [r.rkey for r in rows]
