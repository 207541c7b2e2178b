"""A fake Telegram Bot API on 127.0.0.1, started by the test: it answers sendMessage,
deleteMessage and getUpdates as Telegram does, records every call, and can be told to
fail (an HTTP status, or Telegram's own error) or be stopped (connection refused)."""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from config.celery import app as celery_app

TOKEN = "123456:fake-token-for-tests"
SECRET = "s3cret-token-of-the-webhook_0123456789abcdef"
WEBHOOK = "/telegram/webhook/"


@dataclass
class Call:
    method: str
    params: dict


@dataclass
class FakeBotApi:
    server: ThreadingHTTPServer
    calls: list[Call] = field(default_factory=list)
    # An HTTP status to answer with instead of success (500: Telegram in trouble), with
    # Telegram's error body when `telegram_error` (403: the person blocked the bot).
    fail_with: int | None = None
    telegram_error: bool = False
    retry_after: int | None = None
    updates: list[dict] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(9001))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self, method: str = "sendMessage") -> list[dict]:
        return [call.params for call in self.calls if call.method == method]

    def stop(self) -> None:
        """Telegram unreachable: the port refuses connections from now on."""
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: "FakeBotApi"):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            prefix = f"/bot{TOKEN}/"
            if not self.path.startswith(prefix):
                return self._answer(404, {"ok": False, "error_code": 404})
            method = self.path[len(prefix) :]
            length = int(self.headers.get("Content-Length") or 0)
            params = json.loads(self.rfile.read(length) or b"{}")
            with fake.lock:
                fake.calls.append(Call(method, params))
            if fake.fail_with and method != "getUpdates":
                if fake.telegram_error:
                    body = {"ok": False, "error_code": fake.fail_with, "description": "Forbidden"}
                    if fake.retry_after:
                        body["parameters"] = {"retry_after": fake.retry_after}
                    return self._answer(fake.fail_with, body)
                return self._raw(fake.fail_with, b"<html>Bad Gateway</html>")
            if method == "sendMessage":
                result = {"message_id": next(fake.ids), "chat": {"id": params["chat_id"]}}
            elif method == "getUpdates":
                offset = params.get("offset") or 0
                result = [u for u in fake.updates if u["update_id"] >= offset]
            else:
                result = True
            return self._answer(200, {"ok": True, "result": result})

        def _answer(self, status: int, body: dict):
            self._raw(status, json.dumps(body).encode(), "application/json")

        def _raw(self, status: int, body: bytes, kind: str = "text/html"):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def bot_api(settings):
    """The fake Bot API, and the bot switched on against it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeBotApi(server=server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_BASE = fake.base
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    yield fake
    if thread.is_alive():
        fake.stop()


@pytest.fixture
def eager_worker():
    """A free worker: a task asked for runs at once, in this process."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


_update_ids = itertools.count(500_000)


def update(
    text="Help me, please.",
    *,
    chat=700100200,
    username="quiet_fox",
    language="en",
    chat_type="private",
    update_id=None,
    message_id=None,
    **message_fields,
) -> dict:
    """A Telegram update carrying one message (text, or whatever `message_fields` say)."""
    update_id = next(_update_ids) if update_id is None else update_id
    message = {
        "message_id": message_id or update_id % 100_000 + 1,
        "date": int(time.time()),
        "chat": {"id": chat, "type": chat_type},
        "from": {"id": chat, "is_bot": False, "first_name": "Fox", "language_code": language},
        **message_fields,
    }
    if username:
        message["from"]["username"] = username
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


def post_update(client: Client, payload, *, secret: str | None = SECRET, **extra):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(WEBHOOK, body, content_type="application/json", headers=headers, **extra)
