"""The frameworks with a built-in adapter: top-level module -> "module:class".

A module of its own so that the import clock can tell a framework's import without
importing `hotmod.integrations` (and logging) at ``import hotmod``.
"""

from __future__ import annotations

__all__ = ["BUILTIN"]

BUILTIN: dict[str, str] = {
    "django": "hotmod.integrations.django:DjangoIntegration",
    "click": "hotmod.integrations.click:ClickIntegration",
    "typer": "hotmod.integrations.click:TyperIntegration",
    "sqlalchemy": "hotmod.integrations.sqlalchemy:SQLAlchemyIntegration",
    "flask": "hotmod.integrations.flask:FlaskIntegration",
    "starlette": "hotmod.integrations.starlette:StarletteIntegration",
    "fastapi": "hotmod.integrations.starlette:FastAPIIntegration",
    "uvicorn": "hotmod.integrations.starlette:UvicornIntegration",
    "pluggy": "hotmod.integrations.pluggy:PluggyIntegration",
    "prometheus_client": "hotmod.integrations.prometheus:PrometheusIntegration",
    "apscheduler": "hotmod.integrations.apscheduler:APSchedulerIntegration",
    "loguru": "hotmod.integrations.loguru:LoguruIntegration",
    "celery": "hotmod.integrations.celery:CeleryIntegration",
}
