"""The console under /console: one router gathering each area's routes.

Every page but sign-in needs a signed-in admin (else a redirect to sign-in); every POST needs the
CSRF token; the admin sees their OG's subtree, narrowed to the OG chosen with `?og=`, exactly as
the REST API scopes them (see `context.py`).
"""

from __future__ import annotations

from fastapi import APIRouter

from quince.web.console import (
    app_routes,
    auth_routes,
    device_bulk_routes,
    device_list_routes,
    device_page_routes,
    device_removal_routes,
    group_routes,
    home_routes,
    log_routes,
    preview_routes,
    user_group_routes,
    user_list_routes,
    user_routes,
)

router = APIRouter(prefix="/console", include_in_schema=False)
# The one console form that uploads a file: it may send more than the API's body limit.
UPLOAD_PATH = "/console/users/import"
AREAS = (auth_routes, home_routes, group_routes, user_list_routes, user_routes, user_group_routes,
         preview_routes, device_list_routes, device_bulk_routes, device_removal_routes, device_page_routes,
         app_routes, log_routes)
for area in AREAS:
    router.include_router(area.router)
