"""405 answers that list every method the path supports, not only the first route's."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

from chirp.api.errors import error_response

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at this request's path."""
    # Asked of the routes themselves, method by method: included routers nest their routes.
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
            # A mount (the static files) matches every method and answers its own 405s.
            if not isinstance(route, Mount)
        )
    ]


def install_method_not_allowed(app: FastAPI) -> None:
    """Answer 405 with a complete ``Allow`` header (Starlette names one route's methods)."""

    # A path served by two routes (GET and DELETE /api/v1/statuses/{id}) answered an
    # OPTIONS with "Allow: GET", as if DELETE did not exist.
    @app.exception_handler(405)
    async def _method_not_allowed(request: Request, exc: HTTPException) -> Response:
        response = error_response(request, 405, "Method not allowed")
        allowed = allowed_methods(request)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
