"""Files both ways by mail, over real SMTP on loopback: a customer's attached and inline
parts are stored before the `250`, the text part is read as before, refused parts stay as
references without bytes; an agent's files leave as MIME parts, read again on a retry."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from hub.attachments import AttachmentStore
from hub.model import EventType, Outbound
from tests.attachment_samples import HTML_AS_PNG, agent_files, pdf, png
from tests.connectors.email.harness import SUPPORT, EmailHub, Start, plain_text


def files_of(env: EmailHub) -> AttachmentStore:
    store = env.hub.connectors["email"].attachments
    assert store is not None
    return store


def customer_mail(document: str, text: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ana Lima <ana.lima@gmail.com>"
    mail["To"] = SUPPORT
    mail["Subject"] = "Invoice"
    mail["Message-ID"] = f"<files.{abs(hash(document))}@mail.gmail.com>"
    mail.set_content(text)
    mail.add_alternative(f"<p>{text}</p><img src='cid:shot1'>", subtype="html")
    html = mail.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(png(6, 4), maintype="image", subtype="png", cid="<shot1>", filename="shot.png")
    mail.add_attachment(pdf(document), maintype="application", subtype="pdf", filename=document)
    mail.add_attachment(HTML_AS_PNG, maintype="image", subtype="png", filename="cat.png")
    return mail.as_bytes()


@pytest.mark.parametrize(
    ("document", "text"),
    [("invoice.pdf", "My invoice is attached."), ("发票.pdf", "发票在附件里，请查收。")],
)
async def test_a_customers_parts_are_stored_before_the_ack(
    start_hub: Start, document: str, text: str
) -> None:
    env = await start_hub()
    await env.send(customer_mail(document, text))  # returns after the 250
    [inbound] = [
        e for e in await env.events("email:ana.lima@gmail.com") if e.type == EventType.MESSAGE_IN
    ]
    assert inbound.data["text"] == text  # the text part, parsed as before
    attached = {a["name"]: a for a in inbound.data["attachments"]}
    assert set(attached) == {document, "cat.png", "shot.png"}
    store = files_of(env)
    assert await store.read(attached[document]["id"]) == pdf(document)
    assert attached[document]["mime_type"] == "application/pdf"
    assert await store.read(attached["shot.png"]["id"]) == png(6, 4)  # inline, kept too
    assert "id" not in attached["cat.png"]  # a page disguised as a picture: no bytes
    [refusal] = inbound.data["raw"]["attachments_refused"]
    assert refusal["name"] == "cat.png" and refusal["code"] == "type_mismatch"
    assert "source" not in inbound.data["raw"]  # the bytes stay out of the log


@pytest.mark.parametrize("name", ["receipt.pdf", "收据.pdf"])
async def test_an_agents_files_leave_as_mime_parts_and_survive_a_retry(
    start_hub: Start, name: str
) -> None:
    env = await start_hub()
    await env.send(customer_mail("invoice.pdf", "Where is my receipt?"))
    await env.relay.wait_for(1)  # the bot's answer
    conversation = await env.hub.latest_conversation("email:ana.lima@gmail.com")
    assert conversation is not None
    receipt, image = await agent_files(
        files_of(env), conversation.id, (name, pdf(name)), ("map.png", png(3, 3))
    )
    env.relay.refuse_next = ["451 4.3.0 try later"]  # the first attempt is deferred
    await env.hub.send(
        conversation.id,
        [Outbound(text="Your receipt.", attachments=(receipt.reference(), image.reference()))],
    )
    messages = await env.relay.wait_for(2, timeout=30)
    reply = messages[1]
    assert plain_text(reply).startswith("Your receipt.")
    parts = {p.get_filename(): p for p in reply.iter_attachments()}
    assert set(parts) == {name, "map.png"}
    assert parts[name].get_content_type() == "application/pdf"
    assert parts[name].get_content() == pdf(name)
    assert parts["map.png"].get_content_type() == "image/png"
    assert parts["map.png"].get_content() == png(3, 3)
