"""Tenants (projects), their members, and hashed API tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

project_id_validator = RegexValidator(
    r"\A[A-Za-z0-9_-]{1,64}\Z", "A project ID is 1 to 64 letters, digits, '-' or '_'."
)


class Tenant(models.Model):
    """A cloud project: the owner of up to ten backup policies."""

    project_id = models.CharField(max_length=64, unique=True, validators=[project_id_validator])
    name = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="tenants")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["project_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.project_id})" if self.name else self.project_id


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"


def hash_token(raw: str) -> str:
    """Return the stored digest of a raw API token.

    Tokens are 256 random bits, so a fast hash is enough: there is nothing to guess. The raw
    token is never stored and is shown once, when issued.
    """
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The first characters, to recognise it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
