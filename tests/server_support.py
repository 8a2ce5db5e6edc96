"""Open a served station in process: Quart's test client, the station on trio's clock."""

import json
from contextlib import asynccontextmanager
from typing import Any

from playout import Scenario
from server.app import create_app
from server.auth import SigningKey, mint
from server.service import ServerSettings, StationService

KEY = SigningKey("test-signing-key-0123456789abcdef", generated=False)


def token(**claims: Any) -> str:
    return mint(KEY, **claims)


ADMIN = {"Authorization": f"Bearer {mint(KEY, roles=('admin',))}"}
LISTENER = {"Authorization": f"Bearer {mint(KEY, roles=('dj',))}"}


class Served:
    def __init__(self, service: StationService, client: Any) -> None:
        self.service = service
        self.client = client

    def events(self, query: str = "", **kwargs: Any):
        separator = "&" if query else ""
        return self.client.websocket(f"/api/v1/events?{query}{separator}token={token()}", **kwargs)

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
    ):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        response = await self.client.post(
            path, data=data, headers={**ADMIN, "Content-Type": "application/json", **(headers or {})}
        )
        return response.status_code, await response.get_json()

    async def get(self, path: str, headers: dict[str, str] | None = None):
        response = await self.client.get(path, headers=headers if headers is not None else ADMIN)
        return response.status_code, await response.get_json()


@asynccontextmanager
async def served(scenario: Scenario, settings: ServerSettings | None = None, **options: Any):
    service = StationService(scenario, KEY, settings, **options)
    app = create_app(service)
    async with app.test_app() as test_app:
        yield Served(service, test_app.test_client())
