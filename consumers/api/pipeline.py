"""``/v1/pipeline/lag`` (admin): how far behind each stage is, for the dashboard's pipeline card.

"Is something going wrong right now" includes the pipeline itself: a stopped worker shows no
error in the reports, only calls that stop arriving. Each stage commits its input's offsets
only once its output is safe, so the messages its consumer group has not committed
(:mod:`ailedger.lag`) are its work not done. Asking the broker takes a consumer per group, so
an answer is reused for :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from kafka.errors import KafkaError

from ailedger.lag import stage_lags
from ailedger.settings import CommonSettings, SinkSettings, WorkerSettings
from consumers.api.auth import Principal, require_admin

router = APIRouter(tags=["meta"])

CACHE_SECONDS = 5.0
_lock = threading.Lock()


def lag_groups(settings: CommonSettings) -> dict[str, str]:
    """The consumer groups the worker, the sinks and alert delivery derive from this
    deployment's ``AILEDGER_*`` variables (``AILEDGER_APP_ID``, ``AILEDGER_SINK_GROUP``,
    ``AILEDGER_ALERT_DELIVERY_GROUP``), for :func:`ailedger.lag.stage_lags`."""
    from consumers.alerts.delivery import AlertDeliverySettings

    common = settings.model_dump(include=set(CommonSettings.model_fields))
    return {"app_id": getattr(settings, "app_id", None) or WorkerSettings(**common).app_id,
            "sink_group": getattr(settings, "sink_group", None) or SinkSettings(**common).sink_group,
            "alert_group": AlertDeliverySettings(**common).alert_delivery_group}


def pipeline_lag(settings: CommonSettings) -> dict[str, Any]:
    """Every stage's lag now, as the endpoint answers it."""
    lags = stage_lags(settings, **lag_groups(settings))
    return {"checked_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "stages": [{"stage": lag.stage, "group": lag.group, "topic": lag.topic, "behind": lag.behind}
                       for lag in lags]}


@router.get("/v1/pipeline/lag", summary="Messages each stage has not processed yet (admin)")
def get_pipeline_lag(request: Request, principal: Principal = Depends(require_admin)) -> dict[str, Any]:
    """Per stage (pricing, live statistics, account spend, the sinks, alert delivery): its
    consumer group, input topic and ``behind``, the messages not committed yet (``null`` when
    the topic does not exist). A lag that grows, or stays above 0 while producers are quiet,
    is a stage that cannot keep up or has stopped."""
    state = request.app.state
    with _lock:
        cached = getattr(state, "pipeline_lag", None)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            answer = pipeline_lag(state.settings)
        except KafkaError as exc:
            raise HTTPException(503, f"the broker did not answer: {type(exc).__name__}: {exc}") from None
        state.pipeline_lag = (time.monotonic(), answer)
        return answer
