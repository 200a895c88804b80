"""405 answers that list every method the path supports, not only the first route's."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from chirp.api.errors import error_response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at this request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route_methods
    return sorted(methods)


def install_method_not_allowed(app: FastAPI) -> None:
    """Answer 405 with a complete ``Allow`` header (Starlette names one route's methods)."""

    # A path served by two routes (GET and DELETE /api/v1/statuses/{id}) answered an
    # OPTIONS with "Allow: GET", as if DELETE did not exist.
    @app.exception_handler(405)
    async def _method_not_allowed(request: Request, exc: HTTPException) -> Response:
        response = error_response(request, 405, "Method not allowed")
        response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response
