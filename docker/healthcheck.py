"""Container health check for the web service: one HTTP request to gunicorn, as Caddy would send it.

The Host header is the first of DJANGO_ALLOWED_HOSTS (any other host gets 400) and
X-Forwarded-Proto is https (else SECURE_SSL_REDIRECT answers 301). Any answer below 400 — the
sign-in redirect included — means Django is up; redirects are not followed.
"""

import http.client
import os
import sys

hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"

try:
    conn = http.client.HTTPConnection("127.0.0.1", 8000, timeout=5)
    # Database and broker only: worker and beat start after web is healthy, so the full /healthz
    # (heartbeat, worker) is for external monitoring.
    conn.request("GET", "/healthz?checks=database,broker", headers={"Host": host, "X-Forwarded-Proto": "https"})
    status = conn.getresponse().status
except OSError as exc:
    print(f"unhealthy: {exc}")
    sys.exit(1)
if status >= 400:
    print(f"unhealthy: GET /healthz answered {status}")
    sys.exit(1)
