"""The custom preset's templates: placeholders that cannot collide with PromQL braces, and
``callboard check`` refusing what a refresh could not run (issue 12, item 5).

The README's worked example runs against the real Prometheus in
tests/integration/test_prom_custom_live.py.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin, queries, templates

from console.cli import main
from console.core.model import Function
from console.errors import ConfigError
from console.plugin_api import PluginContext

REQUESTS = 'sum by ($by) (rate(orders_requests_total{job="shop", env=~"prod|eu"}[$window]))'
LATENCY = 'histogram_quantile($q, sum by ($by) (rate(orders_latency_seconds_bucket{job="shop"}[${window}])))'
OPTS = {
    "preset": "custom",
    "labels": {"service": ["job"], "route": ["path"], "code": ["code"]},
    "queries": {"requests": REQUESTS, "latency": LATENCY},
}


def test_promql_braces_are_left_alone_and_placeholders_filled() -> None:
    preset = queries.build_preset(OPTS)
    q = queries.requests_by_code(preset, "2m")
    assert 'orders_requests_total{job="shop", env=~"prod|eu"}[2m]' in q
    assert "sum by (job, path, code) (rate(" in q  # $by: the exporter's own labels
    lat = queries.latency(preset, "2m", 0.99)
    assert lat is not None and "histogram_quantile(0.99, sum by (le, job, path)" in lat
    assert "[2m]" in lat and not any(p in lat for p in ("$window", "${window}", "$q", "$by"))


async def test_a_refresh_runs_the_templates_with_braces() -> None:
    """Before: str.format raised KeyError: 'job="shop", env=~"prod|eu"' at refresh time."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content.decode())
        row = {"cb_service": "shop", "cb_route": "/pay", "cb_code": "200"}
        result = [{"metric": row, "value": [1.7e9, "3"]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return httpx.Response(200, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: n, clock=lambda: 1.7e9)
    p = PrometheusPlugin("prom", {"url": "http://prom.test", **OPTS}, ctx)
    out = await p.signals([Function(id="shop:/pay", service="shop", operation="/pay")], "5m")
    await http.aclose()
    assert out["shop:/pay"].rate_rps == 3.0
    assert any("orders_requests_total" in s for s in sent)


def test_dollar_escapes_and_label_replace_groups_survive() -> None:
    text = 'label_replace(x{a="$$"}[$window], "y", "$1", "z", "(.*)")'
    assert templates.fill(templates.check({"requests": text})["requests"], window="1m") == (
        'label_replace(x{a="$"}[1m], "y", "$1", "z", "(.*)")'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate(x[$windw])", "unknown placeholder $windw"),
        ("rate(x[${quantile}])", "unknown placeholder $quantile"),
        ("rate(x[{window}])", "write $window"),
        ("   ", "expected PromQL text"),
    ],
)
def test_bad_templates_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("$", r"\$")):
        queries.build_preset({**OPTS, "queries": {"requests": text}})


def test_q_is_only_for_latency() -> None:
    with pytest.raises(ConfigError, match=r"unknown placeholder \$q"):
        queries.build_preset({**OPTS, "queries": {"requests": "x * $q"}})


def test_check_names_the_unknown_placeholder_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "callboard.yaml"
    cfg.write_text(
        "backends:\n"
        "  - name: prom\n"
        "    plugin: prometheus\n"
        "    url: http://127.0.0.1:9\n"
        "    preset: custom\n"
        "    labels: {service: [job]}\n"
        "    queries:\n"
        "      requests: 'sum by ($by) (rate(x{job=\"a\"}[$windw]))'\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "check"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"{cfg}:2:" in err and "unknown placeholder $windw" in err
    assert "Traceback" not in err
