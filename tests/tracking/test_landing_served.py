"""Landing links through `affsrv serve` (gunicorn): a dual-stack listener's IPv4-mapped client
address and raw request paths, as a real server passes them to affsrv."""

from __future__ import annotations

import socket

from tests.serving import Server, affsrv_output


def _raw_get(port: int, target: str, host: str) -> tuple[bytes, list[bytes]]:
    """The status line and header lines of the answer to a GET of ``target`` exactly as
    written (no client normalises the path), with this ``Host``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, *headers = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    return status, headers


def test_landing_through_a_dual_stack_server(tmp_path, server_env):
    # Bound on [::], gunicorn reports an IPv4 client as ::ffff:127.0.0.1.
    server = Server(tmp_path, server_env, host="[::]")  # it creates the schema
    try:
        own = affsrv_output(["affiliate", "add", "--email", "own@example.com", "--fname", "O",
                             "--lname", "W", "--ip", "127.0.0.1"], tmp_path, server_env)
        other = affsrv_output(["affiliate", "add", "--email", "other@example.com", "--fname",
                               "O", "--lname", "T", "--ip", "192.0.2.1"], tmp_path, server_env)
        status, headers = _raw_get(server.port, f"/r/{own}", "affiliates.shop.example")
        assert status == b"HTTP/1.1 302 FOUND"
        assert not [h for h in headers if h.startswith(b"Set-Cookie:")]  # self-referral
        status, headers = _raw_get(server.port, f"/r/{other}", "affiliates.shop.example")
        assert status == b"HTTP/1.1 302 FOUND"
        assert [h for h in headers if h.startswith(b"Set-Cookie: maff=")]
        # Paths that are no code, with a forged Host: the default URL, nothing else.
        for target in ("/r//x", "/r/bob%0a", "/r/bob%0d%0aBcc:x", "/r", "/r/",
                       "/r///evil.example", "/r/%00"):
            status, headers = _raw_get(server.port, target, "evil.example")
            assert status == b"HTTP/1.1 302 FOUND", (target, status)
            assert b"Location: https://shop.example/" in headers, (target, headers)
            assert not [h for h in headers if b"evil" in h or b"Bcc" in h], (target, headers)
    finally:
        server.stop()
