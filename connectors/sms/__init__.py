"""The SMS channel, through Twilio: signed form webhooks in, the Messages API out.

- `parse`: form bodies → unverified `Inbound` messages, STOP/START/HELP, status reports (pure)
- `segments`: GSM-7 or UCS-2, segment counts, a text cut to a number of segments (pure)
- `render`: `Outbound` → one SMS body: numbered choices, links, the segment cap (pure)
- `twilio_api`: the thin Messages API client and its error mapping
- `settings`: the ``channels.sms`` section; secrets from the environment
- `connector`: `SmsConnector`, the webhook routes, opt-out and delivery
"""

from connectors.sms.connector import SmsConnector
from connectors.sms.settings import SmsSettings

__all__ = ["SmsConnector", "SmsSettings"]
