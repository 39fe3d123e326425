"""Console apps pages over HTTP: the catalog seen from an OG with licence counts, adding an app, an
app's page with assignments and devices, assigning (and what delivery it starts), unassigning, the
Apps and Books users, and the refusals (scope, read-only, CSRF, bad input)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_eligibility import PUBLIC_APP_ON_USER_ENROLLED, AppKind
from quince.services.apps import catalog as apps
from quince.services.apps import licensing
from quince.services.apps.catalog import NewApp
from quince.services.directory import user_groups
from quince.services.scope import Scope
from quince.store.models import (
    AppAssignmentRow,
    AppRow,
    CommandRow,
    DeviceAppRow,
    EnrollmentUserRow,
    JobRow,
    VppLicenseRow,
    VppTokenRow,
    VppUserRow,
)
from tests.integration.console.support import Fleet, csrf_token, sign_in


@dataclass(frozen=True)
class Catalog:
    """Acme's catalog: Work Mail (purchased, 10 licences, 4 assigned; alice holds one) and Notes
    (public); Sales Deck (public) at Sales; Field Tool (in-house) at Field; Beta Chat at Beta.
    Apps and Books users: alice (Associated), bob (Failed), erin (Associated, Beta). User group
    Sales team (alice) at Sales."""

    mail: int
    notes: int
    deck: int
    tool: int
    beta_chat: int
    sales_team: int


async def build_catalog(session: AsyncSession, scope: Scope, fleet: Fleet) -> Catalog:
    mail = await apps.create(session, scope, NewApp(
        AppKind.PURCHASED, fleet.acme, "Work Mail", "com.acme.mail", adam_id="1001",
        total_licenses=10, assigned_licenses=4))
    notes = await apps.create(session, scope, NewApp(
        AppKind.PUBLIC, fleet.acme, "Notes", "com.example.notes", adam_id="2002"))
    deck = await apps.create(session, scope, NewApp(
        AppKind.PUBLIC, fleet.sales, "Sales Deck", "com.example.deck", adam_id="3003"))
    tool = await apps.create(session, scope, NewApp(
        AppKind.IN_HOUSE, fleet.field, "Field Tool", "com.acme.fieldtool",
        manifest_url="https://apps.acme.example/tool/manifest.plist"))
    chat = await apps.create(session, scope, NewApp(
        AppKind.PUBLIC, fleet.beta, "Beta Chat", "com.beta.chat", adam_id="4004"))
    acme_token = VppTokenRow(og_id=fleet.acme, token_encrypted=b"not-a-real-token", token_sha256="a" * 64,
                             location_name="Acme HQ")
    beta_token = VppTokenRow(og_id=fleet.beta, token_encrypted=b"not-a-real-token", token_sha256="b" * 64)
    session.add_all([acme_token, beta_token])
    await session.flush()
    people = {u.username: u.id for u in await _users(session)}
    alice = VppUserRow(token_id=acme_token.id, enrollment_user_id=people["alice"], client_user_id="cu-alice",
                       managed_apple_id="alice@acme.appleid.example", status="Associated")
    bob = VppUserRow(token_id=acme_token.id, enrollment_user_id=people["bob"], client_user_id="cu-bob",
                     managed_apple_id="bob@other.appleid.example", status="Failed",
                     last_error="The Managed Apple Account belongs to another organization.")
    erin = VppUserRow(token_id=beta_token.id, enrollment_user_id=people["erin"], client_user_id="cu-erin",
                      managed_apple_id="erin@beta.appleid.example", status="Associated")
    session.add_all([alice, bob, erin])
    await session.flush()
    session.add(VppLicenseRow(vpp_user_id=alice.id, app_id=mail.id, status="Associated"))
    team = await user_groups.create(session, scope, name="Sales team", og_id=fleet.sales)
    await user_groups.add_member(session, scope, team.id, people["alice"])
    await session.commit()
    return Catalog(mail.id, notes.id, deck.id, tool.id, chat.id, team.id)


async def _users(session: AsyncSession) -> list[EnrollmentUserRow]:
    return list(await session.scalars(select(EnrollmentUserRow)))


@pytest.fixture
async def catalog(session: AsyncSession, scope: Scope, fleet: Fleet) -> Catalog:
    return await build_catalog(session, scope, fleet)


async def _count(session: AsyncSession, model: type) -> int:
    session.expire_all()
    return (await session.scalar(select(func.count()).select_from(model))) or 0


async def _post(client: httpx.AsyncClient, page_path: str, action: str, **data: str) -> httpx.Response:
    token = csrf_token((await client.get(page_path)).text)
    return await client.post(action, data={"csrf_token": token, **data})


# --- the catalog ----------------------------------------------------------------------------------


async def test_the_catalog_shows_the_apps_that_reach_the_chosen_og_with_licence_counts(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    acme = await client.get(f"/console/apps?og={fleet.acme}")
    assert acme.status_code == 200 and "4 apps" in acme.text
    for name in ("Work Mail", "Notes", "Sales Deck", "Field Tool"):
        assert f">{name}</a>" in acme.text
    assert "Beta Chat" not in acme.text
    assert "10 / 4 / <strong>6</strong>" in acme.text and "User-based" in acme.text
    assert acme.text.count("Not supported on User Enrollment") == 3
    assert html.escape(PUBLIC_APP_ON_USER_ENROLLED) in acme.text
    assert "Installs (user-based licence)" in acme.text
    assert "Sync purchased apps" in acme.text and "Last synced: <span class=\"app-synced\">never" in acme.text
    assert f'href="/console/apps/vpp-users?og={fleet.acme}"' in acme.text
    sales = (await client.get(f"/console/apps?og={fleet.sales}")).text
    assert "3 apps" in sales and "Field Tool" not in sales
    assert sales.count('<span class="badge">above</span>') == 2  # Work Mail and Notes come from Acme


async def test_a_sibling_admin_sees_only_their_own_catalog(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "beta-admin")
    page = (await client.get("/console/apps")).text
    assert "1 app<" in page and "Beta Chat" in page and "Work Mail" not in page
    assert (await client.get(f"/console/apps?og={fleet.acme}")).status_code == 404


async def test_the_catalog_filters_by_kind_and_text_and_pages_by_fifty(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    base = f"/console/apps?og={fleet.acme}"
    purchased = (await client.get(f"{base}&kind=purchased")).text
    assert "1 app<" in purchased and "Work Mail" in purchased
    assert "1 app<" in (await client.get(f"{base}&kind=in_house")).text
    by_bundle = (await client.get(f"{base}&q=EXAMPLE.NOTES")).text
    assert "1 app<" in by_bundle and ">Notes</a>" in by_bundle
    assert "1 app<" in (await client.get(f"{base}&q=1001")).text
    bad = await client.get(f"{base}&kind=bogus")
    assert bad.status_code == 400 and "An app kind is one of" in bad.text
    for n in range(48):
        await apps.create(session, scope, NewApp(AppKind.PUBLIC, fleet.field, f"Paged {n:02d}",
                                                 f"com.example.paged{n:02d}", adam_id=str(5000 + n)))
    await session.commit()
    first = (await client.get(base)).text
    assert "52 apps, page 1 of 2" in first and 'rel="next"' in first
    second = (await client.get(f"{base}&page=1")).text
    assert "page 2 of 2" in second and len(re.findall(r'href="/console/apps/\d+\?', second)) == 2


# --- adding an app --------------------------------------------------------------------------------


async def test_an_admin_adds_a_public_app_to_a_catalog_in_their_subtree(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    form = f"/console/apps/new?og={fleet.acme}"
    answer = await _post(client, form, f"/console/apps?og={fleet.acme}", kind="public", name="Maps",
                         bundle_id="com.example.maps", adam_id="915056765", catalog_og=str(fleet.sales))
    assert answer.status_code == 303
    row = await session.scalar(select(AppRow).where(AppRow.bundle_id == "com.example.maps"))
    assert row is not None and (row.og_id, row.kind, row.adam_id) == (fleet.sales, "public", "915056765")
    assert answer.headers["location"] == f"/console/apps/{row.id}?og={fleet.acme}&done=created"
    page = (await client.get(answer.headers["location"])).text
    assert "Maps was added to the catalog." in page and "Not supported on User Enrollment." in page
    inhouse = await _post(client, form, f"/console/apps?og={fleet.acme}", kind="in_house", name="Kiosk",
                          bundle_id="com.acme.kiosk", manifest_url="https://apps.acme.example/kiosk.plist",
                          catalog_og=str(fleet.acme))
    assert inhouse.status_code == 303


async def test_bad_app_input_is_shown_with_the_input_kept_and_nothing_stored(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    before = await _count(session, AppRow)
    form, action = f"/console/apps/new?og={fleet.acme}", f"/console/apps?og={fleet.acme}"
    bad = await _post(client, form, action, kind="public", name="Maps", bundle_id="not a bundle",
                      adam_id="915056765", catalog_og=str(fleet.acme))
    assert bad.status_code == 400 and 'role="alert"' in bad.text and "A bundle ID looks like" in bad.text
    assert 'value="Maps"' in bad.text and 'value="915056765"' in bad.text
    no_manifest = await _post(client, form, action, kind="in_house", name="Kiosk", bundle_id="com.acme.kiosk",
                              catalog_og=str(fleet.acme))
    assert no_manifest.status_code == 400 and "manifest" in no_manifest.text
    purchased = await _post(client, form, action, kind="purchased", name="X", bundle_id="com.acme.x",
                            adam_id="1", catalog_og=str(fleet.acme))
    assert purchased.status_code == 400 and "quince vpp sync" in purchased.text
    taken = await _post(client, form, action, kind="public", name="Notes again",
                        bundle_id="com.example.notes", adam_id="2002", catalog_og=str(fleet.acme))
    assert taken.status_code == 409 and "already holds" in taken.text
    elsewhere = await _post(client, form, action, kind="public", name="Maps", bundle_id="com.example.maps",
                            adam_id="915056765", catalog_og=str(fleet.beta))
    assert elsewhere.status_code == 404
    assert await _count(session, AppRow) == before


# --- an app's page --------------------------------------------------------------------------------


async def test_an_app_page_shows_licences_and_the_user_enrollment_rule(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/apps/{catalog.mail}?og={fleet.sales}")).text
    assert "<h1>Work Mail</h1>" in page
    for label, value in (("Total", "10"), ("Assigned", "4"), ("Available", "<strong>6</strong>"),
                         ("Held by Quince users", "1")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page
    assert "only Apps and Books apps with user-based licensing install" in page
    assert "Not assigned yet." in page and "has been sent this app yet" in page
    notes = (await client.get(f"/console/apps/{catalog.notes}?og={fleet.acme}")).text
    assert html.escape(PUBLIC_APP_ON_USER_ENROLLED) in notes and "apps need no licences" in notes


async def test_an_app_out_of_reach_or_not_reaching_the_chosen_og_is_not_found(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    for path in (f"/console/apps/{catalog.beta_chat}", f"/console/apps/{catalog.tool}?og={fleet.sales}",
                 "/console/apps/abc", "/console/apps/99999999"):
        answer = await client.get(path)
        assert answer.status_code == 404 and "Not found" in answer.text, path
    assert (await client.get(f"/console/apps/{catalog.tool}?og={fleet.field}")).status_code == 200


# --- assigning ------------------------------------------------------------------------------------


async def test_assigning_a_purchased_app_to_an_og_starts_delivery_to_its_user_enrolled_device(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/apps/{catalog.mail}?og={fleet.acme}"
    page = (await client.get(path)).text
    assert f'<option value="og:{fleet.sales}">' in page and f'value="user_group:{catalog.sales_team}"' in page
    answer = await _post(client, path, f"/console/apps/{catalog.mail}/assignments?og={fleet.acme}",
                         target=f"og:{fleet.sales}", mode="automatic")
    assert answer.status_code == 303
    session.expire_all()
    assignment = await session.scalar(select(AppAssignmentRow).where(AppAssignmentRow.app_id == catalog.mail))
    assert assignment is not None and (assignment.target_kind, assignment.target_id) == ("og", fleet.sales)
    assert assignment.mode == "automatic"
    # What app_delivery.deliver documents: the user's Apps and Books user is registered first.
    status = await apps.get_device_app(session, fleet.alice_iphone, catalog.mail)
    assert status is not None and status.status == "WaitingForVppUser" and status.license_type == "user"
    job = await session.scalar(select(JobRow).where(JobRow.kind == licensing.USER_JOB))
    assert job is not None and job.payload["og_id"] == fleet.sales
    assert await _count(session, CommandRow) == 0
    after = (await client.get(answer.headers["location"])).text
    assert "Work Mail was assigned to Sales." in after and "Delivery started on 1 enrolled device" in after
    assert "<td>Sales</td>" in after and "Waiting for Apps and Books user: 1" in after
    assert f">#{fleet.alice_iphone}</a>" in after and "Registering the user with Apple" in after


async def test_assigning_a_public_app_records_not_supported_on_a_user_enrolled_device(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/apps/{catalog.notes}?og={fleet.acme}"
    answer = await _post(client, path, f"/console/apps/{catalog.notes}/assignments?og={fleet.acme}",
                         target=f"og:{fleet.acme}", mode="automatic")
    assert answer.status_code == 303
    session.expire_all()
    status = await apps.get_device_app(session, fleet.alice_iphone, catalog.notes)
    assert status is not None and status.status == "NotSupported"
    assert status.reason == PUBLIC_APP_ON_USER_ENROLLED
    assert await _count(session, JobRow) == 0 and await _count(session, CommandRow) == 0
    after = (await client.get(answer.headers["location"])).text
    assert "not supported" in after and html.escape(PUBLIC_APP_ON_USER_ENROLLED) in after
    assert "Not supported: 2" in after  # alice's iPhone and the corporate iPad in Field


async def test_an_on_demand_assignment_to_a_user_group_sends_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/apps/{catalog.mail}?og={fleet.sales}"
    answer = await _post(client, path, f"/console/apps/{catalog.mail}/assignments?og={fleet.sales}",
                         target=f"user_group:{catalog.sales_team}", mode="on_demand")
    assert answer.status_code == 303
    after = (await client.get(answer.headers["location"])).text
    assert "assigned to Sales team. On demand" in after and "<td>User group</td>" in after
    assert await _count(session, AppAssignmentRow) == 1 and await _count(session, DeviceAppRow) == 0


async def test_a_bad_target_is_refused_with_nothing_stored(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    deck = f"/console/apps/{catalog.deck}?og={fleet.acme}"
    action = f"/console/apps/{catalog.deck}/assignments?og={fleet.acme}"
    missing = await _post(client, deck, action, target="og:abc")
    assert missing.status_code == 400 and "Choose an organization group or a user group" in missing.text
    off_branch = await _post(client, deck, action, target=f"og:{fleet.field}", mode="automatic")
    assert off_branch.status_code == 400 and "could never reach its devices" in off_branch.text
    assert f'<option value="og:{fleet.field}" selected>' not in off_branch.text  # Field is not offered
    bad_mode = await _post(client, deck, action, target=f"og:{fleet.sales}", mode="sometimes")
    assert bad_mode.status_code == 400 and "automatic or on_demand" in bad_mode.text
    assert f'<option value="og:{fleet.sales}" selected>' in bad_mode.text
    other_customer = await _post(client, deck, action, target=f"og:{fleet.beta}")
    assert other_customer.status_code == 404
    sales_mail = f"/console/apps/{catalog.mail}?og={fleet.sales}"
    outside_chosen = await _post(client, sales_mail,
                                 f"/console/apps/{catalog.mail}/assignments?og={fleet.sales}",
                                 target=f"og:{fleet.field}")
    assert outside_chosen.status_code == 404
    assert await _count(session, AppAssignmentRow) == 0 and await _count(session, DeviceAppRow) == 0


async def test_assigning_twice_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/apps/{catalog.deck}?og={fleet.sales}"
    action = f"/console/apps/{catalog.deck}/assignments?og={fleet.sales}"
    first = await _post(client, path, action, target=f"og:{fleet.sales_eu}", mode="on_demand")
    assert first.status_code == 303
    again = await _post(client, path, action, target=f"og:{fleet.sales_eu}", mode="automatic")
    assert again.status_code == 409 and "is already assigned to" in again.text
    assert await _count(session, AppAssignmentRow) == 1


async def test_removing_an_assignment(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, catalog: Catalog
) -> None:
    row = await apps.assign(session, scope, catalog.mail, "og", fleet.field, "on_demand")
    other = await apps.assign(session, scope, catalog.notes, "og", fleet.field, "on_demand")
    await session.commit()
    await sign_in(client, "acme-admin")
    path = f"/console/apps/{catalog.mail}?og={fleet.acme}"
    page = (await client.get(path)).text
    assert "Remove the assignment to Field" in page
    wrong_app = await _post(client, path, f"/console/apps/{catalog.mail}/assignments/{other.id}/delete")
    assert wrong_app.status_code == 404
    not_here = await _post(client, path,
                           f"/console/apps/{catalog.mail}/assignments/{row.id}/delete?og={fleet.sales}")
    assert not_here.status_code == 404
    answer = await _post(client, path,
                         f"/console/apps/{catalog.mail}/assignments/{row.id}/delete?og={fleet.acme}")
    assert answer.status_code == 303
    assert "The assignment was removed." in (await client.get(answer.headers["location"])).text
    assert await _count(session, AppAssignmentRow) == 1


# --- refusals -------------------------------------------------------------------------------------


async def test_a_read_only_admin_sees_no_forms_and_cannot_change_anything(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, catalog: Catalog
) -> None:
    row = await apps.assign(session, scope, catalog.mail, "og", fleet.sales, "on_demand")
    await session.commit()
    await sign_in(client, "acme-reader")
    listing = (await client.get(f"/console/apps?og={fleet.acme}")).text
    assert "Add a public or in-house app" not in listing and "Work Mail" in listing
    path = f"/console/apps/{catalog.mail}?og={fleet.acme}"
    page = await client.get(path)
    assert page.status_code == 200 and "<td>Sales</td>" in page.text
    assert 'name="target"' not in page.text and ">Remove</button>" not in page.text
    assert (await client.get(f"/console/apps/new?og={fleet.acme}")).status_code == 403
    token = csrf_token(page.text)
    for action, data in (
        (f"/console/apps/{catalog.mail}/assignments", {"target": f"og:{fleet.acme}"}),
        (f"/console/apps/{catalog.mail}/assignments/{row.id}/delete", {}),
        ("/console/apps", {"kind": "public", "name": "Maps", "bundle_id": "com.example.maps",
                           "adam_id": "915056765", "catalog_og": str(fleet.acme)}),
    ):
        answer = await client.post(action, data={"csrf_token": token, **data})
        assert answer.status_code == 403 and "read-only" in answer.text, action
    assert await _count(session, AppAssignmentRow) == 1 and await _count(session, AppRow) == 5


async def test_a_post_without_the_csrf_token_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, catalog: Catalog
) -> None:
    row = await apps.assign(session, scope, catalog.mail, "og", fleet.field, "on_demand")
    await session.commit()
    await sign_in(client, "acme-admin")
    for action, data in (
        (f"/console/apps/{catalog.mail}/assignments", {"target": f"og:{fleet.sales}"}),
        (f"/console/apps/{catalog.mail}/assignments/{row.id}/delete", {}),
        ("/console/apps", {"kind": "public", "name": "Maps", "bundle_id": "com.example.maps",
                           "adam_id": "915056765", "catalog_og": str(fleet.acme)}),
    ):
        answer = await client.post(action, data=data)
        assert answer.status_code == 403 and "This page has expired" in answer.text, action
    assert await _count(session, AppAssignmentRow) == 1 and await _count(session, AppRow) == 5


# --- Apps and Books users -------------------------------------------------------------------------


async def test_the_vpp_users_page_lists_users_of_the_chosen_og_with_status_and_licences(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/apps/vpp-users?og={fleet.acme}")).text
    assert "2 Apps and Books users" in page
    assert "alice@acme.appleid.example" in page and "bob@other.appleid.example" in page
    assert "erin@" not in page
    assert "belongs to another organization" in page and "vpp-status-failed" in page
    assert "<td>1</td>" in page and "<td>Acme</td>" in page  # alice holds one licence; Acme's token
    failed = (await client.get(f"/console/apps/vpp-users?og={fleet.acme}&status=Failed")).text
    assert "1 Apps and Books user<" in failed and "bob@" in failed
    found = (await client.get(f"/console/apps/vpp-users?og={fleet.acme}&q=ALICE")).text
    assert "1 Apps and Books user<" in found and "alice@" in found
    eu = (await client.get(f"/console/apps/vpp-users?og={fleet.sales_eu}")).text
    assert "1 Apps and Books user<" in eu and "bob@" in eu and "alice@" not in eu
    await client.post("/console/sign-out", data={"csrf_token": csrf_token(eu)})
    await sign_in(client, "beta-admin")
    beta = (await client.get("/console/apps/vpp-users")).text
    assert "1 Apps and Books user<" in beta and "erin@" in beta and "alice@" not in beta
    assert (await client.get(f"/console/apps/vpp-users?og={fleet.acme}")).status_code == 404


# --- syncing purchased apps -----------------------------------------------------------------------


async def test_syncing_purchased_apps_queues_one_background_job_and_says_so(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    page = f"/console/apps?og={fleet.sales}"
    queued = await _post(client, page, f"/console/apps/sync?og={fleet.sales}")
    assert queued.status_code == 303 and "done=sync-queued" in queued.headers["location"]
    assert "A sync of the purchased apps was queued" in (await client.get(queued.headers["location"])).text
    again = await _post(client, page, f"/console/apps/sync?og={fleet.sales}")
    assert "done=sync-waiting" in again.headers["location"]
    jobs = list(await session.scalars(select(JobRow).where(JobRow.kind == "vpp.sync")))
    assert [job.payload for job in jobs] == [{"og_id": fleet.acme}]  # the token's OG, once


async def test_without_a_token_there_is_no_sync_button_and_a_sync_is_not_found(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/apps?og={fleet.acme}")
    assert "Sync purchased apps" not in page.text and "quince vpp set-token --group-id acme" in page.text
    refused = await _post(client, f"/console/apps?og={fleet.acme}", f"/console/apps/sync?og={fleet.acme}")
    assert refused.status_code == 404
    assert await _count(session, JobRow) == 0


async def test_a_read_only_admin_sees_no_sync_button_and_cannot_queue_one(
    client: httpx.AsyncClient, fleet: Fleet, catalog: Catalog, session: AsyncSession
) -> None:
    await sign_in(client, "acme-reader")
    page = await client.get(f"/console/apps?og={fleet.acme}")
    assert "Sync purchased apps" not in page.text and "Last synced" in page.text
    refused = await client.post(f"/console/apps/sync?og={fleet.acme}",
                                data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 403
    forged = await client.post(f"/console/apps/sync?og={fleet.acme}", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and "This page has expired" in forged.text
    assert await _count(session, JobRow) == 0
