"""Views counting what they serve."""

from app.metrics import LATENCY, REQUESTS


def serve(path: str) -> str:
    REQUESTS.labels(path=path).inc()
    LATENCY.observe(0.05)
    return f"page {path}"
