#!/usr/bin/env python3
"""A test SMTP sink (aiosmtpd 1.4.6), plain text on 127.0.0.1.

    smtp_sink.py DIR --port N [--fail-first N] [--reject-first N]

Each accepted message is written as DIR/<n>.eml (the raw bytes) and then
DIR/<n>.json ({"mail_from": ..., "rcpt_tos": [...]}), n = 1, 2, ...; each file
appears complete (written to a temporary name, then renamed), and the .json
appears last. Prints "READY <port>" once listening. With --fail-first N the
first N messages are answered "451 4.3.0 try again later" at the end of DATA
(a transient failure) and not stored; with --reject-first N the next N get
"554 5.6.0 rejected" (a permanent failure). Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


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
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        self._write(f"{n}.json", json.dumps(meta).encode())
        return "250 2.0.0 OK"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject-first", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    sink = Sink(args.dir, args.fail_first, args.reject_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp-sink.test", ident="smtp-sink"),
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
