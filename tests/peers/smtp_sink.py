"""A real SMTP server for the tests: aiosmtpd, storing every message it accepts.

Started by the tests (tests/it/common/account.rs, `SmtpSink`) as a separate process:

    python3 tests/peers/smtp_sink.py --listen 127.0.0.1:PORT [options] DIR

Options:
    --starttls CERT KEY   offer STARTTLS with this certificate and require it before MAIL
                          (RFC 3207)
    --smtps CERT KEY      implicit TLS: TLS from the first byte (RFC 8314)
    --auth USER:PASSWORD  require AUTH (PLAIN or LOGIN, RFC 4954) with these credentials;
                          offered only over TLS unless --auth-in-plain-text
    --auth-in-plain-text  a careless server: offer AUTH on an unencrypted connection too

Each accepted message becomes DIR/<nanoseconds>-<n>.eml (written under a hidden temporary
name, then renamed), with `X-Sink-Rcpt-To:` header lines for its envelope recipients,
`X-Sink-TLS:` (the TLS version, or `none`) and `X-Sink-Auth:` (the authenticated user, or
`none`) prepended, so a test sees the envelope, the connection and the message exactly as they
arrived. Every AUTH attempt appends `<user> ok|refused` to DIR/auth.log and every MAIL command
appends its sender to DIR/mail-from.log (a test that expects nothing sent expects neither).
"""

import argparse
import asyncio
import itertools
import os
import ssl
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def tls_version(server):
    transport = server.transport
    obj = transport.get_extra_info("ssl_object") if transport is not None else None
    return obj.version() if obj is not None else "none"


class Sink:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.counter = itertools.count(1)

    def note(self, name, line):
        with open(os.path.join(self.directory, name), "a") as f:
            f.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.note("mail-from.log", address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = "%020d-%d" % (time.time_ns(), next(self.counter))
        user = "none"
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            user = session.auth_data.login.decode()
        head = "".join("X-Sink-Rcpt-To: %s\r\n" % r for r in envelope.rcpt_tos)
        head += "X-Sink-TLS: %s\r\nX-Sink-Auth: %s\r\n" % (tls_version(server), user)
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii"))
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, sink, user, password):
        self.sink, self.user, self.password = sink, user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?"
        self.sink.note("auth.log", "%s %s" % (login, "ok" if ok else "refused"))
        # `handled=False`: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth")
    p.add_argument("--auth-in-plain-text", action="store_true")
    p.add_argument("directory")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    sink = Sink(a.directory)
    starttls = context(*a.starttls) if a.starttls else None
    smtps = context(*a.smtps) if a.smtps else None
    authenticator = None
    if a.auth:
        user, password = a.auth.split(":", 1)
        authenticator = Authenticator(sink, user, password)

    def factory():
        return SMTP(
            sink,
            hostname="localhost",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=authenticator,
            auth_required=authenticator is not None,
            # With implicit TLS the whole connection is encrypted (aiosmtpd only knows about
            # STARTTLS); a careless server offers AUTH in plain text.
            auth_require_tls=not (smtps is not None or a.auth_in_plain_text),
        )

    server = await asyncio.get_running_loop().create_server(
        factory, host=host, port=int(port), ssl=smtps
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
