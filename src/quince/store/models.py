"""SQLAlchemy models: the tables Quince stores. Migrations in store/migrations follow these.

One module past ~400 lines on purpose: it holds one job, the schema, as plain table declarations
with no behaviour; its one `Base.metadata` is what Alembic and the migrations test compare, and
the tables' foreign keys cross every kind of record, so it reads best whole, in dependency order.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OrgGroupRow(Base):
    __tablename__ = "organization_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[str] = mapped_column(String(64))
    group_id_key: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    # Materialized path "/1/4/9/": subtree checks and filters are one indexed prefix match.
    path: Mapped[str] = mapped_column(String(1024), index=True)
    country: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OGSettingRow(Base):
    __tablename__ = "og_settings"

    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bool | str] = mapped_column(JSON)
    child_permission: Mapped[str] = mapped_column(String(24))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class EnrollmentUserRow(Base):
    __tablename__ = "enrollment_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(128))
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    managed_apple_id: Mapped[str] = mapped_column(String(254), index=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    og: Mapped[OrgGroupRow] = relationship(lazy="raise")


class SignInNameRow(Base):
    """Every name an enrollment user signs in with (username, email, managed Apple ID), folded
    to lower case. The key is unique install-wide: what a person types names one user, whichever
    tenant they belong to (docs/security.md, "One name, one person")."""

    __tablename__ = "sign_in_names"

    name_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="CASCADE"), index=True
    )


class UserGroupRow(Base):
    __tablename__ = "user_groups"
    __table_args__ = (UniqueConstraint("og_id", "name_key", name="uq_user_groups_og_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    og: Mapped[OrgGroupRow] = relationship(lazy="raise")


class UserGroupMemberRow(Base):
    __tablename__ = "user_group_members"

    user_group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserGroupMappingRow(Base):
    __tablename__ = "user_group_mappings"
    __table_args__ = (
        UniqueConstraint("user_group_id", "og_id", name="uq_user_group_mappings_group_og"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), index=True
    )
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdminRow(Base):
    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(128))
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OAuthClientRow(Base):
    """A REST API client of OAuth 2.0 client credentials (docs/api.md): it reaches its OG's subtree
    with its role. Its secret is a 256-bit random value shown once; only its SHA-256 is stored."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(160), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuthTokenRow(Base):
    """An access token issued to an OAuth client; only its SHA-256 is stored. Revoking the client
    deletes its tokens; expired ones are deleted by the hourly housekeeping."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    oauth_client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"),
                                                 index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AdminSessionRow(Base):
    """A console sign-in. The browser holds the token; only its SHA-256 is stored. Deleting the
    row ends the session on the server (sign-out, password, role or activation changes)."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100), default="")
    # Keys are 256-bit random strings, so a plain SHA-256 is enough to store them safely.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8))
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceRow(Base):
    """A device record; issue 2 needs only what OG deletion checks, later issues add the rest."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True
    )
    enrollment_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="RESTRICT"), index=True
    )
    udid: Mapped[str | None] = mapped_column(String(128), index=True)
    enrollment_status: Mapped[str] = mapped_column(String(32))
    ownership: Mapped[str] = mapped_column(String(16))
    is_user_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    license_type_eligibility: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Rule 2: a user who restarts enrollment gets a new placeholder; the old one points at it.
    superseded_by_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the device reports at Authenticate and in DeviceInformation (never hardware ids for UE).
    os_version: Mapped[str | None] = mapped_column(String(32))
    build_version: Mapped[str | None] = mapped_column(String(32))
    product_name: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(64))
    device_name: Mapped[str | None] = mapped_column(String(128))
    inventory: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # The MDM channel: the identity certificate bound at Authenticate, and push data.
    certificate_id: Mapped[int | None] = mapped_column(
        # use_alter: devices -> certificates -> sessions -> devices is a cycle of references.
        ForeignKey("device_certificates.id", ondelete="SET NULL", use_alter=True), index=True
    )
    topic: Mapped[str | None] = mapped_column(String(255))
    push_token: Mapped[str | None] = mapped_column(String(512))  # hex
    push_magic: Mapped[str | None] = mapped_column(String(255))
    push_state: Mapped[str | None] = mapped_column(String(24))  # None, "ok" or "invalid_token"
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unenrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The device list's "last seen, newest first" order (migration 0005): PostgreSQL only, as SQLite
# has no NULLS LAST in indexes and its backward scan of ix_devices_last_seen_at gives that order.
Index(
    "ix_devices_last_seen_desc", DeviceRow.last_seen_at.desc().nulls_last(), DeviceRow.id
).ddl_if(dialect="postgresql")
# The console's dashboard (migration 0008): counts by OG and status read this index alone, and the
# enrollments-per-day chart reads a range of enrolled_at.
Index("ix_devices_og_status_superseded", DeviceRow.og_id, DeviceRow.enrollment_status,
      DeviceRow.superseded_by_device_id)
Index("ix_devices_enrolled_at", DeviceRow.enrolled_at)


class DeviceMessageRow(Base):
    """The raw plist of every check-in and connect message a device sent (for support)."""

    __tablename__ = "device_messages"
    __table_args__ = (Index("ix_device_messages_device_time", "device_id", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # "checkin" or "connect"
    message_type: Mapped[str] = mapped_column(String(48))  # MessageType, or the connect Status
    command_uuid: Mapped[str | None] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CommandRow(Base):
    """One MDM command queued for one device, and what became of it."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_device_status", "device_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True, default=new_uuid)  # CommandUUID
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    request_type: Mapped[str] = mapped_column(String(64))
    command: Mapped[dict[str, object]] = mapped_column(JSON)  # the Command dict sent to the device
    # Queued -> Pending (sent) -> Acknowledged | Error | CommandFormatError; NotNow -> sent again
    status: Mapped[str] = mapped_column(String(24))
    queued_by: Mapped[str | None] = mapped_column(String(160))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_chain: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    result_raw: Mapped[bytes | None] = mapped_column(LargeBinary)


