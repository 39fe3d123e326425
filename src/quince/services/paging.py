"""Workspace ONE paging, as services and faces name it; the query itself is `store/paging.py`."""

from __future__ import annotations

from quince.store.paging import MAX_PAGE_SIZE as MAX_PAGE_SIZE
from quince.store.paging import Page as Page
from quince.store.paging import PageRequest as PageRequest
from quince.store.paging import paginate as paginate
