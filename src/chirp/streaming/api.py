"""Mastodon's streaming API: server-sent events per stream, and one WebSocket for all.

Served by the web processes themselves (no separate streaming server): the instance
entity advertises this host as ``streaming_api``. The streams are left out of the OpenAPI
document: they never end, which a generated client or a fuzzer cannot call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from chirp.streaming import auth as stream_auth
from chirp.streaming import channels, sse
from chirp.streaming.channels import Channel, StreamRefused
from chirp.streaming.hub import END, Hub, Subscriber

log = logging.getLogger("chirp.streaming")

router = APIRouter(prefix="/api/v1/streaming", tags=["streaming"])

# Mastodon's paths and the stream each serves.
_PATHS = {
    "/user": channels.USER,
    "/user/notification": channels.USER_NOTIFICATION,
    "/public": channels.PUBLIC,
    "/public/local": channels.PUBLIC_LOCAL,
    "/hashtag": channels.HASHTAG,
    "/hashtag/local": channels.HASHTAG_LOCAL,
    # Mastodon's, which Chirp cannot feed yet: answered 400 saying why, not 404.
    "/direct": "direct",
    "/list": "list",
    "/public/remote": "public:remote",
}
# Mastodon parameters Chirp cannot honour: refused (422) rather than silently ignored.
_UNSUPPORTED = {"only_media": "Chirp has no media attachments", "list": "Chirp has no lists"}
_TRUE = {"1", "true", "t", "on"}


# What sending to a WebSocket raises once its client is gone (Starlette turns uvicorn's
# ClientDisconnected into WebSocketDisconnect; a closed socket may raise RuntimeError).
_GONE = (WebSocketDisconnect, OSError, RuntimeError)


def _hub(app: Any) -> Hub:
    hub: Hub = app.state.stream_hub
    return hub


def _refused(exc: StreamRefused) -> Response:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def _refuse_unsupported(params: Any) -> None:
    for name, why in _UNSUPPORTED.items():
        value = params.get(name)
        if value and (name != "only_media" or value.lower() in _TRUE):
            raise StreamRefused(422, f"{name} is not supported: {why}")


@router.get(
    "/health",
    response_class=PlainTextResponse,
    responses={
        429: {"description": "Too many API requests from this address (the API's limit)."},
        500: {"description": "An unexpected error on the server (logged)."},
    },
)
async def health() -> str:
    """Whether the streaming API is up: ``OK``."""
    return "OK"


async def _open_sse(request: Request, name: str) -> Response:
    hub = _hub(request.app)
    try:
        # In Mastodon's order: the token (401), then the stream asked for (400, 422).
        async with request.app.state.session_factory() as session:
            holder = await stream_auth.by_token(session, request)
            _refuse_unsupported(request.query_params)
            channel = channels.parse(name, request.query_params.get("tag"))
            channels.check_scopes(holder.scopes, channel)
            following = await hub.following(session, holder.user.id)
    except StreamRefused as exc:
        return _refused(exc)
    subscriber = Subscriber(
        viewer=holder.user,
        notifications=channels.sees_notifications(holder.scopes),
        channels={channel},
        following=following,
        valid=holder.valid,
    )
    return sse.EventStreamResponse(hub, subscriber)


def _sse_route(path: str, name: str) -> None:
    async def stream(request: Request) -> Response:
        return await _open_sse(request, name)

    stream.__doc__ = f"Server-sent events of the {name} stream."
    router.add_api_route(path, stream, methods=["GET"], include_in_schema=False)


for _path, _name in _PATHS.items():
    _sse_route(_path, _name)


@router.websocket("")
async def websocket_stream(websocket: WebSocket) -> None:
    """Mastodon's WebSocket: ``subscribe``/``unsubscribe`` messages, or ``?stream=``."""
    hub = _hub(websocket.app)
    try:
        async with websocket.app.state.session_factory() as session:
            holder = await stream_auth.by_token(session, websocket)
            following = await hub.following(session, holder.user.id)
    except StreamRefused as exc:
        await _deny(websocket, exc)
        return
    await websocket.accept(subprotocol=holder.subprotocol)
    subscriber = Subscriber(
        viewer=holder.user,
        notifications=channels.sees_notifications(holder.scopes),
        following=following,
        valid=holder.valid,
    )
    hub.add(subscriber)
    try:
        first = websocket.query_params.get("stream")
        if first:
            await _subscribe(websocket, subscriber, holder.scopes, dict(websocket.query_params))
        reading = asyncio.ensure_future(_read(websocket, subscriber, holder.scopes))
        writing = asyncio.ensure_future(_write(websocket, subscriber))
        await asyncio.wait({reading, writing}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reading, writing):
            task.cancel()
        # Either ends when the client goes; what it raised then is that, nothing to report.
        await asyncio.gather(reading, writing, return_exceptions=True)
    except _GONE:
        pass  # the client left while its first subscription was answered
    finally:
        hub.close(subscriber)
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(*_GONE):  # the client may be gone already
                await websocket.close()


async def _deny(websocket: WebSocket, exc: StreamRefused) -> None:
    """Refuse the upgrade with Mastodon's HTTP answer, where the server lets us send one."""
    try:
        await websocket.send_denial_response(_refused(exc))
    except RuntimeError:
        await websocket.close(code=1008, reason=exc.message)  # answered 403 before accept


async def _subscribe(
    websocket: WebSocket, subscriber: Subscriber, scopes: list[str], message: dict[str, Any]
) -> None:
    try:
        channel = _channel_of(message)
        channels.check_scopes(scopes, channel)
    except StreamRefused as exc:
        await websocket.send_text(json.dumps({"error": exc.message, "status": exc.status}))
        return
    subscriber.channels.add(channel)


def _channel_of(message: dict[str, Any]) -> Channel:
    stream = message.get("stream")
    if isinstance(stream, list):
        stream = stream[0] if stream else None  # Mastodon takes the first
    tag = message.get("tag")
    if not (stream is None or isinstance(stream, str)) or not (tag is None or isinstance(tag, str)):
        raise StreamRefused(400, "Unknown stream type")
    for name, why in _UNSUPPORTED.items():
        if name == "only_media" and str(message.get(name, "")).lower() in _TRUE:
            raise StreamRefused(422, f"{name} is not supported: {why}")
    return channels.parse(stream, tag)


async def _read(websocket: WebSocket, subscriber: Subscriber, scopes: list[str]) -> None:
    """Apply the client's subscribe and unsubscribe messages until it leaves."""
    while True:
        received = await websocket.receive()
        if received["type"] == "websocket.disconnect":
            return
        text = received.get("text")
        if text is None:
            # As Mastodon: binary messages end the connection.
            await websocket.close(code=1003, reason="Binary messages are not supported")
            return
        try:
            message = json.loads(text)
        except ValueError:
            continue  # Mastodon logs and ignores what is not JSON
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        if kind == "subscribe":
            await _subscribe(websocket, subscriber, scopes, message)
        elif kind == "unsubscribe":
            try:
                subscriber.channels.discard(_channel_of(message))
            except StreamRefused:
                await websocket.send_text(json.dumps({"error": "Error unsubscribing from channel"}))


async def _write(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Send the subscriber's events, as ``{"stream", "event", "payload"}`` messages."""
    try:
        while not subscriber.dropped:
            message = await subscriber.queue.get()
            if message is END:
                return
            await websocket.send_text(
                json.dumps(
                    {"stream": message.stream, "event": message.event, "payload": message.payload}
                )
            )
    except _GONE:
        return
