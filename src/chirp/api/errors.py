"""Turn errors into Mastodon's ``{"error": ...}`` bodies for the API, HTML pages otherwise."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from chirp.errors import ChirpError, ValidationFailed
from chirp.oauth.service import OAuthError
from chirp.web import error_pages
from chirp.web.csrf import CsrfFailed
from chirp.web.csrf_retry import csrf_failed

_JSON_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/")
# What nginx logs for a request whose client went away before the answer.
CLIENT_CLOSED_REQUEST = 499
_REASONS = {
    400: "Bad request",
    401: "The access token is invalid",
    403: "This action is not allowed",
    404: "Record not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable entity",
    429: "Too many requests",
}


def wants_json(request: Request) -> bool:
    """Whether this request should get JSON errors (the API) rather than an HTML page."""
    return request.url.path.startswith(_JSON_PREFIXES)


def error_response(request: Request, status: int, message: str, **extra: object) -> Response:
    """Answer with an error in the form the caller expects."""
    if wants_json(request):
        return JSONResponse({"error": message, **extra}, status_code=status)
    templates = request.app.state.templates
    context = {
        "status": status,
        "message": error_pages.page_message(status, message),
        "back": error_pages.way_back(request),
    }
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "error.html", context, status_code=status
    )


def _details(exc: ValidationFailed) -> dict[str, list[dict[str, str]]]:
    """Mastodon's ``details``: every problem, by field, described without the field's name."""
    details: dict[str, list[dict[str, str]]] = {}
    for problem in exc.problems:
        if problem.field:
            label = problem.field.replace("_", " ").capitalize() + " "
            description = problem.message.removeprefix(label)
            details.setdefault(problem.field, []).append(
                {"error": problem.code, "description": description}
            )
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that shape every error response."""

    @app.exception_handler(ChirpError)
    async def _chirp_error(request: Request, exc: ChirpError) -> Response:
        if isinstance(exc, ValidationFailed) and wants_json(request):
            message = f"Validation failed: {exc.message}"
            return JSONResponse(
                {"error": message, "details": _details(exc)}, status_code=exc.status
            )
        return error_response(request, exc.status, exc.message)

    # The most specific handler wins: a CSRF refusal offers the form back (chirp.web).
    app.add_exception_handler(CsrfFailed, csrf_failed)

    @app.exception_handler(OAuthError)
    async def _oauth_error(request: Request, exc: OAuthError) -> Response:
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description}, status_code=exc.status
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.detail else None
        if message is None or message == "Not Found":
            message = _REASONS.get(exc.status_code, "Error")
        response = error_response(request, exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up while sending its body: nothing went wrong here, and nobody is
        # left to answer. Unhandled, each one was logged as a server error with a traceback.
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if wants_json(request):
            return error_response(request, 422, error_pages.api_validation_message(errors))
        return error_response(request, 422, error_pages.page_validation_message(errors))
