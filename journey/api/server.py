"""Running the API: uvicorn in this process, or N forked worker processes sharing one listening
socket (the views are read-only, so workers share nothing but the store)."""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
from types import FrameType

import structlog
import uvicorn

from journey.api.app import create_app
from journey.engine import Engine
from journey.settings import Settings

log = structlog.get_logger()


def serve(settings: Settings, workers: int = 1) -> None:
    """Serve the API on settings.api_host:api_port until interrupted.

    With workers > 1 each worker opens its own engine and keeps its own request metrics (a
    scrape of /metrics shows the worker that answered it; the store and views' figures are the
    same in all)."""
    if workers <= 1:
        _run(settings, None)
        return
    listener = socket.create_server((settings.api_host, settings.api_port), backlog=2048)
    listener.set_inheritable(True)
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_run, args=(settings, listener), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    log.info("api_workers_started", workers=workers, pids=[p.pid for p in processes])

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=30)
        listener.close()


def _run(settings: Settings, listener: socket.socket | None) -> None:
    engine = Engine.open(settings)
    try:
        config = uvicorn.Config(
            create_app(engine),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,  # the app logs each request by route template: no ids, no personal data
        )
        server = uvicorn.Server(config)
        gc.freeze()  # start-up objects out of the collector's way: shorter full collections, less tail latency
        server.run(sockets=[listener] if listener is not None else None)
    finally:
        engine.close()
