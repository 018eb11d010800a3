"""kafka-python client settings from the JOURNEY_* settings (CONTRACT.md section 3).

Security settings are passed through only when set, so that a plain local broker needs nothing.
kafka-python 3.x rejects unknown keys, so only keys it knows appear here.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from journey.settings import Settings

#: A member that stops heartbeating (a crashed consumer) is replaced after this long. Lower than the
#: client default (45 s) so that a restarted consumer gets its partitions back quickly; heartbeats run
#: on kafka-python's IO thread, so long batches do not count against it (max_poll_interval_ms does).
SESSION_TIMEOUT_MS = 10_000
HEARTBEAT_INTERVAL_MS = 3_000
#: Cap of the exponential reconnect backoff: a broker that comes back is found within seconds.
RECONNECT_BACKOFF_MAX_MS = 5_000


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection settings shared by consumers, producers and admin clients."""
    config: dict[str, Any] = {
        "bootstrap_servers": [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()],
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }
    optional = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": _secret(settings.kafka_sasl_password),
        "ssl_cafile": settings.kafka_ssl_cafile,
        "ssl_certfile": settings.kafka_ssl_certfile,
        "ssl_keyfile": settings.kafka_ssl_keyfile,
        "ssl_password": _secret(settings.kafka_ssl_password),
    }
    config.update({key: value for key, value in optional.items() if value})
    if not settings.kafka_ssl_check_hostname:
        config["ssl_check_hostname"] = False
    return config


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def consumer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """A group consumer of raw bytes that commits nothing by itself and starts at the beginning."""
    return {
        **client_config(settings),
        "group_id": settings.kafka_group,
        "client_id": "journey-consume",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        **overrides,
    }


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """An idempotent producer of raw bytes (kafka-python 3.x defaults: acks='all', idempotence on)."""
    return {
        **client_config(settings),
        "client_id": "journey-produce",
        "acks": "all",
        "linger_ms": 10,
        "batch_size": 256 * 1024,
        **overrides,
    }
