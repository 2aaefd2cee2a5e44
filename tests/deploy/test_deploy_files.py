"""deploy/ checked with what runs here: manifests parse and reference real settings and
commands; every Grafana query runs against the real ClickHouse schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ailedger.cli import build_parser
from ailedger.settings import ApiSettings, WorkerSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KNOWN_ENV = {f"AILEDGER_{name.upper()}" for model in (ApiSettings, WorkerSettings) for name in model.model_fields}
COMMANDS = set(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001 - the CLI's own parser


def env_names(obj) -> set[str]:
    """Every AILEDGER_* variable name mentioned as a key anywhere in a manifest."""
    names = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str) and key.startswith("AILEDGER_"):
                names.add(key)
            if key == "name" and isinstance(value, str) and value.startswith("AILEDGER_"):
                names.add(value)
            names |= env_names(value)
    elif isinstance(obj, list):
        for item in obj:
            names |= env_names(item)
    return names


def test_compose_services_use_real_commands_and_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka", "clickhouse", "topics", "worker", "serve"} <= set(services)
    for name in ("topics", "worker", "serve"):
        assert services[name]["command"][0] in COMMANDS
    assert env_names(compose) <= KNOWN_ENV | {"AILEDGER_ADMIN_KEY"}
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


@pytest.mark.parametrize("manifest", sorted((DEPLOY / "kubernetes").glob("*.yaml")), ids=lambda p: p.name)
def test_kubernetes_manifests_are_well_formed(manifest):
    documents = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    assert documents
    for doc in documents:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            assert container["args"][0] in COMMANDS
    assert env_names(documents) <= KNOWN_ENV


def test_worker_statefulset_gives_static_membership():
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "worker.yaml").read_text()))
    env = docs[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    instance = next(e for e in env if e["name"] == "AILEDGER_INSTANCE_ID")
    assert instance["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


@pytest.mark.integration
def test_every_grafana_query_runs_on_the_real_schema(store):
    dashboard = json.loads((DEPLOY / "grafana" / "ailedger-dashboard.json").read_text())
    queries = [t["rawSql"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(queries) >= 8
    for sql in queries:
        concrete = re.sub(r"\$__timeFilter\(([^)]+)\)",
                          r"\1 >= now() - INTERVAL 7 DAY AND \1 <= now()", sql)
        assert "$" not in concrete
        store.query(concrete)  # raises on any unknown table, column or syntax error
