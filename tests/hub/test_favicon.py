"""`/favicon.ico`, which browsers ask for on every page: an icon, cached, no session needed."""

from __future__ import annotations

from pathlib import Path

from hub.app import create_app
from hub.echo import EchoBot
from tests.support import hub_config, hub_env


async def test_the_favicon_is_an_icon_served_to_anyone_and_cached(
    aiohttp_client, tmp_path: Path
) -> None:
    env = hub_env(tmp_path)
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    response = await client.get("/favicon.ico")  # no cookie, no token
    assert response.status == 200
    assert response.content_type == "image/x-icon"
    assert (await response.read()).startswith(b"\x00\x00\x01\x00")  # an ICO header
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    again = await client.get("/favicon.ico", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