class JobRow(Base):
    """Durable background work (APNs pushes, later Apps and Books calls), written in the same
    transaction as the change that causes it and claimed by workers."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "status", "run_after"),
        Index("ix_jobs_kind_key_status", "kind", "dedupe_key", "status"),
        # At most one waiting job per (kind, dedupe_key): concurrent enqueues coalesce.
        Index("uq_jobs_waiting_dedupe", "kind", "dedupe_key", unique=True,
              sqlite_where=text("status = 'waiting'"), postgresql_where=text("status = 'waiting'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    dedupe_key: Mapped[str | None] = mapped_column(String(128))  # coalesces waiting jobs
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # waiting, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EnrollmentSessionRow(Base):
    """One sign-in that decided a target OG: from the sign-in pages to the device's first check-in."""

    __tablename__ = "enrollment_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="RESTRICT"), index=True
    )
    flow: Mapped[str] = mapped_column(String(16))  # "account" (account-driven) or "web"
    og_id: Mapped[int] = mapped_column(ForeignKey("organization_groups.id", ondelete="RESTRICT"))
    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="RESTRICT"), unique=True
    )
    decision_basis: Mapped[str] = mapped_column(String(32))
    decision_trace: Mapped[list[str]] = mapped_column(JSON)
    entered_group_id: Mapped[str | None] = mapped_column(String(64))
    user_identifier: Mapped[str | None] = mapped_column(String(254))
    managed_apple_id: Mapped[str] = mapped_column(String(254))
    machine_info: Mapped[dict[str, object] | None] = mapped_column(JSON)
    machine_info_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(24))
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EnrollmentSecretRow(Base):
    """A single-purpose secret bound to one enrollment session, stored as a SHA-256 hash.

    kind: "access_token" (account-driven bearer), "profile_download" (web flow, single use) or
    "scep_challenge" (single use). The plain value leaves Quince once and is never stored or logged.
    """

    __tablename__ = "enrollment_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceCertificateRow(Base):
    """A device identity certificate Quince's CA issued through SCEP, and the session it is for."""

    __tablename__ = "device_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # lowercase hex
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(512))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_sessions.id", ondelete="RESTRICT"), index=True
    )
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInAttemptRow(Base):
    """Sign-in attempts on the enrollment pages, for rate limiting across Quince processes."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_user_time", "username_key", "created_at"),
        Index("ix_sign_in_attempts_address_time", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username_key: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


Index("ix_enrollment_users_email", EnrollmentUserRow.email)


class EnrollmentRefusalRow(Base):
    """An enrollment the policy or the sign-in refused after the user was identified, with the
    reason shown to them (the console's dashboard lists the recent ones)."""

    __tablename__ = "enrollment_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str] = mapped_column(String(254))
    # The OG the refusal concerns (the decided target, else the user's OG): it scopes who sees it.
    og_id: Mapped[int | None] = mapped_column(ForeignKey("organization_groups.id", ondelete="SET NULL"))
    og_path: Mapped[str] = mapped_column(String(1024), index=True)
    flow: Mapped[str] = mapped_column(String(16))
    entered_group_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))  # the error type, e.g. "UserEnrollmentDisabled"
    message: Mapped[str] = mapped_column(Text)


