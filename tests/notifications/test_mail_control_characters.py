"""Values sent by a client (ref, custom fields) cannot add lines to an e-mail: their control
characters are written as escapes, on the line the template gives them (issue 19: a ref with
CR/LF put a ``Bcc: ...`` line in the body, shown as if it were a header)."""

from tests.helpers import add_product, api
from tests.notifications.support import run_due
from tests.notifications.test_mail import ADMIN, _app, smtp_server

REF = "ORD-1\r\nBcc: victim@evil.example"
CUSTOM = {"note": "paid\r\n\r\nBcc: other@evil.example\x1b[2J\u2028Subject: hi",
          "key\nTo: third@evil.example": "v"}


def _body(mail) -> str:
    return mail.get_payload(decode=True).decode(mail.get_content_charset() or "utf-8")


def test_control_characters_in_ref_and_custom_are_escaped_in_the_delivered_mail(
        make_app, api_key):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port)
        pid = add_product(app, name="Widget")
        r = api(app.test_client(), api_key, "annie", custom=CUSTOM, commission={
            "product": pid, "saletotal": "80.00", "commtotal": "8.00", "ref": REF})
        assert r.status_code == 200, r.json
        assert run_due(app) == 2
    # Delivered to the two intended recipients only, with no header added.
    assert sorted(r for rcpts, _ in inbox.mails for r in rcpts) == sorted(
        ["annie@aff.example", ADMIN])
    for _, mail in inbox.mails:
        assert mail["Bcc"] is None and mail.get_all("To") == [mail["To"]]
        lines = _body(mail).splitlines()
        assert not [line for line in lines if "evil.example" in line
                    and not line.startswith(("Reference: ", "  "))], lines
        assert "Reference: ORD-1\\r\\nBcc: victim@evil.example" in lines
    [to_admin] = inbox.to(ADMIN)
    lines = _body(to_admin).splitlines()
    assert ("  note: paid\\r\\n\\r\\nBcc: other@evil.example\\x1b[2J\\u2028Subject: hi"
            in lines), lines
    assert "  key\\nTo: third@evil.example: v" in lines
