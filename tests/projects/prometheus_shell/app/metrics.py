"""The app's metrics, registered in prometheus_client's default registry at import."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter("requests", "Requests served", ["path"])
LATENCY = Histogram("latency_seconds", "Time to serve", buckets=(0.1, 1.0))
