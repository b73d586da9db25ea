"""A real SMTP server for the tests: aiosmtpd, storing every message it accepts.

Started by tests/it/mail_recovery.rs as a separate process:

    PYTHONPATH=tests/peers python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIR

Each accepted message becomes DIR/<nanoseconds>-<n>.eml (written under a hidden temporary
name, then renamed), its envelope recipients prepended as `X-Sink-Rcpt-To:` header lines, so a
test sees the envelope and the message exactly as it arrived.
"""

import itertools
import os
import time


class Sink:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.counter = itertools.count(1)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the folder for received mail")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        name = "%020d-%d" % (time.time_ns(), next(self.counter))
        head = "".join("X-Sink-Rcpt-To: %s\r\n" % r for r in envelope.rcpt_tos)
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii"))
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted for delivery"
