"""`quince og`: the organization group tree from the command line."""

from __future__ import annotations

from tests.e2e.cli.conftest import Cli


async def _acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Sales", "--group-id", "acme-sales")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Engineering", "--group-id", "acme-eng")


async def test_og_create_prints_the_new_group_with_pascal_case_keys(cli: Cli) -> None:
    created = await cli.json("og", "create", "--parent", "Global", "--name", "Acme Corp",
                             "--group-id", "acme", "--type", "Customer")
    assert set(created) == {"Id", "Uuid", "Name", "GroupId", "LocationGroupType", "ParentGroupId"}
    assert created["Name"] == "Acme Corp"
    assert created["GroupId"] == "acme"
    assert created["LocationGroupType"] == "Customer"
    assert created["ParentGroupId"] == "Global"
    assert isinstance(created["Id"], int)


async def test_og_create_defaults_to_a_container(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme", "--group-id", "acme",
                 "--type", "Customer")
    created = await cli.json("og", "create", "--parent", "ACME", "--name", "Sales", "--group-id", "sales")
    assert created["LocationGroupType"] == "Container"
    assert created["ParentGroupId"] == "acme"


async def test_og_tree_nests_children_under_their_parents(cli: Cli) -> None:
    await _acme(cli)
    await cli.ok("og", "create", "--parent", "acme-eng", "--name", "Mobile", "--group-id", "acme-eng-mobile")
    tree = await cli.json("og", "tree")
    assert tree["GroupId"] == "Global"
    [acme] = tree["Children"]
    assert acme["GroupId"] == "acme"
    assert [c["GroupId"] for c in acme["Children"]] == ["acme-eng", "acme-sales"]
    assert [c["GroupId"] for c in acme["Children"][0]["Children"]] == ["acme-eng-mobile"]


async def test_og_tree_human_output_shows_names_group_ids_and_types(cli: Cli) -> None:
    await _acme(cli)
    out = (await cli.ok("og", "tree", "--group-id", "acme")).stdout
    assert "Acme Corp" in out and "acme-sales" in out and "Customer" in out and "Container" in out
    assert "Global" not in out


async def test_og_list_filters_by_name(cli: Cli) -> None:
    await _acme(cli)
    listed = await cli.json("og", "list", "--name", "eng")
    assert [og["GroupId"] for og in listed] == ["acme-eng"]
    everything = await cli.json("og", "list")
    assert {og["GroupId"] for og in everything} == {"Global", "acme", "acme-sales", "acme-eng"}


async def test_og_show_counts_what_the_group_holds(cli: Cli) -> None:
    await _acme(cli)
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme-sales")
    shown = await cli.json("og", "show", "acme-sales")
    assert shown["GroupId"] == "acme-sales"
    assert shown["Users"] == 1
    assert (await cli.json("og", "show", "acme"))["ChildGroups"] == 2


async def test_og_update_renames_changes_the_group_id_and_moves(cli: Cli) -> None:
    await _acme(cli)
    await cli.ok("og", "create", "--parent", "acme-sales", "--name", "EU", "--group-id", "eu")
    updated = await cli.json("og", "update", "eu", "--name", "Europe", "--new-group-id", "acme-eu",
                             "--parent", "acme-eng")
    assert updated["Name"] == "Europe"
    assert updated["GroupId"] == "acme-eu"
    assert updated["ParentGroupId"] == "acme-eng"


async def test_og_delete_removes_an_empty_group(cli: Cli) -> None:
    await _acme(cli)
    deleted = await cli.json("og", "delete", "acme-sales")
    assert deleted["Deleted"]["GroupId"] == "acme-sales"
    assert "acme-sales" not in {og["GroupId"] for og in await cli.json("og", "list")}


async def test_og_create_refuses_a_group_id_with_a_space_naming_the_rule(cli: Cli) -> None:
    message = await cli.fails("og", "create", "--parent", "Global", "--name", "Acme",
                              "--group-id", "acme corp")
    assert "'acme corp' is not valid" in message
    assert "only letters" in message


async def test_og_create_refuses_a_group_id_taken_in_another_case(cli: Cli) -> None:
    await _acme(cli)
    message = await cli.fails("og", "create", "--parent", "acme", "--name", "Dup", "--group-id", "ACME-Sales")
    assert "'ACME-Sales' is already used" in message
    assert "ignoring case" in message


async def test_og_delete_refuses_a_group_that_holds_children(cli: Cli) -> None:
    await _acme(cli)
    message = await cli.fails("og", "delete", "acme")
    assert "Cannot delete organization group 'Acme Corp'" in message
    assert "child organization groups (2)" in message
    assert "acme" in {og["GroupId"] for og in await cli.json("og", "list")}


async def test_og_update_refuses_to_move_a_group_that_holds_users(cli: Cli) -> None:
    await _acme(cli)
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme-sales")
    message = await cli.fails("og", "update", "acme-sales", "--parent", "acme-eng")
    assert "Cannot move or retype organization group 'Sales'" in message
    assert "users (1)" in message


async def test_og_commands_name_an_unknown_group_id(cli: Cli) -> None:
    message = await cli.fails("og", "show", "nowhere")
    assert "'nowhere' was not found" in message


async def test_an_unusable_database_is_one_clear_error_not_a_traceback(cli: Cli) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    message = await cli.fails(
        "og", "tree", QUINCE_DATABASE_URL="postgresql+asyncpg://quince:s3cret-pw@127.0.0.1:1/quince"
    )
    assert message.startswith("Error: Cannot use the database at postgresql+asyncpg://quince:***@")
    assert "s3cret-pw" not in message
    assert "QUINCE_DATABASE_URL" in message
    assert "Traceback" not in message
