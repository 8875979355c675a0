"""Tasks, made at import."""

from celery import shared_task

from app.core import celery_app


@celery_app.task(max_retries=3)
def add(x, y):
    return f"add v1 {x + y}"


@celery_app.task(name="reports.weekly")
def weekly():
    return "weekly v1"


@shared_task
def ping():
    return "pong v1"
