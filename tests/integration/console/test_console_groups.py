"""Console pages over HTTP: the OG tree (add, edit, delete after confirming) and an OG's settings
(inherit or override, child permissions respected), with read-only admins, scope and CSRF."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, org_groups
from quince.services.scope import Scope
from quince.store.models import OGSettingRow, OrgGroupRow
from tests.integration.console.support import Fleet, csrf_token, sign_in

UE = "user_enrollment_enabled"
NEW_GROUP = {"name": "New", "group_id": "new", "type": "Container"}


def _row(page: str, name: str) -> str:
    """The tree table's row whose header cell is the OG called `name`."""
    for chunk in page.split("<tr")[1:]:
        header = re.search(r'<th scope="row"[^>]*>(.*?)</th>', chunk, re.S)
        if header and re.sub(r"<span[^>]*>.*?</span>", "", header.group(1)) == html.escape(name):
            return chunk.split("</tr>")[0]
    raise AssertionError(f"no row for {name!r}")


def _numbers(row: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="og-num">(\d+)</td>', row)]


def _section(page: str, key: str) -> str:
    start = page.index(f'id="setting-{key}"')
    return page[start:page.index("</section>", start)]


async def _og_count(session: AsyncSession) -> int:
    await session.rollback()
    return (await session.scalar(select(func.count()).select_from(OrgGroupRow))) or 0


async def _own_setting(session: AsyncSession, og_id: int, key: str) -> OGSettingRow | None:
    await session.rollback()
    return await session.scalar(
        select(OGSettingRow).where(OGSettingRow.og_id == og_id, OGSettingRow.key == key))


async def _token(client: httpx.AsyncClient, path: str) -> str:
    return csrf_token((await client.get(path)).text)


# --- The tree ------------------------------------------------------------------------------------


async def test_the_tree_shows_the_chosen_og_and_everything_below_with_counts_and_links(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    answer = await client.get(f"/console/groups?og={fleet.acme}")
    assert answer.status_code == 200
    page = answer.text
    assert "<h1>Organization groups: Acme</h1>" in page
    assert "Beta" not in _row(page, "Acme") and "beta-admin" not in page
    table = page[page.index('<table class="og-tree"'):]
    assert table.index(">Acme<") < table.index(">Field<") < table.index(">Sales<") < table.index(">Sales EU<")
    # users, admins, devices here, devices here and below
    assert _numbers(_row(page, "Acme")) == [0, 2, 0, 4]
    assert _numbers(_row(page, "Sales")) == [1, 0, 2, 3]
    assert _numbers(_row(page, "Sales EU")) == [1, 0, 1, 1]
    assert _numbers(_row(page, "Field")) == [0, 0, 1, 1]
    sales = _row(page, "Sales")
    assert "og-level-1" in sales and "level 1, below Acme" in sales and "sales</td>" in sales
    assert "Container" in sales and "Customer" in _row(page, "Acme")
    assert "og-level-2" in _row(page, "Sales EU")
    for link in (f"/console/groups?og={fleet.sales}", f"/console/groups/settings?og={fleet.sales}",
                 f"/console/devices?og={fleet.sales}"):
        assert f'href="{link}"' in sales
    narrowed = (await client.get(f"/console/groups?og={fleet.sales}")).text
    assert ">Field<" not in narrowed and ">Sales EU<" in narrowed
    assert f'href="/console/groups?og={fleet.acme}">Up to Acme</a>' in narrowed


async def test_an_admin_adds_a_group_below_the_chosen_one(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/groups?og={fleet.sales}")).text
    assert "Add a group below Sales" in page and "<option selected>Container</option>" in page
    answer = await client.post(f"/console/groups/children?og={fleet.sales}", data={
        "csrf_token": csrf_token(page), "name": "Sales US", "group_id": "sales-us", "type": "Container",
    })
    assert answer.status_code == 303
    landed = (await client.get(answer.headers["location"])).text
    assert ("Organization group &#39;Sales US&#39; (Group ID sales-us) was added below "
            "&#39;Sales&#39;.") in landed
    assert "level 1, below Sales" in _row(landed, "Sales US")
    await session.rollback()
    row = await session.scalar(select(OrgGroupRow).where(OrgGroupRow.group_id == "sales-us"))
    assert row is not None and row.parent_id == fleet.sales and row.type == "Container"


async def test_a_taken_group_id_is_refused_with_the_input_kept(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    before = await _og_count(session)
    token = await _token(client, f"/console/groups?og={fleet.sales}")
    answer = await client.post(f"/console/groups/children?og={fleet.sales}", data={
        "csrf_token": token, "name": "Second field", "group_id": "FIELD", "type": "Container",
    })
    assert answer.status_code == 409
    assert "Group ID &#39;FIELD&#39; is already used by organization group &#39;Field&#39;" in answer.text
    assert 'role="alert"' in answer.text and 'value="Second field"' in answer.text
    assert await _og_count(session) == before


async def test_bad_input_for_a_new_group_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    before = await _og_count(session)
    token = await _token(client, f"/console/groups?og={fleet.acme}")
    cases = (
        ({"name": "", "group_id": "empty-name", "type": "Container"}, "name must not be empty"),
        ({"name": "Spaces", "group_id": "has space", "type": "Container"}, "only letters A-Z"),
        ({"name": "Too long", "group_id": "x" * 70, "type": "Container"}, "at most 64 characters"),
        ({"name": "Partner", "group_id": "partner", "type": "Partner"}, "only Container groups are allowed"),
        ({"name": "Odd", "group_id": "odd", "type": "Planet"}, "LocationGroupType must be one of"),
    )
    for fields, message in cases:
        answer = await client.post(f"/console/groups/children?og={fleet.acme}",
                                   data={"csrf_token": token, **fields})
        assert answer.status_code == 400, fields
        assert message in answer.text and "Nothing was changed." in answer.text
    assert await _og_count(session) == before


async def test_an_admin_edits_the_chosen_group_and_a_taken_group_id_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/groups/edit?og={fleet.sales}"
    token = await _token(client, f"/console/groups?og={fleet.sales}")
    refused = await client.post(path, data={"csrf_token": token, "name": "Renamed", "group_id": "Field"})
    assert refused.status_code == 409 and "is already used" in refused.text
    assert 'value="Renamed"' in refused.text and 'value="Field"' in refused.text
    await session.rollback()
    row = await session.get(OrgGroupRow, fleet.sales, populate_existing=True)
    assert row is not None and (row.name, row.group_id) == ("Sales", "sales")
    empty = await client.post(path, data={"csrf_token": token, "name": " ", "group_id": "sales"})
    assert empty.status_code == 400 and "must not be empty" in empty.text
    answer = await client.post(path, data={"csrf_token": token, "name": "Sales & Marketing",
                                           "group_id": "sales-mkt"})
    assert answer.status_code == 303
    landed = (await client.get(answer.headers["location"])).text
    assert "The changes to &#39;Sales &amp; Marketing&#39; (Group ID sales-mkt) were saved." in landed
    await session.rollback()
    row = await session.get(OrgGroupRow, fleet.sales, populate_existing=True)
    assert row is not None and (row.name, row.group_id) == ("Sales & Marketing", "sales-mkt")


async def test_a_group_that_holds_something_is_not_deleted(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    confirm = await client.get(f"/console/groups/delete?og={fleet.sales}")
    assert confirm.status_code == 200
    assert "cannot be deleted while it holds something" in confirm.text
    assert "child organization groups: 1" in confirm.text and "devices: 2" in confirm.text
    assert 'action="/console/groups/delete' not in confirm.text
    answer = await client.post(f"/console/groups/delete?og={fleet.sales}",
                               data={"csrf_token": csrf_token(confirm.text)})
    assert answer.status_code == 409
    assert "Cannot delete organization group &#39;Sales&#39;: it still holds" in answer.text
    await session.rollback()
    assert await session.get(OrgGroupRow, fleet.sales) is not None


async def test_an_empty_group_is_deleted_after_confirmation(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet
) -> None:
    temp = await org_groups.create(session, scope, fleet.field, name="Temporary", group_id="temp")
    await og_settings.override(session, scope, temp.id, UE, True)
    await session.commit()
    await sign_in(client, "acme-admin")
    groups = (await client.get(f"/console/groups?og={temp.id}")).text
    assert f'href="/console/groups/delete?og={temp.id}"' in groups
    confirm = await client.get(f"/console/groups/delete?og={temp.id}")
    assert confirm.status_code == 200 and "<h1>Delete Temporary?</h1>" in confirm.text
    assert "holds nothing" in confirm.text
    assert await session.get(OrgGroupRow, temp.id) is not None  # the GET alone deletes nothing
    answer = await client.post(f"/console/groups/delete?og={temp.id}",
                               data={"csrf_token": csrf_token(confirm.text)})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/groups?og={fleet.field}&done=deleted&gone=temp"
    landed = (await client.get(answer.headers["location"])).text
    assert "The organization group with Group ID temp was deleted." in landed
    assert ">Temporary<" not in landed
    await session.rollback()
    assert await session.get(OrgGroupRow, temp.id, populate_existing=True) is None
    assert await _own_setting(session, temp.id, UE) is None


async def test_the_admins_own_top_group_cannot_be_deleted(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    groups = (await client.get(f"/console/groups?og={fleet.acme}")).text
    assert "is the top of your organization groups and cannot be deleted" in groups
    assert "/console/groups/delete?" not in groups
    confirm = await client.get(f"/console/groups/delete?og={fleet.acme}")
    assert "is the top of your organization groups" in confirm.text
    assert 'action="/console/groups/delete' not in confirm.text
    answer = await client.post(f"/console/groups/delete?og={fleet.acme}",
                               data={"csrf_token": csrf_token(confirm.text)})
    assert answer.status_code == 409 and "cannot be deleted" in answer.text
    await session.rollback()
    assert await session.get(OrgGroupRow, fleet.acme) is not None


# --- Settings ------------------------------------------------------------------------------------


async def test_the_settings_page_shows_every_setting_with_its_state_value_and_source(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    answer = await client.get(f"/console/groups/settings?og={fleet.sales}")
    assert answer.status_code == 200 and "<h1>Settings of Sales</h1>" in answer.text
    page = answer.text
    for key in ("user_enrollment_enabled", "group_id_assignment_mode", "companion_app_bundle_id",
                "vpp_release_license_on_unenroll", "default_ownership"):
        assert f'id="setting-{key}"' in page
    ue = _section(page, UE)
    assert "User Enrollment enabled" in ue and "Allow Apple User Enrollment" in ue
    assert '<dd class="og-current">Inherit</dd>' in ue and '<dd class="og-value">No</dd>' in ue
    assert "Global (Group ID <code>Global</code>)" in ue
    assert 'name="current" value="Inherit"' in ue and 'name="current" value="Override"' in ue
    ownership = _section(page, "default_ownership")
    assert '<dd class="og-value">Corporate - Dedicated</dd>' in ownership
    assert '<option value="E">Employee Owned</option>' in ownership
    companion = _section(page, "companion_app_bundle_id")
    assert '<dd class="og-value">None</dd>' in companion
    assert 'type="text" id="value-companion_app_bundle_id"' in companion


async def test_an_admin_overrides_a_setting_then_inherits_it_again(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    token = await _token(client, f"/console/groups/settings?og={fleet.acme}")
    acme = await client.post(f"/console/groups/settings?og={fleet.acme}", data={
        "csrf_token": token, "key": UE, "current": "Override", "value": "true",
        "child_permission": "InheritOrOverride",
    })
    assert acme.status_code == 303
    sales_page = (await client.get(f"/console/groups/settings?og={fleet.sales}")).text
    ue = _section(sales_page, UE)
    assert '<dd class="og-value">Yes</dd>' in ue and "Acme (Group ID <code>acme</code>)" in ue
    answer = await client.post(f"/console/groups/settings?og={fleet.sales}", data={
        "csrf_token": token, "key": UE, "current": "Override", "value": "false",
        "child_permission": "InheritOrOverride",
    })
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/groups/settings?og={fleet.sales}&saved={UE}"
    landed = (await client.get(answer.headers["location"])).text
    assert ("User Enrollment enabled was saved: the effective value at &#39;Sales&#39; is now No, "
            "from &#39;Sales&#39; (Group ID sales).") in landed
    ue = _section(landed, UE)
    assert '<dd class="og-current">Override</dd>' in ue and "Sales (Group ID <code>sales</code>)" in ue
    own = await _own_setting(session, fleet.sales, UE)
    assert own is not None and own.value is False
    answer = await client.post(f"/console/groups/settings?og={fleet.sales}", data={
        "csrf_token": token, "key": UE, "current": "Inherit", "value": "false",
        "child_permission": "InheritOrOverride",
    })
    assert answer.status_code == 303
    landed = (await client.get(answer.headers["location"])).text
    assert "is now Yes, from &#39;Acme&#39; (Group ID acme)." in landed
    assert await _own_setting(session, fleet.sales, UE) is None


async def test_a_text_setting_and_a_child_permission_are_saved(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    token = await _token(client, f"/console/groups/settings?og={fleet.sales}")
    answer = await client.post(f"/console/groups/settings?og={fleet.sales}", data={
        "csrf_token": token, "key": "companion_app_bundle_id", "current": "Override",
        "value": " com.example.hub ", "child_permission": "InheritOnly",
    })
    assert answer.status_code == 303
    own = await _own_setting(session, fleet.sales, "companion_app_bundle_id")
    assert own is not None and (own.value, own.child_permission) == ("com.example.hub", "InheritOnly")
    page = (await client.get(answer.headers["location"])).text
    assert "is now com.example.hub, from &#39;Sales&#39;" in page
    section = _section(page, "companion_app_bundle_id")
    assert '<option value="InheritOnly" selected>' in section and "<dd>Inherit only</dd>" in section


async def test_bad_setting_input_is_refused_with_the_message_and_nothing_stored(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/groups/settings?og={fleet.sales}"
    token = await _token(client, path)
    cases = (
        ({"key": "companion_app_bundle_id", "current": "Override", "value": "not a bundle id"},
         "takes an app bundle ID such as com.example.app", "companion_app_bundle_id"),
        ({"key": UE, "current": "Override", "value": "maybe"}, "takes true or false", UE),
        ({"key": "default_ownership", "current": "Override", "value": "X"}, "takes one of C, E, S",
         "default_ownership"),
        ({"key": UE, "current": "Sometimes", "value": "true"}, "Choose Inherit or Override", UE),
        ({"key": UE, "current": "Override", "value": "true", "child_permission": "Never"},
         "ChildPermission must be one of", UE),
        ({"key": "no_such_setting", "current": "Override", "value": "true"}, "There is no setting", None),
    )
    for fields, message, key in cases:
        answer = await client.post(path, data={"csrf_token": token, **fields})
        assert answer.status_code == 400, fields
        assert message in answer.text and "Nothing was changed." in answer.text
        if key == "companion_app_bundle_id":
            assert 'value="not a bundle id"' in _section(answer.text, key)
        if key:
            assert "og-row-error" in _section(answer.text, key)
    await session.rollback()
    assert (await session.scalar(select(func.count()).select_from(OGSettingRow)
                                 .where(OGSettingRow.og_id == fleet.sales))) == 0


async def test_a_setting_locked_by_an_ancestor_offers_no_form_and_cannot_be_overridden(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet
) -> None:
    await og_settings.override(session, scope, fleet.acme, UE, True, "InheritOnly")
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/groups/settings?og={fleet.sales}")).text
    ue = _section(page, UE)
    assert "Locked by Acme (Group ID <code>acme</code>)" in ue and "Inherit only" in ue
    assert "<form" not in ue and '<dd class="og-value">Yes</dd>' in ue
    assert "<form" in _section(page, "default_ownership")
    answer = await client.post(f"/console/groups/settings?og={fleet.sales}", data={
        "csrf_token": csrf_token(page), "key": UE, "current": "Override", "value": "false",
    })
    assert answer.status_code == 409
    assert "cannot be set to override at &#39;Sales&#39;: &#39;Acme&#39; sets child permission InheritOnly" \
        in answer.text
    assert await _own_setting(session, fleet.sales, UE) is None


async def test_override_only_makes_children_hold_their_own_value(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    token = await _token(client, f"/console/groups/settings?og={fleet.acme}")
    answer = await client.post(f"/console/groups/settings?og={fleet.acme}", data={
        "csrf_token": token, "key": UE, "current": "Override", "value": "true",
        "child_permission": "OverrideOnly",
    })
    assert answer.status_code == 303
    copy = await _own_setting(session, fleet.sales, UE)
    assert copy is not None and copy.value is True
    page = (await client.get(f"/console/groups/settings?og={fleet.sales}")).text
    ue = _section(page, UE)
    assert "Acme (Group ID <code>acme</code>) sets child permission Override only" in ue
    assert 'value="Inherit"' not in ue and '<dd class="og-current">Override</dd>' in ue
    refused = await client.post(f"/console/groups/settings?og={fleet.sales}", data={
        "csrf_token": token, "key": UE, "current": "Inherit",
    })
    assert refused.status_code == 409 and "sets child permission OverrideOnly" in refused.text
    assert await _own_setting(session, fleet.sales, UE) is not None


# --- Rights, scope and CSRF ----------------------------------------------------------------------


async def test_a_read_only_admin_sees_no_forms_and_every_change_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet
) -> None:
    temp = await org_groups.create(session, scope, fleet.field, name="Temporary", group_id="temp")
    await session.commit()
    before = await _og_count(session)
    await sign_in(client, "acme-reader")
    groups = await client.get(f"/console/groups?og={fleet.sales}")
    assert groups.status_code == 200 and ">Sales EU<" in groups.text
    for absent in ("<form method=\"post\"", "Add group", "Save changes", "/console/groups/delete"):
        assert absent not in groups.text
    settings = await client.get(f"/console/groups/settings?og={fleet.sales}")
    assert settings.status_code == 200 and '<dd class="og-value">No</dd>' in settings.text
    assert 'name="current"' not in settings.text and "og-setting-form" not in settings.text
    assert (await client.get(f"/console/groups/delete?og={temp.id}")).status_code == 403
    token = csrf_token(groups.text)
    posts = (
        (f"/console/groups/children?og={fleet.sales}", NEW_GROUP),
        (f"/console/groups/edit?og={fleet.sales}", {"name": "Renamed", "group_id": "renamed"}),
        (f"/console/groups/delete?og={temp.id}", {}),
        (f"/console/groups/settings?og={fleet.sales}", {"key": UE, "current": "Override", "value": "true"}),
    )
    for path, fields in posts:
        answer = await client.post(path, data={"csrf_token": token, **fields})
        assert answer.status_code == 403, path
        assert "read-only access: nothing was changed" in answer.text
    assert await _og_count(session) == before
    row = await session.get(OrgGroupRow, fleet.sales, populate_existing=True)
    assert row is not None and row.name == "Sales"
    assert await _own_setting(session, fleet.sales, UE) is None


async def test_an_og_outside_the_admins_reach_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "beta-admin")
    for path in (f"/console/groups?og={fleet.acme}", f"/console/groups/settings?og={fleet.sales}",
                 f"/console/groups/delete?og={fleet.field}", "/console/groups?og=nonsense",
                 "/console/groups/settings?og=999999"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
    own = await client.get("/console/groups")
    assert own.status_code == 200 and ">Beta<" in own.text and ">Acme<" not in own.text
    token = csrf_token(own.text)
    before = await _og_count(session)
    posts = (
        (f"/console/groups/children?og={fleet.acme}", NEW_GROUP),
        (f"/console/groups/edit?og={fleet.sales}", {"name": "Taken over", "group_id": "sales"}),
        (f"/console/groups/delete?og={fleet.field}", {}),
        (f"/console/groups/settings?og={fleet.sales}", {"key": UE, "current": "Override", "value": "true"}),
    )
    for path, fields in posts:
        answer = await client.post(path, data={"csrf_token": token, **fields})
        assert answer.status_code == 404, path
    assert await _og_count(session) == before
    assert await _own_setting(session, fleet.sales, UE) is None


async def test_a_change_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    before = await _og_count(session)
    posts = (
        (f"/console/groups/children?og={fleet.sales}", NEW_GROUP),
        (f"/console/groups/edit?og={fleet.sales}", {"name": "Renamed", "group_id": "renamed"}),
        (f"/console/groups/delete?og={fleet.sales_eu}", {}),
        (f"/console/groups/settings?og={fleet.sales}", {"key": UE, "current": "Override", "value": "true"}),
    )
    for path, fields in posts:
        answer = await client.post(path, data={**fields, "csrf_token": "forged"})
        assert answer.status_code == 403, path
        assert "This page has expired" in answer.text
    assert await _og_count(session) == before
    assert await _own_setting(session, fleet.sales, UE) is None
