"""JOURNEY_* settings (CONTRACT.md section 3): Kafka security passed to kafka-python, bad values named."""

from __future__ import annotations

import pytest

from consumers.kafka_config import client_config, consumer_config
from journey.settings import InvalidSettingsError, Settings, load_settings


def test_kafka_security_settings_reach_kafka_python(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_SSL",
        "SASL_MECHANISM": "SCRAM-SHA-512",
        "SASL_USERNAME": "journey",
        "SASL_PASSWORD": "s3cret",
        "SSL_CAFILE": "/etc/kafka/ca.pem",
        "SSL_CERTFILE": "/etc/kafka/client.pem",
        "SSL_KEYFILE": "/etc/kafka/client.key",
        "SSL_PASSWORD": "k3y",
    }.items():
        monkeypatch.setenv(f"JOURNEY_KAFKA_{name}", value)

    settings = load_settings()
    config = consumer_config(settings)

    assert {k: config[k] for k in config if k.startswith(("security", "sasl", "ssl"))} == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "journey",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": "/etc/kafka/ca.pem",
        "ssl_certfile": "/etc/kafka/client.pem",
        "ssl_keyfile": "/etc/kafka/client.key",
        "ssl_password": "k3y",
    }
    assert "s3cret" not in repr(settings) and "k3y" not in repr(settings)


def test_a_plain_broker_needs_no_security_settings() -> None:
    config = client_config(Settings())

    assert not [k for k in config if k.startswith(("security", "sasl", "ssl"))]


def test_an_unknown_security_protocol_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOURNEY_KAFKA_SECURITY_PROTOCOL", "BOGUS")

    with pytest.raises(InvalidSettingsError, match="JOURNEY_KAFKA_SECURITY_PROTOCOL"):
        load_settings()


def test_a_flag_value_is_checked_like_the_variable() -> None:
    with pytest.raises(InvalidSettingsError, match="JOURNEY_API_PORT"):
        load_settings(api_port="eighty")
