"""The dashboard at `/`: static HTML, JS and CSS from this package, and plotly.js from the `plotly`
wheel (installed with the project: no CDN). The shell holds no data; it reads the JSON API."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(str(files("journey.api") / "static"))


def plotly_js() -> Path:
    """plotly.min.js as the plotly package ships it."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/static/vendor/plotly.min.js")
def plotly() -> FileResponse:
    return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


def mount_dashboard(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
