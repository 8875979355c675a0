"""Jobs added at import: one by add_job, one by the decorator under an id of its own."""

from app.core import scheduler


def tick() -> str:
    return "tick v1"


scheduler.add_job(tick, "interval", hours=1)


@scheduler.scheduled_job("interval", hours=1, id="report")
def report() -> str:
    return "report v1"