class UserImportRunRow(Base):
    """One CSV import of enrollment users started from the console, and its progress."""

    __tablename__ = "user_import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    og_id: Mapped[int] = mapped_column(ForeignKey("organization_groups.id", ondelete="CASCADE"), index=True)
    started_by: Mapped[str] = mapped_column(String(160))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # queued, running, finished, failed, interrupted
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # [[line, message], ...], the first ones only (error_count has them all).
    errors: Mapped[list[list[object]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)  # why the whole file failed, if it did
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last progress written: a queued or running run that stops moving lost its process.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppRow(Base):
    """An app in an OG's catalog: public App Store, in-house, or purchased through Apps and Books."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("og_id", "kind", "bundle_id", name="uq_apps_og_kind_bundle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    og_id: Mapped[int] = mapped_column(ForeignKey("organization_groups.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "public", "in_house" or "purchased"
    name: Mapped[str] = mapped_column(String(255))
    bundle_id: Mapped[str] = mapped_column(String(255))
    adam_id: Mapped[str | None] = mapped_column(String(32), index=True)  # purchased/public: App Store id
    manifest_url: Mapped[str | None] = mapped_column(String(1024))  # in-house
    device_licensing_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    total_licenses: Mapped[int] = mapped_column(Integer, default=0)
    assigned_licenses: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AppAssignmentRow(Base):
    """An app assigned to a user group or an OG (with its children), automatic or on demand."""

    __tablename__ = "app_assignments"
    __table_args__ = (
        UniqueConstraint("app_id", "target_kind", "target_id", name="uq_app_assignments_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # "user_group" or "og"
    target_id: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # "automatic" or "on_demand"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeviceAppRow(Base):
    """Where one app stands on one device, with a reason a helpdesk can read."""

    __tablename__ = "device_apps"
    __table_args__ = (UniqueConstraint("device_id", "app_id", name="uq_device_apps_device_app"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    # NotSupported, WaitingForVppUser, WaitingForLicense, InstallQueued, Installed, Failed, Removed
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    license_type: Mapped[str | None] = mapped_column(String(16))  # "user" or "device"
    command_uuid: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class VppTokenRow(Base):
    """An Apps and Books location token (sToken) set at an OG; OGs below inherit it. The token is
    kept encrypted and never logged or returned."""

    __tablename__ = "vpp_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    og_id: Mapped[int] = mapped_column(
        ForeignKey("organization_groups.id", ondelete="CASCADE"), unique=True
    )
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_sha256: Mapped[str] = mapped_column(String(64))
    organization_name: Mapped[str | None] = mapped_column(String(255))
    location_name: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VppUserRow(Base):
    """An enrollment user's Apps and Books user under one token (Registering, Associated, Retired)."""

    __tablename__ = "vpp_users"
    __table_args__ = (UniqueConstraint("token_id", "enrollment_user_id", name="uq_vpp_users_token_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("vpp_tokens.id", ondelete="CASCADE"), index=True)
    enrollment_user_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_users.id", ondelete="CASCADE"), index=True
    )
    client_user_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_uuid)
    managed_apple_id: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str | None] = mapped_column(String(64))
    id_hash: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class VppLicenseRow(Base):
    """A user-based licence of one purchased app for one VPP user."""

    __tablename__ = "vpp_licenses"
    __table_args__ = (UniqueConstraint("vpp_user_id", "app_id", name="uq_vpp_licenses_user_app"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vpp_user_id: Mapped[int] = mapped_column(ForeignKey("vpp_users.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # Associating, Associated, Releasing, Released
    event_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
