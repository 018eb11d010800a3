"""Fixtures for tests against a real Kafka broker (KRaft, single node).

The broker comes from deploy/kafka/kafka.sh (jars fetched from Maven Central
with mvn on first use, then cached in deploy/kafka/lib/).  Needs Java 17+.
Select or skip these tests with ``-m kafka`` / ``-m "not kafka"``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[3]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from tests.kafka_broker import KafkaBroker  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafka: needs a real Kafka broker (deploy/kafka/kafka.sh, Java 17+)")
    # kafka-python 3.0.12 loads its protocol schemas with the legacy
    # importlib.resources API: ~200 DeprecationWarnings per run, none ours.
    config.addinivalue_line(
        "filterwarnings", "ignore:read_text is deprecated:DeprecationWarning:kafka.protocol.schemas.load_json"
    )
    config.addinivalue_line(
        "filterwarnings", "ignore:open_text is deprecated:DeprecationWarning:importlib.resources._legacy"
    )


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A running broker on a free port with its data in a temp dir.

    Shared by the whole session; tests that stop, kill or restart it must
    leave it running again.  Topics should use unique names.
    """
    if shutil.which("java") is None:  # scripts/setup --all installs it; a missing JVM is a set-up failure
        pytest.fail("java not found: the Kafka broker needs Java 17+ (run scripts/setup --all)")
    broker = KafkaBroker(data_dir=tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped after."""
    import uuid

    from tests.pg_server import drop_database, ensure_postgres, fresh_database

    server = ensure_postgres()
    name = f"t_kafka_{uuid.uuid4().hex[:10]}"
    yield fresh_database(server, name)
    drop_database(server, name)
