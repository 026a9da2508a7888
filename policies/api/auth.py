"""``X-Auth-Token`` authentication (the OpenStack / Huawei Cloud convention)."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from policies import accounts
from policies.domain.contract import codes

from .. import selectors


class XAuthTokenAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_AUTH_TOKEN"

    def authenticate(self, request):
        raw = request.META.get(self.header, "").strip()
        if not raw:
            exc = exceptions.NotAuthenticated(
                "no X-Auth-Token header; send the token issued to you as 'X-Auth-Token: <token>'"
            )
            exc.contract_code = codes.NO_TOKEN
            raise exc
        now = timezone.now()
        # The path's project is read with the token, in the same query (tenant_or_403 uses it).
        project_id = (getattr(request, "parser_context", None) or {}).get("kwargs", {}).get("project_id")
        token = selectors.token_for_raw(raw=raw, now=now, project_id=project_id)
        if token is None:
            exc = exceptions.AuthenticationFailed(
                "the X-Auth-Token is unknown, revoked or expired; ask for a new token"
            )
            exc.contract_code = codes.BAD_TOKEN
            raise exc
        accounts.token_record_use(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request):
        # Any value keeps DRF answering 401 rather than 403 for authentication failures.
        return "X-Auth-Token"
