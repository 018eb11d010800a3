"""Drive a real single-node Kafka broker (KRaft) from tests.

Thin wrapper around ``deploy/kafka/kafka.sh``: the script fetches the broker
jars from Maven Central once, formats the storage directory, starts the
broker in the background and waits until it answers a metadata request.

    broker = KafkaBroker()          # free port, fresh temp dir
    broker.start()
    broker.create_topic("journey-events", partitions=6)
    ... KafkaProducer(bootstrap_servers=broker.bootstrap) ...
    broker.kill()                   # SIGKILL, to simulate a crash
    broker.start()                  # same data dir: messages survive
    broker.stop()

Only the standard library is imported at module level; kafka-python is
imported lazily by :meth:`KafkaBroker.create_topic`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"


class KafkaBrokerError(RuntimeError):
    """kafka.sh failed; the message carries its output (incl. the log tail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` or any of its threads runs.

    Nothing may reap the broker (it outlives kafka.sh, and PID 1 in some
    containers does not reap), so a dead broker can linger as a zombie; and
    a SIGKILLed JVM's main thread turns zombie before its other threads are
    gone (they still hold the sockets).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        return True  # no procfs: trust kill(0)
    for stat in tasks.glob("*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
                return True
        except (OSError, IndexError):
            continue
    return False


class KafkaBroker:
    """A Kafka broker process managed through ``deploy/kafka/kafka.sh``.

    Args:
        port: client port; a free one is picked if omitted.
        data_dir: storage dir (logs, config, pid file); a temp dir if omitted,
            removed again by :meth:`cleanup` (which only removes dirs it made).
        start_timeout: seconds ``start`` waits for the broker to answer.
    """

    def __init__(
        self, port: int | None = None, data_dir: str | os.PathLike[str] | None = None, start_timeout: int = 90
    ) -> None:
        self.port = port or free_port()
        self._own_dir = data_dir is None
        self.data_dir = (
            Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix=f"kafka-{self.port}-"))
        )
        self.start_timeout = start_timeout

    # ------------------------------------------------------------ basics --

    @property
    def bootstrap(self) -> str:
        """``bootstrap_servers`` value for kafka-python clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid
        return pid is not None and _pid_alive(pid)

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<KafkaBroker {self.bootstrap} {state} dir={self.data_dir}>"

    def _run(self, command: str, timeout: float) -> str:
        env = dict(os.environ)
        env["KAFKA_START_TIMEOUT"] = str(self.start_timeout)
        proc = subprocess.run(
            ["bash", str(KAFKA_SH), command, "--port", str(self.port), "--dir", str(self.data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise KafkaBrokerError(
                f"kafka.sh {command} --port {self.port} --dir {self.data_dir} "
                f"exited {proc.returncode}:\n{proc.stdout}"
            )
        return proc.stdout

    # --------------------------------------------------------- lifecycle --

    @staticmethod
    def fetch() -> None:
        """Make sure the broker jars are in deploy/kafka/lib (no-op if they are)."""
        subprocess.run(["bash", str(KAFKA_SH), "fetch"], check=True, stdin=subprocess.DEVNULL)

    def start(self) -> KafkaBroker:
        """Start (formatting the storage on first use) and wait until ready.

        Idempotent: does nothing if the broker already runs.
        """
        # generous: the first call may also fetch the jars with mvn
        self._run("start", timeout=self.start_timeout + 600)
        return self

    def stop(self) -> None:
        """Graceful stop (SIGTERM, SIGKILL after 30 s). Idempotent."""
        self._run("stop", timeout=60)

    def kill(self) -> None:
        """SIGKILL the broker, as in a crash; waits until the process is gone."""
        pid = self.pid
        if pid is not None and _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _pid_alive(pid):
                if time.monotonic() > deadline:
                    raise KafkaBrokerError(f"broker pid {pid} survived SIGKILL")
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)

    def restart(self) -> KafkaBroker:
        """Graceful stop, then start on the same port and data dir."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop the broker and remove the data dir if this object created it."""
        try:
            self.stop()
        finally:
            if self._own_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # ------------------------------------------------------------ admin --

    def admin(self, **configs: Any) -> Any:
        """A kafka-python ``KafkaAdminClient`` for this broker (caller closes it)."""
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap, **configs)

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        configs: dict[str, str] | None = None,
    ) -> None:
        """Create a topic and wait until every partition has a leader."""
        admin = self.admin()
        try:
            admin.create_topics(
                {
                    name: {
                        "num_partitions": partitions,
                        "replication_factor": replication_factor,
                        "configs": dict(configs or {}),
                    }
                },
                wait_for_metadata=True,
            )
        finally:
            admin.close()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the broker log, for assertion messages."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server.log)"
