"""The program's Celery app: tasks run in this process when applied (no worker)."""

from celery import Celery

celery_app = Celery("shell", broker="memory://", backend="cache+memory://")
