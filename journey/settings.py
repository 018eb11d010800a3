"""JOURNEY_* settings (pydantic-settings), and their translation to the eventsourcing env.

This is the only module of `journey` that reads the process environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.errors import JourneyError


class InvalidDatabaseUrlError(JourneyError, ValueError):
    """JOURNEY_DATABASE_URL is neither sqlite:///PATH nor postgresql://..."""


class InvalidSettingsError(JourneyError, ValueError):
    """A JOURNEY_* setting (or the flag that overrides it) has a value it cannot take."""


#: The key personal data is hashed with when JOURNEY_PII_KEY is not set: for development only.
DEVELOPMENT_PII_KEY = "journey-dev-pii-key"


class Settings(BaseSettings):
    """CONTRACT.md section 3: configuration by env var, overridable by CLI flags."""

    model_config = SettingsConfigDict(env_prefix="JOURNEY_", extra="ignore")

    database_url: str = "sqlite:///./journey.db"
    kafka_bootstrap: str = "localhost:9092"
    kafka_topic: str = "touchpoints"
    kafka_group: str = "journey-ingest"
    #: Kafka security, passed to kafka-python when set (README.md, "Configuration")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] | None = None
    kafka_sasl_mechanism: (
        Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"] | None
    ) = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None  # the client certificate (mutual TLS)
    kafka_ssl_keyfile: str | None = None
    kafka_ssl_password: SecretStr | None = None  # of the key file
    kafka_ssl_check_hostname: bool = True
    rules: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_keys: str = ""
    pii_key: str = Field(default=DEVELOPMENT_PII_KEY, repr=False)
    tasks_topic: str = "journey.tasks"
    #: processes computing view rows in a large catch-up or a rebuild; 0: one per core
    view_workers: int = Field(default=0, ge=0)

    @property
    def public_pii_key(self) -> bool:
        """Whether personal data is hashed with the development key everyone knows (set
        JOURNEY_PII_KEY in production: the hashes of a store are only as secret as its key)."""
        return self.pii_key == DEVELOPMENT_PII_KEY

    @property
    def api_key_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())


def load_settings(**given: object) -> Settings:
    """Settings from the environment, overridden by the values given (CLI flags); a bad value is an
    InvalidSettingsError naming its JOURNEY_* variable (never echoing a secret)."""
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = "JOURNEY_" + "_".join(str(part) for part in first["loc"][:1]).upper()
        raise InvalidSettingsError(f"{name}: {first['msg']}") from None


def sqlite_file(database_url: str) -> Path | None:
    """The file an SQLite store lives in (None for PostgreSQL, an in-memory store or a `file:` URI)."""
    if urlparse(database_url).scheme != "sqlite":
        return None
    path = _sqlite_path(database_url)
    return None if path == ":memory:" or path.startswith("file:") else Path(path)


def _sqlite_path(database_url: str) -> str:
    path = (
        database_url[len("sqlite:///") :]
        if database_url.startswith("sqlite:///")
        else urlparse(database_url).path
    )
    if not path:
        raise InvalidDatabaseUrlError(f"database_url: no file path in {database_url!r}")
    return path


def eventsourcing_env(database_url: str) -> dict[str, str]:
    """The eventsourcing library's persistence settings for a JOURNEY_DATABASE_URL."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        path = _sqlite_path(database_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "CREATE_TABLE": "y",
        }
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        if not url.hostname or not url.path.strip("/"):
            raise InvalidDatabaseUrlError(
                f"database_url: host and database name are required in {redacted_url(database_url)}"
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.strip("/"),
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "5",
            "CREATE_TABLE": "y",
        }
    raise InvalidDatabaseUrlError(
        f"database_url: unsupported scheme {url.scheme!r} (use sqlite:///PATH or postgresql://...)"
    )


def redacted_url(text: str) -> str:
    """A database URL fit for output and logs: the password replaced by ***."""
    parsed = urlparse(text)
    if parsed.password:
        text = text.replace(f":{parsed.password}@", ":***@")
    return text
