"""OpenTelemetry export: OTLP/JSON that opentelemetry-proto parses, and OTLP/HTTP against a real receiver."""

from __future__ import annotations

import json

import pytest
from otlp_support import OTLPReceiver, decode
from session_support import leaked, make_session, session_id
from support import child_env, read_records, run_python

pytest.importorskip("opentelemetry.proto", reason="pip install opentelemetry-proto (the test extra)")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return make_session(tmp_path_factory.mktemp("otel"))


def attrs(item) -> dict:
    from google.protobuf import json_format

    return {kv.key: json_format.MessageToDict(kv.value) for kv in item.attributes}


def parse_file(path):
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    traces, logs = (line.encode() for line in lines)
    return decode("traces", traces, "application/json"), decode("logs", logs, "application/json")


def export(data, project, *args):
    return run_python(["-m", "agentlog", "export", *args], project, child_env(data))


class TestOtlpJson:
    def test_file_parses_with_ids_of_the_right_size(self, recorded, tmp_path):
        """`agentlog export --otlp` writes a traces and a logs request whose ids decode to 16 and 8 bytes."""
        data, project = recorded
        result = export(data, project, "--otlp", str(tmp_path / "out.jsonl"))
        assert result.returncode == 0, result.stderr
        traces, _ = parse_file(tmp_path / "out.jsonl")
        spans = [s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans]
        assert len({s.trace_id for s in spans}) == 1
        assert all(len(s.trace_id) == 16 and len(s.span_id) == 8 for s in spans)
        ids = {s.span_id for s in spans}
        assert len(ids) == len(spans), "span ids repeat"
        assert all(s.parent_span_id in ids for s in spans if s.parent_span_id), "a parent that is not exported"
        assert f"wrote {len(spans)} spans and 1 log records" in result.stdout

    def test_spans_nest_like_the_calls(self, recorded, tmp_path):
        """Session span at the root, the exec and the trail under it, charge inside checkout, times inside."""
        data, project = recorded
        export(data, project, "--otlp", str(tmp_path / "out.jsonl"))
        traces, _ = parse_file(tmp_path / "out.jsonl")
        spans = {s.name: s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans}
        root = spans["invoke_agent claude-code"]
        assert not root.parent_span_id and attrs(root)["gen_ai.agent.name"] == {"stringValue": "claude-code"}
        tool = next(s for name, s in spans.items() if name.startswith("execute_tool "))
        assert tool.parent_span_id == root.span_id
        assert attrs(tool)["gen_ai.operation.name"] == {"stringValue": "execute_tool"}
        module, checkout, charge = spans["<module>"], spans["checkout"], spans["charge"]
        assert module.parent_span_id == root.span_id
        assert checkout.parent_span_id == module.span_id and charge.parent_span_id == checkout.span_id
        assert checkout.start_time_unix_nano <= charge.start_time_unix_nano <= charge.end_time_unix_nano
        assert charge.end_time_unix_nano <= checkout.end_time_unix_nano <= root.end_time_unix_nano
        assert root.start_time_unix_nano <= tool.start_time_unix_nano
        assert charge.status.code == 2 and charge.status.message == "ZeroDivisionError"
        assert attrs(charge)["code.function.name"] == {"stringValue": "charge"}

    def test_failure_is_a_fatal_exception_log_in_the_failing_call(self, recorded, tmp_path):
        """The crash is a FATAL `exception` log record with exception.* and code.*, in charge's span context."""
        data, project = recorded
        export(data, project, "--otlp", str(tmp_path / "out.jsonl"))
        traces, logs = parse_file(tmp_path / "out.jsonl")
        spans = {s.name: s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans}
        (log,) = [r for rl in logs.resource_logs for sl in rl.scope_logs for r in sl.log_records]
        assert (log.severity_number, log.severity_text, log.event_name) == (21, "FATAL", "exception")
        found = attrs(log)
        assert found["exception.type"] == {"stringValue": "RuntimeError"}
        assert "Traceback (most recent call last)" in found["exception.stacktrace"]["stringValue"]
        assert found["code.function.name"] == {"stringValue": "checkout"}
        assert found["code.file.path"]["stringValue"].endswith("crash.py")
        assert found["session.id"] == {"stringValue": session_id(data)}
        assert found["agentlog.failure.fingerprint"] == {"stringValue": read_records(data, "failure")[0]["fp"]}
        assert log.trace_id == spans["checkout"].trace_id
        assert log.span_id == spans["checkout"].span_id  # the deepest call that the RuntimeError left
        resource = attrs(logs.resource_logs[0].resource)
        assert resource["gen_ai.conversation.id"] == {"stringValue": session_id(data)}

    def test_no_trail_means_no_span_id(self, tmp_path):
        """A failure recorded without a call trail gets the session's trace id and no span id."""
        from agentlog.integrations.otel import to_otlp_logs

        record = {"sv": 1, "k": "failure", "sid": "s1", "pid": 1, "tid": 2, "th": "T", "ts": 1.5, "id": "abc",
                  "src": "thread", "exc": {"t": "KeyError", "m": "'x'", "frames": []}}
        (log,) = to_otlp_logs([record])["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        assert "spanId" not in log and len(log["traceId"]) == 32
        assert (log["severityNumber"], log["severityText"]) == (17, "ERROR")  # a thread died, not the process

    def test_unknown_session_is_one_line(self, recorded, tmp_path):
        data, project = recorded
        result = export(data, project, "--session", "nope", "--otlp", str(tmp_path / "x"))
        assert result.returncode == 1 and result.stderr.strip() == "agentlog export: no session matches 'nope'"


class TestOtlpHttp:
    @pytest.mark.parametrize("protocol", ["json", "protobuf"])
    def test_every_request_decodes(self, recorded, protocol):
        """Traces and logs arrive gzip-compressed at /v1/traces and /v1/logs and decode; nothing secret in them."""
        data, project = recorded
        with OTLPReceiver() as receiver:
            result = export(data, project, "--otlp-endpoint", receiver.url, "--protocol", protocol,
                            "--header", "x-api-key=hdr-secret-123")
        assert result.returncode == 0, result.stderr
        assert [s.path for s in receiver.seen] == ["/v1/traces", "/v1/logs"]
        assert all(s.headers["content-encoding"] == "gzip" and s.headers["x-api-key"] == "hdr-secret-123"
                   for s in receiver.seen)
        expected = "application/x-protobuf" if protocol == "protobuf" else "application/json"
        assert {s.headers["content-type"] for s in receiver.seen} == {expected}
        (traces,) = receiver.messages("traces")
        spans = [s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans]
        assert all(len(s.trace_id) == 16 and len(s.span_id) == 8 for s in spans)
        assert f"sent {len(spans)} spans and 1 log records in 2 requests" in result.stdout
        assert "hdr-secret-123" not in result.stdout + result.stderr
        assert leaked([s.body for s in receiver.seen]) == []

    def test_retries_honour_retry_after(self, recorded):
        """429 and 503 with Retry-After: 1 are retried after at least a second each; the export succeeds."""
        data, project = recorded
        with OTLPReceiver() as receiver:
            receiver.faults = [{"status": 429, "retry_after": "1"}, {"status": 503, "retry_after": "1"}]
            result = export(data, project, "--otlp-endpoint", receiver.url, "--protocol", "json")
        assert result.returncode == 0, result.stderr
        assert [s.answered for s in receiver.seen] == [429, 503, 200, 200]
        assert receiver.seen[1].at - receiver.seen[0].at >= 0.95
        assert receiver.seen[2].at - receiver.seen[1].at >= 0.95
        assert "HTTP 429; retrying in 1.0 s" in result.stderr
        assert len(receiver.messages("traces")) == 1  # the refused attempts were not counted as delivered

    def test_bad_request_is_not_retried(self, recorded):
        """A 400 stops the export at once with the receiver's message, exit 1, no traceback."""
        data, project = recorded
        with OTLPReceiver() as receiver:
            receiver.faults = [{"status": 400, "body": json.dumps({"code": 3, "message": "span too old"}).encode()}]
            result = export(data, project, "--otlp-endpoint", receiver.url, "--protocol", "json")
        assert result.returncode == 1
        assert len(receiver.seen) == 1
        assert result.stderr.strip() == f"agentlog export: {receiver.url}/v1/traces: HTTP 400: span too old"

    @pytest.mark.parametrize("protocol", ["json", "protobuf"])
    def test_partial_success_is_reported(self, recorded, protocol):
        """A partial success is not retried; its rejected count and message reach stderr and the exit code."""
        data, project = recorded
        with OTLPReceiver() as receiver:
            receiver.partial = {"rejectedSpans": "2", "errorMessage": "2 spans dropped: too large"}
            result = export(data, project, "--otlp-endpoint", receiver.url, "--protocol", protocol)
        assert len(receiver.seen) == 2
        assert "partial success: traces: 2 rejected: 2 spans dropped: too large" in result.stderr
        assert result.returncode == 1

    def test_unreachable_endpoint(self, recorded):
        """Nothing listening: a few retries with backoff, then one line."""
        data, project = recorded
        with OTLPReceiver() as receiver:
            url = receiver.url
        result = export(data, project, "--otlp-endpoint", url, "--attempts", "2", "--protocol", "json")
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1].startswith(f"agentlog export: {url}/v1/traces: connection failed")
        assert "Traceback" not in result.stderr


class TestRecordsStayRedacted:
    def test_the_session_holds_each_secret_redacted(self, recorded):
        """The fixture did put every secret somewhere (else the no-leak checks prove nothing)."""
        data, _ = recorded
        text = json.dumps(read_records(data))
        assert leaked([text.encode()]) == []
        failure = read_records(data, "failure")[0]
        assert failure["exc"]["cause"]["frames"][0]["loc"]["api_key"].get("red")
        assert "[REDACTED" in failure["exc"]["m"]
        assert any("[REDACTED" in line for line in failure["git"]["diff"])
        assert any("[REDACTED" in arg for arg in failure["argv"])
        assert "[REDACTED" in read_records(data, "exec")[0]["out"]

