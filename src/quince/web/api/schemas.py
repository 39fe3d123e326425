"""PascalCase JSON shapes of the REST API, as Workspace ONE's v1 API spells them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")


class IdValue(ApiModel):
    value: int


class Reference(ApiModel):
    """How Workspace ONE points at another object: `{Id: {Value}, Name, Uuid}`."""

    id: IdValue
    name: str
    uuid: str


def wire_time(value: datetime) -> str:
    """Workspace ONE timestamps carry no zone; Quince's are UTC."""
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds")


class Paged(ApiModel):
    page: int
    page_size: int
    total: int


class LocationGroup(ApiModel):
    id: IdValue
    uuid: str
    name: str
    group_id: str
    location_group_type: str
    country: str | None = None
    locale: str | None = None
    parent_location_group: Reference | None = None
    lg_level: int | None = None
    created_on: str
    users: str
    admins: str
    devices: str


class LocationGroupSearch(Paged):
    location_groups: list[LocationGroup]


class LocationGroupCreate(ApiModel):
    name: str = Field(max_length=100)
    group_id: str = Field(max_length=64)
    location_group_type: str = Field("Container", max_length=32)
    country: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, max_length=16)


class LocationGroupUpdate(ApiModel):
    """Fields to change; a new ParentId moves the OG (only while it holds nothing)."""

    name: str | None = Field(None, max_length=100)
    group_id: str | None = Field(None, max_length=64)
    location_group_type: str | None = Field(None, max_length=32)
    parent_id: int | None = None
    country: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, max_length=16)
