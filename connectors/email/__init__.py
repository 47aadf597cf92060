"""The email channel: inbound by SMTP/LMTP or IMAP, outbound through an SMTP relay.

Pure parts (`parse`, `threading`, `quotes`, `htmltext`, `loops`, `render`) turn bytes into
an `Inbound` and an `Outbound` into an `EmailMessage`; `smtp_in`, `imap_in` and
`connector` are the small pieces that touch the network.
"""
