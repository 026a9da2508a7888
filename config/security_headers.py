"""The browser-side defences every answer carries: a strict Content-Security-Policy and friends.

A small middleware rather than django-csp: no page of ours needs a nonce or a per-view policy
(no template has an inline ``<script>``, ``<style>`` or ``style=``; htmx is told not to add its
own style element, and Swagger UI's start-up script is served as a file), so one fixed header
is the whole job, and one policy for every answer keeps it easy to read and to test.
"""

# Only this origin's own files; no inline script or style, no eval, no plug-ins, no framing.
# img-src allows data: URLs, which Swagger UI's stylesheet uses for its icons.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

# Powerful browser features the console never uses, switched off for it and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Add CSP, Permissions-Policy, CORP and ``Cache-Control: no-store`` to every answer.

    ``no-store`` goes on every answer that did not choose its own caching (the static files
    do, with their hashed names): signed-in pages, the admin and the API's answers hold one
    person's or one project's data, and the sign-in page a CSRF token; none belongs in a shared
    or a back-button cache. Django's SecurityMiddleware already sends X-Content-Type-Options,
    Referrer-Policy and Cross-Origin-Opener-Policy, and XFrameOptionsMiddleware X-Frame-Options.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
