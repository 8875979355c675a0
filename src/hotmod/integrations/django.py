"""Django: URLs, template tag libraries, admin registrations, signal receivers, models.

- **URLs**: after each reload the resolver caches are dropped and every resolver
  reachable from the root URLconf reads its patterns again, so a new ``path()`` is
  served and a removed one 404s, whichever urls module changed.
- **Template tags**: a re-executed ``register = template.Library()`` is a new object,
  while the template engines hold the old one: the old library takes the new tags and
  filters; the template loaders' caches are reset.
- **Admin**: ``site.register`` made by a module's top-level code goes to the ledger, so a
  re-executed ``admin.py`` registers again instead of raising ``AlreadyRegistered``, and a
  registration deleted from the source is gone; the admin's URLs follow.
- **Signals**: ``Signal.connect`` made by a module's top-level code goes to the ledger: a
  receiver deleted from the source is disconnected.
- **Models**: a re-executed model class maps onto the model Django already knows: its
  methods, managers' and querysets' code are updated in place; a change of fields or
  ``Meta`` options needs a migration, so the reload asks for a restart.
- **Settings and migrations**: a change needs a restart.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from types import FunctionType, ModuleType
from typing import Any

from .._ledger import current_module
from .._runtime import ledger
from .._typing import override
from . import NOT_HANDLED, Integration, Transaction
from ._common import Entry, importing_module, track_calls

__all__ = ["DjangoIntegration"]

log = logging.getLogger("hotmod.integrations")

_MODELS = "django.models"  # Transaction.state key: the models a module held before
_reloading: dict[int, bool] = {}  # threads running a reload


class DjangoIntegration(Integration):
    """Keeps a running Django project consistent with its reloaded modules."""

    framework = "django"

    def __init__(self) -> None:
        self._admin_sites: dict[int, dict[Any, type]] = {}
        self._changed_sites: list[Any] = []

    @override
    def activate(self) -> None:
        """Record signal connections now, admin registrations once the admin is imported."""
        install_recorders()

    @override
    def begin(self, txn: Transaction) -> None:
        """Refuse in-place reloads of settings and migrations; note the admin registries."""
        _reloading[threading.get_ident()] = True
        _wrap_admin()
        settings_module = _settings_module()
        if settings_module in txn.modules:
            # The settings module itself, or a module it imports (settings/base.py).
            parts = [n for n in txn.changed if n != settings_module]
            detail = (
                f" ({', '.join(parts)})" if parts and settings_module not in txn.changed else ""
            )
            txn.restart(settings_module, f"Django settings changed{detail}")
        for name in txn.changed:
            if ".migrations." in name or name.endswith(".migrations"):
                txn.restart(name, "a migration changed")
        self._admin_sites = _admin_registries()

    @override
    def before_module(self, txn: Transaction, module: ModuleType) -> None:
        """Take the module's models out of the app registry while their twins are made."""
        models = _models_of(txn, module.__name__)
        if models:
            txn.state.setdefault(_MODELS, {})[module.__name__] = _ModelSwap(txn, models)

    @override
    def after_module(self, txn: Transaction, module: ModuleType) -> None:
        """Keep the models Django knows (or ask for a restart if their fields changed)."""
        swap = txn.state.get(_MODELS, {}).pop(module.__name__, None)
        if swap is not None:
            swap.finish(txn, module)

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """The old template ``Library`` (the engines hold it) takes the new tags and filters."""
        library = _library_class()
        if library is None or type(old) is not library or type(new) is not library:
            return NOT_HANDLED
        saved = {k: dict(getattr(old, k)) for k in ("tags", "filters")}

        def undo() -> None:
            for key, value in saved.items():
                getattr(old, key).clear()
                getattr(old, key).update(value)

        txn.on_rollback(undo)
        for key in saved:
            getattr(old, key).clear()
            getattr(old, key).update(getattr(new, key))
        txn.on_commit(_reset_template_loaders)
        return old

    @override
    def finish(self, txn: Transaction) -> None:
        """Admin URL lists follow the admin registries."""
        changed_sites = [
            site for site in _sites() if _registry_of(site) != self._admin_sites.get(id(site))
        ]
        self._changed_sites = changed_sites

    @override
    def committed(self, report: Any) -> None:
        """Drop URL caches: the next request resolves against the new patterns."""
        _reloading.pop(threading.get_ident(), None)
        sites, self._changed_sites = self._changed_sites, []
        _reset_urls(sites)
        # Django caches the signatures of receivers it was given, previous versions too.
        inspect = sys.modules.get("django.utils.inspect")
        cached = getattr(inspect, "_get_func_parameters", None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()

    @override
    def rolled_back(self, report: Any) -> None:
        """Nothing was applied; the caches still match the code."""
        _reloading.pop(threading.get_ident(), None)
        self._changed_sites = []


# -- settings ------------------------------------------------------------------------------


def _settings_module() -> str | None:
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    if settings is not None and getattr(settings, "configured", False):
        name = getattr(settings, "SETTINGS_MODULE", None)
        if isinstance(name, str):
            return name
    return os.environ.get("DJANGO_SETTINGS_MODULE")


# -- URLs ----------------------------------------------------------------------------------


def _reset_urls(admin_sites: list[Any]) -> None:
    urls = sys.modules.get("django.urls")
    if urls is None:
        return
    urls.clear_url_caches()
    try:
        from django.conf import settings

        root = settings.ROOT_URLCONF
    except Exception:  # not configured: nothing resolves yet
        return
    if not isinstance(root, str) or root not in sys.modules:
        return  # nothing served yet: the first request reads the URLconf
    from django.urls import get_resolver

    if admin_sites:
        _refresh_admin_urls(admin_sites, get_resolver(root))
    _reset_resolver(get_resolver(root), set())


def _reset_resolver(resolver: Any, seen: set[int]) -> None:
    # Nested resolvers (include()) outlive a reload of the module they read: they cache
    # that module's pattern list and what they derived from it.
    from django.urls import URLResolver

    if id(resolver) in seen:
        return
    seen.add(id(resolver))
    state = resolver.__dict__
    state.pop("url_patterns", None)
    state.pop("urlconf_module", None)
    resolver._reverse_dict = {}
    resolver._namespace_dict = {}
    resolver._app_dict = {}
    resolver._callback_strs = set()
    resolver._populated = False
    try:
        patterns = list(resolver.url_patterns)
    except Exception:  # a broken urls module: Django reports it on the next request
        return
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _reset_resolver(pattern, seen)


# -- templates -----------------------------------------------------------------------------


def _library_class() -> type | None:
    module = sys.modules.get("django.template.library")
    cls = getattr(module, "Library", None)
    return cls if isinstance(cls, type) else None


def _reset_template_loaders() -> None:
    try:
        from django.template.autoreload import reset_loaders

        reset_loaders()
    except Exception:  # template engines not configured
        log.debug("could not reset Django's template loaders", exc_info=True)


# -- admin ---------------------------------------------------------------------------------


def install_recorders() -> None:
    """Record signal connections and admin registrations made by modules' top-level code.

    Idempotent. The admin's ``AdminSite.register`` is wrapped as soon as the admin is
    imported: now, or when it autodiscovers the ``admin`` modules.
    """
    _wrap_signals()
    _wrap_admin()
    import importlib

    loading: Any = importlib.import_module("django.utils.module_loading")
    discover = loading.autodiscover_modules
    if getattr(discover, "_hotmod", False):
        return

    @functools.wraps(discover)
    def autodiscover_modules(*args: Any, **kwargs: Any) -> Any:
        _wrap_admin()
        return discover(*args, **kwargs)

    autodiscover_modules._hotmod = True  # type: ignore[attr-defined]
    loading.autodiscover_modules = autodiscover_modules
    admin: Any = sys.modules.get("django.contrib.admin")
    if admin is not None and getattr(admin, "autodiscover_modules", None) is discover:
        admin.autodiscover_modules = autodiscover_modules


def _wrap_admin() -> None:
    sites = sys.modules.get("django.contrib.admin.sites")
    site_class = getattr(sites, "AdminSite", None)
    if site_class is None or getattr(site_class.register, "_hotmod", False):
        return
    register = site_class.register

    @functools.wraps(register)
    def tracked_register(
        self: Any, model_or_iterable: Any, admin_class: Any = None, **options: Any
    ) -> None:
        _known_sites.add(self)
        module = current_module()
        models = _as_models(model_or_iterable)
        if module is not None and _reloading.get(threading.get_ident()):
            # Registered by a version of this module run before hotmod recorded it: the
            # module runs again, so its registration is replaced.
            for model in models:
                previous = self._registry.get(model)
                if previous is not None and type(previous).__module__ in (module, _ADMIN_OPTIONS):
                    del self._registry[model]
                    ledger.record(
                        module,
                        functools.partial(_put_admin, self, model, None),
                        functools.partial(_put_admin, self, model, previous),
                    )
        before = {m: self._registry.get(m) for m in models}
        register(self, model_or_iterable, admin_class, **options)
        if module is None or module == "__main__":
            return
        for model in models:
            entry = self._registry.get(model)
            if entry is not None and entry is not before[model]:
                ledger.record(
                    module,
                    functools.partial(_put_admin, self, model, None),
                    functools.partial(_put_admin, self, model, entry),
                )

    tracked_register._hotmod = True  # type: ignore[attr-defined]
    site_class.register = tracked_register


_ADMIN_OPTIONS = "django.contrib.admin.options"


def _as_models(model_or_iterable: Any) -> list[Any]:
    from django.db.models.base import ModelBase

    if isinstance(model_or_iterable, ModelBase):
        return [model_or_iterable]
    return list(model_or_iterable)


def _put_admin(site: Any, model: Any, entry: Any) -> None:
    if entry is None:
        site._registry.pop(model, None)
    else:
        site._registry[model] = entry


def _sites() -> list[Any]:
    """The admin sites that registered models since hotmod started recording."""
    return list(_known_sites)


_known_sites: weakref.WeakSet[Any] = weakref.WeakSet()


def _registry_of(site: Any) -> dict[Any, type]:
    return {model: type(entry) for model, entry in site._registry.items()}


def _admin_registries() -> dict[int, dict[Any, type]]:
    return {id(site): _registry_of(site) for site in _sites()}


def _refresh_admin_urls(sites: list[Any], root: Any) -> None:
    # ``path("admin/", admin.site.urls)`` froze the site's URL list when urls.py ran.
    try:
        from django.urls import URLResolver

        resolvers = [r for r in _walk(root, URLResolver) if isinstance(r.urlconf_name, list)]
    except Exception:
        log.debug("could not refresh the admin URLs", exc_info=True)
        return
    for site in sites:
        for resolver in resolvers:
            if resolver.app_name == "admin" and resolver.namespace == site.name:
                resolver.urlconf_name[:] = site.get_urls()


def _walk(resolver: Any, kind: type) -> Iterator[Any]:
    yield resolver
    for pattern in resolver.url_patterns:
        if isinstance(pattern, kind):
            yield from _walk(pattern, kind)


# -- signals -------------------------------------------------------------------------------


def _wrap_signals() -> None:
    from django.dispatch import Signal

    track_calls(Signal, "connect", _connection, module=importing_module)


def _connection(
    connect: Any,
    result: None,
    signal: Any,
    receiver: Any,
    sender: Any = None,
    weak: bool = True,
    dispatch_uid: Any = None,
) -> Entry:
    return (
        functools.partial(signal.disconnect, receiver, sender, dispatch_uid),
        functools.partial(connect, signal, receiver, sender, weak, dispatch_uid),
    )


# -- models --------------------------------------------------------------------------------


def _models_of(txn: Transaction, module: str) -> list[type]:
    base = sys.modules.get("django.db.models.base")
    if base is None:
        return []
    model_base = base.ModelBase
    return [
        value
        for value in txn.old_namespace(module).values()
        if isinstance(value, model_base)
        and value.__module__ == module
        and not value._meta.abstract
        and value.__dict__.get("_meta") is not None
    ]


def _field_signature(meta: Any) -> list[tuple[str, Any]]:
    return [(f.name, f.deconstruct()[1:]) for f in [*meta.local_fields, *meta.local_many_to_many]]


def _meta_signature(meta: Any) -> dict[str, Any]:
    from django.db.models.options import DEFAULT_NAMES

    return {
        name: getattr(meta, name, None)
        for name in DEFAULT_NAMES
        if name not in ("apps", "default_related_name")
    }


def _djangos(value: Any) -> bool:
    """True for what Django put on a model class (fields' descriptors, ``_meta``, managers)."""
    if isinstance(value, functools.partialmethod):
        return True  # get_FOO_display, get_next_by_FOO
    if isinstance(value, (FunctionType, type, staticmethod, classmethod, property)):
        return False
    return type(value).__module__.startswith("django.")


class _ModelSwap:
    """A module's models while it runs again: Django's registry keeps the models it knows."""

    def __init__(self, txn: Transaction, models: list[type]) -> None:
        from django.apps import apps

        self.apps = apps
        self.models = models
        # Models the re-created ones attach reverse accessors to, and the models themselves.
        related = {id(m): m for m in models}
        for model in models:
            for field in model._meta.get_fields(include_hidden=True):  # type: ignore[attr-defined]
                other = getattr(field, "related_model", None)
                if isinstance(other, type):
                    related.setdefault(id(other), other)
        self.classes = list(related.values())
        self.saved_attrs = {
            id(cls): {k: v for k, v in cls.__dict__.items() if _djangos(v)} for cls in self.classes
        }
        self.saved_registry = {label: dict(m) for label, m in apps.all_models.items()}
        # Undone newest first: the registry, then the classes, then Django's caches.
        txn.on_rollback(apps.clear_cache)
        txn.on_rollback(self._restore_attrs)
        txn.on_rollback(self._restore_registry)
        for model in models:
            meta: Any = model._meta  # type: ignore[attr-defined]
            apps.all_models[meta.app_label].pop(meta.model_name, None)
            for other in list(apps.all_models[meta.app_label].values()):
                if other._meta.auto_created is model:  # an implicit many-to-many table
                    apps.all_models[meta.app_label].pop(other._meta.model_name, None)

    def finish(self, txn: Transaction, module: ModuleType) -> None:
        ns = module.__dict__
        for model in self.models:
            meta: Any = model._meta  # type: ignore[attr-defined]
            twin = self.apps.all_models[meta.app_label].get(meta.model_name)
            where = f"{module.__name__}.{model.__name__}"
            if ns.get(model.__name__) is None:
                txn.restart(module.__name__, f"{where}: model removed")
            if ns.get(model.__name__) is not model:
                txn.restart(module.__name__, f"{where}: the model class cannot be updated in place")
            if twin is None or twin is model:
                continue
            # The kept class took the twin's attributes: its own _meta is in saved_attrs.
            reason = _model_change(self.saved_attrs[id(model)]["_meta"], twin._meta)
            if reason is not None:
                txn.restart(module.__name__, f"{where}: {reason}")
        for label, models in self.apps.all_models.items():
            for name, model in models.items():
                if (
                    self.saved_registry.get(label, {}).get(name) is None
                    and model.__module__ == module.__name__
                ):
                    txn.restart(module.__name__, f"{module.__name__}.{model.__name__}: new model")
        self._restore_attrs()
        self._restore_registry()
        self.apps.clear_cache()

    def _restore_attrs(self) -> None:
        # What Django attached to the re-created classes belongs to models it never saw;
        # the kept classes go on with their own fields, managers and _meta.
        for cls in self.classes:
            saved = self.saved_attrs[id(cls)]
            for key in [k for k, v in cls.__dict__.items() if _djangos(v) and k not in saved]:
                type.__delattr__(cls, key)
            for key, value in saved.items():
                if cls.__dict__.get(key) is not value:
                    type.__setattr__(cls, key, value)

    def _restore_registry(self) -> None:
        for label, models in self.saved_registry.items():
            current = self.apps.all_models[label]
            current.clear()
            current.update(models)


def _model_change(old: Any, new: Any) -> str | None:
    """Why the fields or Meta options of two models' ``_meta`` differ, or None."""
    before, after = dict(_field_signature(old)), dict(_field_signature(new))
    if before != after:
        added = [n for n in after if n not in before]
        removed = [n for n in before if n not in after]
        altered = [n for n in after if n in before and after[n] != before[n]]
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("added", added), ("removed", removed), ("changed", altered))
            if names
        ]
        return f"fields changed ({'; '.join(parts)})"
    old_meta, new_meta = _meta_signature(old), _meta_signature(new)
    if old_meta != new_meta:
        names = [k for k in new_meta if new_meta[k] != old_meta.get(k)]
        return f"Meta options changed ({', '.join(names)})"
    return None
