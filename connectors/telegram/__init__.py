"""The Telegram channel: webhook or long polling in, paced `sendMessage` out.

- `parse`: update JSON → `Inbound` / `ButtonPress` / `Ignored` (pure)
- `render`: `Outbound` → escaped HTML parts with an inline keyboard (pure)
- `pacing`: Telegram's send limits as a slot book (pure, clock injected)
- `callbacks`: long button payloads ↔ 64-byte callback tokens
- `connector`: `TelegramConnector`, the aiohttp webhook route and the polling loop
"""

from connectors.telegram.connector import TelegramConnector, TelegramSettings

__all__ = ["TelegramConnector", "TelegramSettings"]
