"""hotmod for ``python manage.py runserver``: add ``"hotmod.contrib.django"`` to INSTALLED_APPS.

The serving process reloads edited modules in place (views, urls, forms, template
tags, admin, signal receivers) and Django's autoreloader no longer restarts it for
them. An edit that cannot apply in place (settings, a model's fields, a migration)
restarts the server process through Django's own reloader, with one log line saying why.
"""

from hotmod import integrations as _integrations

# The adapter starts now, before the other apps' ready() (the admin's autodiscover).
_integrations.activate("django")
