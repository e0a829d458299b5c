"""`GET /metrics` in Prometheus' format: the series `agents.telemetry` keeps, summed over every
worker process when several serve one bot (prometheus-client's multiprocess mode, switched on
by `PROMETHEUS_MULTIPROC_DIR`, which `parley serve` sets)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Every series, in the text format or OpenMetrics (as the scraper's Accept header asks)."""
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()  # fresh per scrape: it reads every process's files
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry), media_type=content_type)
