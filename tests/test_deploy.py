"""The monitoring files in ``deploy/``: they parse, and every metric they use is one the app
really exposes at ``GET /metrics``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.kit.clock import FrozenClock
from huntaze.outbox.service import Claimed
from huntaze.platforms.base import OutgoingMessage

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "huntaze-messaging.json"

EXPECTED_ALERTS = {
    "HuntazeHighSendErrorRate",
    "HuntazeQueueDepthHigh",
    "HuntazeSendLatencyHigh",
    "HuntazeCircuitBreakerOpen",
    "HuntazeOldestMessageStale",
}
METRIC = re.compile(r"\bhuntaze_[a-z0-9_]+")
# The sample names a family of each type shows in the text format.
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
}


def _load_yaml(path: Path) -> Any:
    yaml = pytest.importorskip("yaml")  # pyyaml, from the test extras
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _alert_rules() -> dict[str, dict[str, Any]]:
    doc = _load_yaml(ALERTS)
    rules = [rule for group in doc["groups"] for rule in group["rules"]]
    names = [rule["alert"] for rule in rules if "alert" in rule]
    assert len(names) == len(set(names)), "duplicate alert names"
    return {rule["alert"]: rule for rule in rules if "alert" in rule}


def _dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    out: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def _dashboard_exprs() -> list[str]:
    dashboard = _dashboard()
    exprs = [target["expr"] for panel in _panels(dashboard) for target in panel["targets"]]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if isinstance(query, str) and variable.get("type") == "query":
            exprs.append(query)
    return exprs


@pytest.fixture
def exposed(settings: Settings, engine: Engine, clock: FrozenClock) -> set[str]:
    """The sample names ``GET /metrics`` can show, after a little traffic so the counters and
    the histogram have series."""
    app = create_app(settings, engine, clock)
    with TestClient(app) as client:
        metrics = client.app.state.ctx.metrics  # type: ignore[attr-defined]
        metrics.queued("onlyfans", 1)
        item = Claimed(
            message=OutgoingMessage(
                message_id="msg_deploy",
                idempotency_key="idem_deploy",
                account_id="acc_deploy",
                platform="onlyfans",
                recipient="fan_1",
                content="hello",
            ),
            account_id="acc_deploy",
            channel="onlyfans",
            attempts=1,
            max_attempts=5,
            claimed_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        )
        for outcome in ("sent", "failed", "retry"):
            metrics.observe(item, outcome, 0.2)
        response = client.get("/metrics")
    assert response.status_code == 200, response.text
    names: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def _metrics_in(expr: str) -> set[str]:
    return set(METRIC.findall(expr))


def test_alerts_have_the_expected_fields() -> None:
    rules = _alert_rules()
    assert not EXPECTED_ALERTS - set(rules), sorted(EXPECTED_ALERTS - set(rules))
    for name in EXPECTED_ALERTS:
        rule = rules[name]
        assert isinstance(rule.get("expr"), str) and rule["expr"].strip(), name
        assert re.fullmatch(r"\d+[smhd]", str(rule.get("for", ""))), name
        assert rule.get("labels", {}).get("severity") in {"critical", "warning", "info"}, name
        assert rule.get("annotations", {}).get("summary"), name
        assert rule["annotations"].get("description"), name


def test_alert_annotations_only_use_labels_the_expr_keeps() -> None:
    for name, rule in _alert_rules().items():
        kept = {
            label.strip()
            for group in re.findall(r"\bby\s*\(([^)]*)\)", rule["expr"])
            for label in group.split(",")
        }
        text = " ".join(rule.get("annotations", {}).values())
        used = set(re.findall(r"\$labels\.(\w+)", text))
        assert used <= kept, f"{name} uses {used - kept}, its expr keeps only {kept}"


def test_alert_thresholds_match_the_spec() -> None:
    rules = _alert_rules()
    assert re.search(r">\s*0\.05\s*$", rules["HuntazeHighSendErrorRate"]["expr"].strip())
    assert re.search(r">\s*100\s*$", rules["HuntazeQueueDepthHigh"]["expr"].strip())
    assert "histogram_quantile" in rules["HuntazeSendLatencyHigh"]["expr"]
    assert re.search(r">\s*5\s*$", rules["HuntazeSendLatencyHigh"]["expr"].strip())
    assert re.search(r"==\s*2\s*$", rules["HuntazeCircuitBreakerOpen"]["expr"].strip())
    assert re.search(r">\s*3600\s*$", rules["HuntazeOldestMessageStale"]["expr"].strip())
    assert rules["HuntazeQueueDepthHigh"]["for"] == "5m"
    assert rules["HuntazeCircuitBreakerOpen"]["for"] == "1m"


def test_alert_metrics_are_exposed(exposed: set[str]) -> None:
    for name, rule in _alert_rules().items():
        used = _metrics_in(rule["expr"])
        assert used, f"{name} uses no huntaze metric"
        assert used <= exposed, f"{name} uses unknown metrics {sorted(used - exposed)}"


def test_dashboard_metrics_are_exposed(exposed: set[str]) -> None:
    exprs = _dashboard_exprs()
    assert exprs
    for expr in exprs:
        used = _metrics_in(expr)
        assert used, f"no huntaze metric in {expr!r}"
        assert used <= exposed, f"unknown metrics {sorted(used - exposed)} in {expr!r}"


def test_every_exposed_family_is_charted(exposed: set[str]) -> None:
    charted = set().union(*(_metrics_in(expr) for expr in _dashboard_exprs()))
    ours = {name for name in exposed if name.startswith("huntaze_")}
    families = {
        "huntaze_messages_queued_total",
        "huntaze_messages_sent_total",
        "huntaze_messages_failed_total",
        "huntaze_message_retries_total",
        "huntaze_send_latency_seconds_bucket",
        "huntaze_queue_depth",
        "huntaze_queue_oldest_created_timestamp_seconds",
        "huntaze_outbox_messages",
        "huntaze_circuit_breaker_state",
    }
    assert families <= ours
    assert families <= charted, f"not charted: {sorted(families - charted)}"


def test_dashboard_panels() -> None:
    dashboard = _dashboard()
    assert dashboard["title"]
    assert dashboard["uid"]
    assert dashboard["schemaVersion"] >= 36
    assert any(i["name"] == "DS_PROMETHEUS" for i in dashboard["__inputs"])
    panels = _panels(dashboard)
    assert panels
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in panels:
        assert panel.get("title"), panel
        assert panel.get("targets"), panel["title"]
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        for target in panel["targets"]:
            assert target.get("expr") and target.get("refId"), panel["title"]


def test_prometheus_config_loads_the_rules() -> None:
    config = _load_yaml(PROMETHEUS)
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:8000"]
    assert "HUNTAZE_METRICS_TOKEN" in PROMETHEUS.read_text(encoding="utf-8")
