"""OpenAPI at /docs with the Swagger UI of the `swagger-ui-bundle-v2` package (installed with the
project: FastAPI's default page loads it from a CDN, which these machines cannot reach)."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR = "/static/vendor/swagger-ui"


def swagger_ui_dir() -> Path:
    """The Swagger UI dist the package ships (``swagger_ui_bundle.swagger_ui_path``; untyped)."""
    return Path(str(import_module("swagger_ui_bundle").swagger_ui_path))


def mount_docs(app: FastAPI) -> None:
    """`/docs` (the app must be created with docs_url=None) and the Swagger UI assets it loads."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
        )

    app.mount(VENDOR, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")
