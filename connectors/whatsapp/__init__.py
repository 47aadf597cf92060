"""The WhatsApp channel (Cloud API): signed webhooks in, Graph API messages out.

- `parse`: webhook JSON → `Inbound` messages and notices, `Receipt`s (pure)
- `render`: `Outbound` → text, reply buttons, list or numbered list, templates (pure)
- `graph`: the thin Graph API client (send, media lookup and download)
- `errors`: Graph error codes → retry, throttle, window closed, park
- `settings`: the ``channels.whatsapp`` section; secrets from the environment
- `connector`: `WhatsAppConnector`, the webhook routes and the 24-hour window
"""

from connectors.whatsapp.connector import WhatsAppConnector
from connectors.whatsapp.settings import WhatsAppSettings

__all__ = ["WhatsAppConnector", "WhatsAppSettings"]
