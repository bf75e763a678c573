"""The grafana plugin posts annotations (epoch ms, incident tags, bearer token from a secret)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from callboard_grafana import GrafanaPlugin
from callboard_grafana.parse import epoch_ms

from console.core.model import ActionRequest
from console.errors import ActionError, BackendAuthError, BackendUnavailable
from console.plugin_api import PluginContext

NOW = 1_800_000_000.0
TOKEN = "glsa_abcdef0123456789"


def plugin(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> GrafanaPlugin:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    secrets = {"grafana-token": TOKEN}
    ctx = PluginContext(http=client, secret=secrets.__getitem__, clock=lambda: NOW)
    opts = {"url": "http://grafana.test/", "token_secret": "grafana-token", **options}
    return GrafanaPlugin("grafana", opts, ctx)


async def test_annotate_posts_epoch_ms_tags_and_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"message": "Annotation added", "id": 42})

    g = plugin(handler, tags=["prod"])
    req = ActionRequest("annotate", "checkout:POST /pay",
                        {"incident": "INC-0007", "text": "rolled back checkout",
                         "time": "2026-11-26T21:00:00Z"})  # fmt: skip
    plan = await g.plan(req)
    assert not seen  # planning posts nothing
    result = await g.execute(plan)
    assert result.ok and result.details["annotation_id"] == 42
    [sent] = seen
    assert sent.method == "POST" and sent.url == "http://grafana.test/api/annotations"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(sent.content)
    assert body["time"] == 1_795_726_800_000
    assert body["tags"] == ["callboard", "prod", "INC-0007", "function:checkout:POST /pay"]
    assert body["text"] == "rolled back checkout"
    assert TOKEN not in plan.summary + "".join(plan.changes) + json.dumps(dict(plan.details))


async def test_default_time_is_now_in_ms() -> None:
    g = plugin(lambda r: httpx.Response(200, json={"id": 1}))
    plan = await g.plan(ActionRequest("annotate", "svc", {}, reason="status open → mitigated"))
    assert plan.details["annotation"]["time"] == int(NOW * 1000)
    assert plan.details["annotation"]["text"] == "status open → mitigated"


@pytest.mark.parametrize(
    ("value", "ms"),
    [(1_795_726_800, 1_795_726_800_000), (1_795_726_800_123, 1_795_726_800_123),
     ("2026-11-26T21:00:00.5+00:00", 1_795_726_800_500), (None, int(NOW * 1000))],
)  # fmt: skip
def test_times_become_epoch_ms(value: object, ms: int) -> None:
    assert epoch_ms(value, NOW) == ms


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, BackendAuthError), (403, BackendAuthError), (503, BackendUnavailable)],
)
async def test_http_errors_are_typed(status: int, error: type[Exception]) -> None:
    g = plugin(lambda r: httpx.Response(status, text="no"))
    plan = await g.plan(ActionRequest("annotate", "svc", {"text": "x"}))
    with pytest.raises(error):
        await g.execute(plan)
    assert not (await g.check()).ok


async def test_bad_requests_are_action_errors() -> None:
    g = plugin(lambda r: httpx.Response(200, json={}))
    with pytest.raises(ActionError, match="annotate"):
        await g.plan(ActionRequest("rollback", "svc"))
    with pytest.raises(ActionError, match="time"):
        await g.plan(ActionRequest("annotate", "svc", {"time": "yesterday-ish"}))


def test_config_needs_url_and_token() -> None:
    ctx = PluginContext(http=None, secret=lambda n: "", clock=lambda: NOW)
    with pytest.raises(ValueError, match="url"):
        GrafanaPlugin("g", {"token": "x"}, ctx)
    with pytest.raises(ValueError, match="token"):
        GrafanaPlugin("g", {"url": "http://g"}, ctx)
