#!/usr/bin/env python3
"""A test SMTP sink (aiosmtpd 1.4.6), plain text on 127.0.0.1.

    smtp_sink.py DIR --port N [--fail-first N] [--reject-first N]
                 [--xoauth2-introspect URL [--xoauth2-failure google|microsoft]]

Each accepted message is written as DIR/<n>.eml (the raw bytes) and then
DIR/<n>.json ({"mail_from": ..., "rcpt_tos": [...]}), n = 1, 2, ...; each file
appears complete (written to a temporary name, then renamed), and the .json
appears last. Prints "READY <port>" once listening. With --fail-first N the
first N messages are answered "451 4.3.0 try again later" at the end of DATA
(a transient failure) and not stored; with --reject-first N the next N get
"554 5.6.0 rejected" (a permanent failure). Stops on SIGTERM or SIGINT.

With --xoauth2-introspect URL the sink requires authentication and offers
only AUTH XOAUTH2 (Google's and Microsoft's SASL mechanism for SMTP,
developers.google.com/gmail/imap/xoauth2-protocol), plain text being fine
on loopback. The initial response "user=U^Aauth=Bearer T^A^A" (or, after an
empty 334, the response line) is decoded and T is checked with an RFC 7662
POST of token=T to URL: accepted (235) when the answer is active and either
its "username" is U (any case) or it is an app-only token ("idtyp": "app")
whose scope has SMTP.SendAsApp. Refused the way --xoauth2-failure says:
google (default) sends 334 with base64 of
{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"},
waits for the client's empty line and answers 535 5.7.8; microsoft answers
535 5.7.3 at once. Without authentication MAIL FROM gets 530. The .json of
each message then has "auth_user": U ("auth_user" is null without the
option).
"""

import argparse
import asyncio
import base64
import binascii
import json
import logging
import os
import signal
import sys
import urllib.parse
import urllib.request
import warnings

from aiosmtpd.smtp import MISSING, SMTP, AuthResult

GOOGLE_ERROR = {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}


def introspect(url, token):
    """The RFC 7662 answer for token (a dict; {"active": False} on any failure)."""
    data = urllib.parse.urlencode({"token": token}).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except (OSError, ValueError) as e:
        print(f"smtp_sink: introspection failed: {e}", file=sys.stderr)
        return {"active": False}


def parse_xoauth2(blob):
    """(user, token) from "user=U\x01auth=Bearer T\x01\x01", or None."""
    try:
        text = blob.decode()
    except UnicodeDecodeError:
        return None
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    auth = fields.get("auth", "")
    if "user" not in fields or not auth.lower().startswith("bearer "):
        return None
    return fields["user"], auth[len("bearer "):].strip()


class Sink:
    def __init__(self, directory, fail_first, reject_first):
        self.directory = directory
        self.fail_left = fail_first
        self.reject_left = reject_first
        self.count = 0


    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 try again later"
        if self.reject_left > 0:
            self.reject_left -= 1
            return "554 5.6.0 rejected"
        self.count += 1
        n = self.count
        self._write(f"{n}.eml", envelope.original_content or envelope.content)
        auth_user = session.auth_data if isinstance(session.auth_data, str) else None
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "auth_user": auth_user}
        self._write(f"{n}.json", json.dumps(meta).encode())
        return "250 2.0.0 OK"


class OAuthSink(Sink):
    """The sink with AUTH XOAUTH2 checked by introspection."""

    def __init__(self, directory, fail_first, reject_first, introspect_url, failure):
        super().__init__(directory, fail_first, reject_first)
        self.introspect_url = introspect_url
        self.failure = failure

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(blob)
        if parsed is None:
            await server.push("501 5.5.2 Malformed XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        user, token = parsed
        loop = asyncio.get_running_loop()
        info = await loop.run_in_executor(None, introspect, self.introspect_url, token)
        scopes = str(info.get("scope", "")).split()
        ok = info.get("active") is True and (
            str(info.get("username", "")).lower() == user.lower()
            or (info.get("idtyp") == "app" and "SMTP.SendAsApp" in scopes)
        )
        if ok:
            return AuthResult(success=True, auth_data=user)
        if self.failure == "microsoft":
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        reply = await server.challenge_auth(json.dumps(GOOGLE_ERROR, separators=(",", ":")))
        if reply is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted."
        )


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject-first", type=int, default=0)
    parser.add_argument("--xoauth2-introspect", metavar="URL")
    parser.add_argument("--xoauth2-failure", choices=["google", "microsoft"], default="google")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    options = {}
    # AUTH without TLS is the point on loopback; aiosmtpd warns about it.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    if args.xoauth2_introspect:
        sink = OAuthSink(
            args.dir, args.fail_first, args.reject_first, args.xoauth2_introspect, args.xoauth2_failure
        )
        options = dict(auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["PLAIN", "LOGIN"])
    else:
        sink = Sink(args.dir, args.fail_first, args.reject_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp-sink.test", ident="smtp-sink", **options),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {args.port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        print(f"smtp_sink: {e}", file=sys.stderr)
        sys.exit(1)
