#!/usr/bin/env python3
"""Writes tests/fixtures/realworld/*.eml and their expectations (*.json).

Our own mails, one per shape that real clients send and that mailgate must
decode (issue 12): legacy CJK charsets in every header and body, RFC 2231
names continued over segments, body choice, sender fallbacks. Run it again
after changing a case; the test (tests/parsing/realworld.rs) reads the files.
"""
import base64, json, os, quopri, urllib.parse

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "realworld")


def b_word(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(codec(charset))).decode())


def codec(charset):
    return {"ks_c_5601-1987": "cp949", "gb2312": "gbk"}.get(charset.lower(), charset)


def head(frm, subject, mid, extra=""):
    return (
        "From: %s\r\nTo: help@corp.test\r\nSubject: %s\r\nMessage-ID: <%s@fixtures.test>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n%s" % (frm, subject, mid, extra)
    )


cases = []


def case(name, raw, **want):
    cases.append((name, raw if isinstance(raw, bytes) else raw.encode("latin-1"), want))


# --- Charsets: subject, display name, body and file name in the same charset.
for cs, name, subject, body, fname in [
    ("iso-2022-jp", "山田太郎", "テストの件", "お世話になっております。\n添付をご確認ください。", "テスト.txt"),
    ("shift_jis", "佐藤花子", "請求書について", "請求書を送付いたします。\nよろしくお願いいたします。", "請求書.pdf"),
    ("gb2312", "王小明", "关于发票的问题", "您好，\n请查看附件中的发票。", "发票.pdf"),
    ("gbk", "李雷", "会议纪要（草稿）", "各位好：\n会议纪要见附件。", "纪要.docx"),
    ("big5", "陳大文", "報價單確認", "您好，\n報價單請見附件。", "報價單.xlsx"),
    ("euc-kr", "김철수", "견적서 요청", "안녕하세요.\n견적서를 보내 주세요.", "견적서.hwp"),
    ("ks_c_5601-1987", "이영희", "회의 일정", "다음 주 회의 일정입니다.", "일정.txt"),
    ("koi8-r", "Иван Петров", "Проблема с доступом", "Здравствуйте!\nНе могу войти в систему.", "ошибка.png"),
    ("windows-1251", "Олена", "Рахунок", "Добрий день.\nРахунок у вкладенні.", "рахунок.pdf"),
    ("iso-8859-2", "Łukasz Żółć", "Zażółć gęślą jaźń", "Dzień dobry,\nw załączniku faktura.", "faktura_żółta.pdf"),
    ("windows-1252", "Renée Müller", "Café – Übersicht", "Grüße aus Köln – “bitte” prüfen.", "Übersicht.xls"),
]:
    enc = codec(cs)
    body_bytes = body.replace("\n", "\r\n").encode(enc)
    part_body = base64.b64encode(body_bytes).decode() if cs != "iso-2022-jp" else body_bytes.decode("ascii")
    cte = "base64" if cs != "iso-2022-jp" else "7bit"
    raw = head(
        '%s <sender.%s@fixtures.test>' % (b_word(name, cs), cs.replace("_", "-")),
        b_word(subject, cs),
        "charset-" + cs,
        'Content-Type: multipart/mixed; boundary="b1"\r\n',
    ) + (
        "\r\n--b1\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n%s\r\n"
        "--b1\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
        "Content-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n"
        % (cs, cte, part_body, b_word(fname, cs), b_word(fname, cs), base64.b64encode(b"data").decode())
    )
    case("charset-" + cs, raw, subject=subject, from_name=name, from_addr="sender.%s@fixtures.test" % cs.replace("_", "-"),
         text=body, attachments=[fname])

