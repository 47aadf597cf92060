"""The web chat channel: a WebSocket (with a long-polling fallback), signed visitor tokens,
resume from the conversation log, and an embeddable widget (see docs/channels/webchat.md)."""
