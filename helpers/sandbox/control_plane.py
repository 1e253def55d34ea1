"""The control plane: moto's server app, behind a small intercept layer.

Intercepts let the sandbox answer the few control-plane calls where moto's
answer differs from AWS (for example Route 53 health-check status).
"""

from __future__ import annotations

import io
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request

from helpers.sandbox.context import LOOPBACK, SandboxContext
from helpers.sandbox.errors import bind_or_explain


class InterceptingApp:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        # Buffer the body so an intercept can read it and moto still gets it.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if self.ctx.intercepts:
            request = Request(environ)
            for intercept in self.ctx.intercepts:
                response = intercept(request)
                if response is not None:
                    return response(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
        state = self.ctx.state
        if state is None:
            return self.moto(environ, start_response)
        with state.guard(environ, body):  # a snapshot never sees a request half applied
            return self.moto(environ, start_response)


class ControlPlane:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        port = self.ctx.settings.endpoint_port
        self._server = bind_or_explain(
            "control plane (AWS API endpoint)",
            port,
            lambda: make_server(
                LOOPBACK,
                port,
                InterceptingApp(self.ctx),
                threaded=True,
                request_handler=MotoRequestHandler,
            ),
        )
        self.ctx.endpoint_url = f"http://{LOOPBACK}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="control-plane", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
