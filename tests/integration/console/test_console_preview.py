"""Console "Where will a user enroll?" over HTTP: the decision, its basis and trace, rank tie-breaking,
refusals, users outside the admin's groups, and names of other tenants' groups kept hidden."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, user_groups, users
from quince.services.scope import Scope
from quince.store.paging import PageRequest
from tests.integration.console.support import Fleet, sign_in

UE = "user_enrollment_enabled"
OUTSIDE = "an organization group outside the groups you manage"


@pytest.fixture
async def ue_on(session: AsyncSession, scope: Scope, fleet: Fleet) -> Fleet:
    """The fleet with User Enrollment enabled at Global, so every OG inherits it."""
    await og_settings.override(session, scope, scope.og_id, UE, True)
    await session.commit()
    return fleet


async def _user_id(session: AsyncSession, scope: Scope, name: str) -> int:
    return (await users.get_by_username(session, scope, name)).id


async def _map(session: AsyncSession, scope: Scope, name: str, home: int, target: int, rank: int,
               *members: str) -> int:
    group = await user_groups.create(session, scope, name=name, og_id=home)
    await user_groups.add_mapping(session, scope, group.id, target, rank)
    for member in members:
        await user_groups.add_member(session, scope, group.id, await _user_id(session, scope, member))
    await session.commit()
    return group.id


def _flat(page: str) -> str:
    """The page with every run of whitespace made one space (templates wrap their lines)."""
    return re.sub(r"\s+", " ", page)


def _main(page: str) -> str:
    return _flat(page.split("<main", 1)[1].split("</main>", 1)[0])


def _trace(page: str) -> list[str]:
    block = page.split('id="decision-trace">')[1].split("</ol>")[0]
    return [html.unescape(step) for step in re.findall(r"<li>(.*?)</li>", block, re.S)]


async def test_the_form_alone_suggests_the_admins_users(client: httpx.AsyncClient, ue_on: Fleet) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/preview?og={ue_on.acme}")
    assert page.status_code == 200 and "<h1>Where will a user enroll?</h1>" in page.text
    assert 'method="get" action="/console/preview"' in page.text and 'method="post"' not in page.text.split(
        "<main")[1]
    assert '<option value="alice">' in page.text and '<option value="bob">' in page.text
    assert '<option value="erin">' not in page.text
    assert "Decision trace" not in page.text
    narrowed = (await client.get(f"/console/preview?og={ue_on.acme}&user=bo&suggest=1")).text
    assert '<option value="bob">' in narrowed and '<option value="alice">' not in narrowed
    assert "Decision trace" not in narrowed


async def test_without_a_group_id_the_user_enrolls_into_their_own_og(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, ue_on: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/preview?og={ue_on.acme}&username=Alice")
    assert page.status_code == 200
    text = _flat(page.text)
    assert "alice's device would enroll into <strong>Sales</strong>" in text
    assert "The user&#39;s default enrollment organization group" in text
    assert "Enabled at the target, inherited from Global" in text
    alice = await _user_id(session, scope, "alice")
    assert f'href="/console/users/{alice}?og={ue_on.sales}"' in text
    assert f'href="/console/devices?og={ue_on.sales}&amp;user=alice"' in text
    assert _trace(text) == [
        "User 'alice' is active; enrollment organization group is 'Sales' (Group ID sales).",
        "No Group ID entered.",
        "No user-group mapping matches the user.",
        "Candidate: the user's enrollment organization group 'Sales' (Group ID sales).",
        "User Enrollment is enabled at 'Sales' (Group ID sales) (inherited from 'Global' (Group ID Global)).",
        "Decision: enroll into 'Sales' (Group ID sales).",
    ]


async def test_a_group_id_below_the_users_og_is_used_and_a_bad_one_gets_the_policys_message(
    client: httpx.AsyncClient, ue_on: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    base = f"/console/preview?og={ue_on.acme}&user=alice"
    below = (await client.get(f"{base}&group_id=sales-eu")).text
    assert "<strong>Sales EU</strong>" in below and "The Group ID entered" in below
    assert "<code>sales-eu</code>" in below
    unknown = await client.get(f"{base}&group_id=nonsense")
    assert unknown.status_code == 200 and "Enrollment would be refused:" in unknown.text
    assert "The Group ID &#39;nonsense&#39; is not recognised." in unknown.text
    assert 'value="nonsense"' in unknown.text
    sideways = (await client.get(f"{base}&group_id=field")).text
    assert "Your account cannot enroll into Group ID &#39;field&#39;." in sideways
    assert "&#39;Field&#39; (Group ID field) is not &#39;Sales&#39; (Group ID sales) or below it" in sideways


async def test_the_best_rank_wins_and_a_tie_is_broken_by_name_and_shown(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, ue_on: Fleet
) -> None:
    zeta = await _map(session, scope, "Zeta", ue_on.acme, ue_on.field, 1, "alice")
    await _map(session, scope, "Alpha", ue_on.acme, ue_on.sales_eu, 1, "alice")
    await sign_in(client, "acme-admin")
    path = f"/console/preview?og={ue_on.acme}&user=alice&group_id=sales"
    tied = (await client.get(path)).text
    assert "<strong>Sales EU</strong>" in tied and "A user-group mapping" in tied
    assert "Yes: several mappings share the best rank" in tied
    tie = "Tie at rank 1 between 'Alpha', 'Zeta': chose 'Alpha'"
    assert any(step.startswith(tie) for step in _trace(tied))
    assert "The entered Group ID 'sales' is ignored: a user-group mapping wins." in _trace(tied)
    assert re.search(r'<tr class="pv-chosen">\s*<td>1</td>\s*<td><a href="[^"]+">Alpha</a>', tied)
    mapping = (await user_groups.mappings(session, scope, zeta))[0]
    await user_groups.update_mapping(session, scope, zeta, mapping.id, 2)
    await user_groups.add_mapping(session, scope, zeta, ue_on.sales, 1)  # Zeta's better mapping
    alpha = (await user_groups.search(session, scope, PageRequest(0, 5), name="Alpha")).items[0]
    alpha_mapping = (await user_groups.mappings(session, scope, alpha.id))[0]
    await user_groups.update_mapping(session, scope, alpha.id, alpha_mapping.id, 3)
    await session.commit()
    ranked = (await client.get(path)).text
    assert "<strong>Sales</strong>" in ranked and "Mapping tie</dt> <dd>No" in _flat(ranked)
    assert "Best rank is 1: user group 'Zeta'." in _trace(ranked)


async def test_enrollment_is_refused_when_user_enrollment_is_disabled_at_the_target(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, ue_on: Fleet
) -> None:
    await og_settings.override(session, scope, ue_on.sales, UE, False)
    await session.commit()
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/preview?og={ue_on.acme}&user=alice")
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert ("User Enrollment is not enabled for organization group &#39;Sales&#39; (setting set at "
            "&#39;Sales&#39;). Contact your IT department.") in page.text
    assert "Not enabled at the target, set there" in _flat(page.text)
    assert _trace(page.text)[-1] == ("User Enrollment is disabled at 'Sales' (Group ID sales) "
                                     "(overridden here): enrollment refused.")
    # Sales EU inherits the refusal from Sales.
    below = (await client.get(f"/console/preview?og={ue_on.acme}&user=bob")).text
    assert "inherited from &#39;Sales&#39;" in below and "inherited from Sales" in below


async def test_an_inactive_user_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, ue_on: Fleet
) -> None:
    await users.update(session, scope, await _user_id(session, scope, "bob"), users.UserChanges(active=False))
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/preview?og={ue_on.acme}&user=bob")).text
    assert "Your account is not active" in page and '<span class="badge">inactive</span>' in page


async def test_a_user_outside_the_admins_groups_reads_like_no_user_at_all(
    client: httpx.AsyncClient, ue_on: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    for name in ("erin", "ghost"):
        page = await client.get(f"/console/preview?og={ue_on.acme}&user={name}")
        assert page.status_code == 404 and 'role="alert"' in page.text
        assert f"There is no user named &#39;{name}&#39; in the groups you manage." in page.text
        assert f'value="{name}"' in page.text and "Decision trace" not in page.text
        assert "Beta" not in page.text
    assert (await client.get(f"/console/preview?og={ue_on.beta}&user=alice")).status_code == 404
    await sign_in(client, "beta-admin")
    assert (await client.get("/console/preview?user=alice")).status_code == 404
    assert (await client.get("/console/preview?user=erin")).status_code == 200


async def test_a_target_outside_the_admins_groups_is_not_named(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, ue_on: Fleet
) -> None:
    # A Global operator put alice into a Beta user group mapped to Beta: her device goes there.
    await _map(session, scope, "Beta crew", ue_on.beta, ue_on.beta, 1, "alice")
    await _map(session, scope, "Sales team", ue_on.sales, ue_on.sales, 2, "alice")
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/preview?og={ue_on.acme}&user=alice")
    assert page.status_code == 200
    text = _flat(page.text)
    assert "Beta" not in text and "Group ID beta" not in text
    assert f"alice's device would enroll into {OUTSIDE}." in text
    assert "a user group outside the groups you manage" in text and ">Sales team</a>" in text
    assert "their names are replaced" in text
    trace = _trace(text)
    assert f"Candidate: {OUTSIDE} from user group a user group outside the groups you manage." in trace
    assert f"Decision: enroll into {OUTSIDE}." in trace
    assert any("'Sales team' -> 'Sales' (Group ID sales) rank 2" in step for step in trace)
    # Refused at the hidden target: the page says so without the policy's named message.
    await og_settings.override(session, scope, ue_on.beta, UE, False)
    await session.commit()
    refused = (await client.get(f"/console/preview?og={ue_on.acme}&user=alice")).text
    assert "Beta" not in refused
    assert f"User Enrollment is not enabled for the target, {OUTSIDE}." in refused
    # Nor does the Beta admin learn anything about alice, who is outside their groups.
    await sign_in(client, "beta-admin")
    assert (await client.get("/console/preview?user=alice")).status_code == 404


async def test_a_group_id_of_another_tenant_reads_exactly_like_one_that_exists_nowhere(
    client: httpx.AsyncClient, ue_on: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    base = f"/console/preview?og={ue_on.acme}&user=alice"
    # "Beta" is another customer's Group ID (any case) and its name: neither may change a word.
    elsewhere = await client.get(f"{base}&group_id=Beta")
    nowhere = await client.get(f"{base}&group_id=Nowhere")
    assert elsewhere.status_code == nowhere.status_code == 200
    assert _main(elsewhere.text) == _main(nowhere.text).replace("Nowhere", "Beta")
    assert "The Group ID &#39;Beta&#39; is not recognised." in elsewhere.text
    assert "No organization group has Group ID 'Beta': enrollment refused." in _trace(elsewhere.text)
    assert OUTSIDE not in elsewhere.text


async def test_a_read_only_admin_may_preview(client: httpx.AsyncClient, ue_on: Fleet) -> None:
    await sign_in(client, "acme-reader")
    page = await client.get(f"/console/preview?og={ue_on.acme}&user=alice")
    assert page.status_code == 200 and "<strong>Sales</strong>" in page.text
    assert page.text.count('method="post"') == 1  # sign-out only


async def test_the_preview_takes_username_and_still_takes_user(
    client: httpx.AsyncClient, ue_on: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    for name in ("username", "user"):
        page = await client.get(f"/console/preview?og={ue_on.acme}&{name}=alice")
        assert page.status_code == 200 and "alice's device would enroll into" in _flat(page.text), name
