"""GET /docs: the API reference, drawn by a vendored Swagger UI from /openapi.json."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def api_reference(request: Request) -> Response:
    """Show the interactive API reference (FastAPI's own page loads Swagger UI from a CDN)."""
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "api_docs.html", {"openapi_url": request.app.openapi_url}
    )
    return response
