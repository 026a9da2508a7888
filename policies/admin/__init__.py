"""The admin site: staff run the service here, under the rules of the API.

One module per concern, each registering its models when imported (``admin.autodiscover``
imports this package): ``policies`` (backup policies and their tags), ``tenants`` (projects and
API tokens), ``runs`` (volumes, backup tasks and backups), ``audit`` (the read-only trail), ``notifications`` (webhooks, recipients, deliveries).
"""

from django.contrib import admin

from . import audit, notifications, policies, runs, tenants  # noqa: F401 - each registers its models

admin.site.site_header = "Backup Policy Console administration"
admin.site.site_title = "Backup Policy Console admin"
admin.site.index_title = "Projects, policies, API tokens and the audit trail"
# The list of models is on the index page and in the breadcrumbs: without the side bar a policy
# list's seven columns fit a 1280 px screen.
admin.site.enable_nav_sidebar = False