# 8-bit header bytes in the body's charset (no encoded words): read as the
# declared charset is not possible for headers, so they must degrade, never fail.
case("misdeclared-utf8-is-latin1",
     head("a@fixtures.test", "Caf\xe9 menu", "misdeclared",
          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n") + "\r\nCaf\xe9 ouvert\r\n",
     subject_contains="Caf", text_contains="ouvert", from_addr="a@fixtures.test")
case("unknown-charset",
     head("a@fixtures.test", "=?x-unknown-42?Q?Hello_there?=", "unknown-charset",
          "Content-Type: text/plain; charset=x-unknown-42\r\n") + "\r\nplain words\r\n",
     subject_contains="Hello", text="plain words", from_addr="a@fixtures.test")

# --- RFC 2231 continuations with charset and percent-encoding.
def rfc2231(value, charset, pieces):
    # Split on octet boundaries (never inside a %XX escape), often in the
    # middle of a multi-byte character, as real encoders do.
    octets = [urllib.parse.quote(bytes([b]), safe="") for b in value.encode(codec(charset))]
    size = -(-len(octets) // pieces)
    segs = ["".join(octets[i:i + size]) for i in range(0, len(octets), size)]
    out = []
    for n, s in enumerate(segs):
        out.append(" filename*%d*=%s%s" % (n, (charset + "''") if n == 0 else "", s))
    return ";\r\n".join(out)

for cs, fname in [("utf-8", "Überweisungsbestätigung März 2026 – Kopie.pdf"),
                  ("iso-8859-1", "Jahresübersicht für Herrn Müller.xls"),
                  ("utf-8", "売上報告書_第3四半期_最終版.xlsx"),
                  ("shift_jis", "見積書（改訂版）.pdf")]:
    raw = head("b@fixtures.test", "file " + cs, "rfc2231-" + cs + str(len(fname)),
               'Content-Type: multipart/mixed; boundary="b2"\r\n') + (
        "\r\n--b2\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b2\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment;\r\n%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b2--\r\n"
        % (rfc2231(fname, cs, 3), base64.b64encode(b"x").decode()))
    case("rfc2231-%s-%d" % (cs, len(fname)), raw, attachments=[fname], text="see file")

# --- Body choice.
case("empty-plain-beside-html",
     head("c@fixtures.test", "html only really", "empty-plain", 'Content-Type: multipart/alternative; boundary="b3"\r\n') +
     "\r\n--b3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n--b3\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
     "<html><body><p>The printer on floor 3 is jammed.</p></body></html>\r\n--b3--\r\n",
     text_contains="The printer on floor 3 is jammed.")
case("several-inline-text-parts",
     head("c@fixtures.test", "apple style", "inline-parts", 'Content-Type: multipart/mixed; boundary="b4"\r\n') +
     "\r\n--b4\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nFirst half of the text.\r\n"
     "--b4\r\nContent-Type: image/png; name=\"shot.png\"\r\nContent-Disposition: inline; filename=\"shot.png\"\r\n"
     "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
     "--b4\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSecond half, after the picture.\r\n--b4--\r\n",
     text="First half of the text.\nSecond half, after the picture.", attachments=["shot.png"])
case("named-text-part-is-a-file",
     head("c@fixtures.test", "log attached", "named-text", 'Content-Type: multipart/mixed; boundary="b5"\r\n') +
     "\r\n--b5\r\nContent-Type: text/plain\r\n\r\nThe log is attached.\r\n"
     "--b5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline; filename=\"build.log\"\r\n\r\n"
     "ERROR line 1\r\nERROR line 2\r\n--b5--\r\n",
     text="The log is attached.", attachments=["build.log"])

# --- Senders.
case("from-name-only-falls-back-to-sender",
     head('"=?utf-8?B?5oiR?=" <>', "who am i", "sender-fallback", "Sender: real.sender@fixtures.test\r\nContent-Type: text/plain\r\n") +
     "\r\nhello\r\n", from_addr="real.sender@fixtures.test", from_name="我")
case("from-unusable-reply-to",
     head("Support Team", "no address", "reply-to-fallback", "Reply-To: <answers@fixtures.test>\r\nContent-Type: text/plain\r\n") +
     "\r\nhello\r\n", from_addr="answers@fixtures.test")
case("from-unusable-return-path",
     "Return-Path: <bounces+x@fixtures.test>\r\n" + head("undisclosed", "rp only", "return-path-fallback", "Content-Type: text/plain\r\n") +
     "\r\nhello\r\n", from_addr="bounces+x@fixtures.test")
case("domain-with-root-dot",
     head("Dot <dot@fixtures.test.>", "trailing dot", "root-dot", "Content-Type: text/plain\r\n") + "\r\nhello\r\n",
     from_addr="dot@fixtures.test", from_name="Dot")
case("quoted-local-part",
     head('"John Smith" <"john smith"@fixtures.test>', "quoted local", "quoted-local", "Content-Type: text/plain\r\n") + "\r\nhello\r\n",
     from_addr='"john smith"@fixtures.test', from_name="John Smith")
case("no-usable-sender",
     head("Nobody", "none at all", "no-sender", "Content-Type: text/plain\r\n") + "\r\nhello\r\n", from_addr=None)

os.makedirs(OUT, exist_ok=True)
for name, raw, want in cases:
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(raw)
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(want, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
print("wrote", len(cases), "fixtures to", os.path.normpath(OUT))
