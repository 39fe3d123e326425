"""Quince's configuration, read from QUINCE_* environment variables (or a .env file)."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUINCE_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    var_dir: Path = Field(Path("var"), description="Everything Quince writes lives here.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default sqlite+aiosqlite under var_dir."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="The URL devices and people reach Quince at."
    )
    log_level: str = "INFO"
    organization_name: str = Field("Quince", description="Shown on sign-in pages and in profiles.")
    apns_topic: str = Field(
        "com.apple.mgmt.External.quince-unconfigured",
        description="MDM push topic; set from the APNs certificate once it is configured.",
    )
    apns_url: str = Field(
        "https://api.push.apple.com",
        description="Base URL of Apple Push Notification service (HTTP/2, client-certificate auth).",
    )
    apns_ca_file: Path | None = Field(
        None, description="CA bundle to trust for APNs instead of the system's (tests, proxies)."
    )
    vpp_url: str = Field(
        "https://vpp.itunes.apple.com/mdm/v2",
        description="Base URL of Apple's Apps and Books (VPP) v2 service.",
    )
    workers: int = Field(
        1, ge=0, le=64,
        description="Background job workers (APNs pushes, retries) run by each server process; 0: none.",
    )
    enrollment_ttl_minutes: int = Field(
        60, ge=5, le=24 * 60,
        description="How long a sign-in stays good for fetching the profile and the certificate.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
        "believed (for sign-in rate limits and logs); empty: none.",
    )
    trust_client_cert_header: bool = Field(
        False,
        description="Accept a device certificate forwarded by a trusted TLS proxy in the RFC 9440 "
        "Client-Cert header (only from QUINCE_TRUSTED_PROXIES) when a request has no Mdm-Signature.",
    )
    metrics_allowed: str = Field(
        "127.0.0.1/32,::1/128",
        description="Comma-separated networks (CIDR) that may read /metrics (Prometheus); empty: "
        "/metrics is off. Anyone else gets 404.",
    )
    # Sign-in back-off (docs/security.md): enrollment sign-in, console and REST API alike.
    sign_in_free_failures_per_account: int = Field(
        5, ge=1, le=1000,
        validation_alias=AliasChoices("QUINCE_SIGN_IN_FREE_FAILURES_PER_ACCOUNT",
                                      "QUINCE_SIGN_IN_MAX_FAILURES_PER_USER"),
        description="Failures of one account from one address before each further attempt waits "
        "(1 s, doubling per failure).",
    )
    sign_in_free_failures_per_address: int = Field(
        20, ge=1, le=100_000,
        validation_alias=AliasChoices("QUINCE_SIGN_IN_FREE_FAILURES_PER_ADDRESS",
                                      "QUINCE_SIGN_IN_MAX_FAILURES_PER_ADDRESS"),
        description="Failures from one address, whatever the accounts, before attempts from it wait.",
    )
    sign_in_max_wait_seconds_per_account: int = Field(
        900, ge=1, le=24 * 3600,
        description="The longest wait one account from one address can be made to sit out (seconds).",
    )
    sign_in_max_wait_seconds_per_address: int = Field(
        60, ge=1, le=24 * 3600,
        description="The longest wait one address can be made to sit out (seconds); kept short so "
        "people sharing a NAT address with a guesser are slowed, not locked out.",
    )
    sign_in_first_wait_seconds: float = Field(
        1.0, ge=0.1, le=3600,
        description="The wait after the first failure beyond the free ones (seconds); each further "
        "failure doubles it, up to the maximum waits.",
    )
    sign_in_window_minutes: int = Field(
        60, ge=1, le=7 * 24 * 60, description="Failures older than this are forgotten (minutes)."
    )
    oauth_token_seconds: int = Field(
        3600, ge=60, le=24 * 3600,
        description="How long an OAuth access token of the REST API stays good (seconds).",
    )
    # Request body caps, one per face (web/body_limit.py): a larger body is refused with 413.
    device_max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=256 * 1024,
        description="The largest request a device may send under /DeviceServices/ (bytes): a command "
        "report; check-ins are held to 256 KB, SCEP and enrollment messages to 64 KB.",
    )
    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="The largest REST API request body, under /API/ (bytes)."
    )
    console_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="The largest console form, under /console/ (bytes)."
    )
    console_upload_max_bytes: int = Field(
        50 * 1024 * 1024, ge=1024,
        description="The largest file the console accepts for a CSV user import (bytes).",
    )
    sign_in_max_body_bytes: int = Field(
        64 * 1024, ge=1024,
        description="The largest form the enrollment sign-in pages accept, under /DeviceManagement/ (bytes).",
    )
    other_max_body_bytes: int = Field(
        64 * 1024, ge=1024, description="The largest request body on any other path (bytes)."
    )
    import_batch_size: int = Field(500, ge=1, le=10_000)

    @field_validator("metrics_allowed")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not an address or network (CIDR)") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'quince.db').resolve()}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def pki_dir(self) -> Path:
        """Quince's CA and profile-signing identity (quince.pki.authority)."""
        return self.var_dir / "pki"

    @property
    def apns_dir(self) -> Path:
        """The MDM push certificate and key (`quince apns set-cert`)."""
        return self.var_dir / "apns"

    def ensure_var_dir(self) -> None:
        """Create var/ (and var/log/) readable only by Quince's user."""
        for path in (self.var_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
