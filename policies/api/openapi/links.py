"""OpenAPI links: from an answer that carries a policy ID to every operation that takes one.

A client (or a fuzzer's stateful phase) can then follow a created policy into its modify,
delete, tag, forecast, volume and run operations, in the same project.
"""

from __future__ import annotations

# Where a policy ID can be read from an answer: create's, and the first of the list.
POLICY_ID_SOURCES = {
    "createBackupPolicy": "$response.body#/backup_policy_id",
    "listBackupPolicies": "$response.body#/backup_policies/0/backup_policy_id",
    "queryBackupPoliciesByTags": "$response.body#/resources/0/resource_id",
}

# Operations that take the policy ID but need more than the policy: a tag of it. A new policy has
# no tag `action` and none of a generated key, so a link there would promise a tag that is not
# there (404 AutoBackup.0216, which a client reads as "the policy just created is gone").
NOT_LINKED = frozenset({"deletePolicyTag", "deletePolicyTagNamedAction"})

# Operations that take the policy ID in their body, not their path: associate.
POLICY_ID_BODY_MEMBERS = {"associateVolumes": ("backup_policy_id",)}

# A page of backup tasks names job IDs that its query parameters take: the first task of the
# page leads to the page after it (``marker``) and to itself alone (``job_id``).
_FIRST_JOB_ID = "$response.body#/tasks/0/job_id"
TASK_LINKS = {
    "listBackupTasks": {
        "nextPageAfterFirstTask": ("marker", "The page after the first task of this one."),
        "firstTask": ("job_id", "The first task of this page, alone."),
    }
}


def add_links(result) -> None:
    """Link the answers that carry a policy ID to every operation that takes one (but NOT_LINKED).

    A client (or a fuzzer's stateful phase) can then follow a created policy into its modify,
    delete, tag, forecast, volume and run operations, in the same project (associate takes it
    in its body, ``POLICY_ID_BODY_MEMBERS``).
    """
    operations = [
        item
        for path_item in result.get("paths", {}).values()
        for item in path_item.values()
        if isinstance(item, dict) and "operationId" in item
    ]
    takes_policy_id = [
        item["operationId"]
        for item in operations
        if any(p.get("name") == "policy_id" and p.get("in") == "path" for p in item.get("parameters", []))
        and item["operationId"] not in NOT_LINKED
    ]
    # Operations that take the policy ID in their body: (operationId, the body's member).
    in_body = [
        (item["operationId"], member)
        for item in operations
        for member in POLICY_ID_BODY_MEMBERS.get(item["operationId"], ())
    ]
    for item in operations:
        source = POLICY_ID_SOURCES.get(item["operationId"])
        if source is None:
            continue
        answer = item["responses"]["200"]
        answer["links"] = {
            target: {
                "operationId": target,
                "parameters": {"project_id": "$request.path.project_id", "policy_id": source},
                "description": "The policy of this answer.",
            }
            for target in takes_policy_id
        }
        # A body link names the member only; schemathesis merges it into a generated body.
        for target, member in in_body:
            answer["links"][target] = {
                "operationId": target,
                "parameters": {"project_id": "$request.path.project_id"},
                "requestBody": {member: source},
                "description": "The policy of this answer, in the body.",
            }
    add_task_links(operations)
    add_webhook_links(operations)


def add_task_links(operations) -> None:
    """Link a page of backup tasks to the same list, filtered or paged by its first task's job ID."""
    for item in operations:
        for name, (parameter, description) in TASK_LINKS.get(item["operationId"], {}).items():
            item["responses"]["200"].setdefault("links", {})[name] = {
                "operationId": item["operationId"],
                "parameters": {
                    "project_id": "$request.path.project_id",
                    "policy_id": "$request.path.policy_id",
                    parameter: _FIRST_JOB_ID,
                },
                "description": description,
            }


# Where a webhook ID can be read: create's answer, and the first of the list.
WEBHOOK_ID_SOURCES = {
    "createWebhook": ("201", "$response.body#/webhook/id"),
    "listWebhooks": ("200", "$response.body#/webhooks/0/id"),
}


def add_webhook_links(operations) -> None:
    """Link the answers that carry a webhook ID to the operations that take one (test, remove)."""
    takes_webhook_id = [
        item["operationId"]
        for item in operations
        if any(p.get("name") == "webhook_id" and p.get("in") == "path" for p in item.get("parameters", []))
    ]
    for item in operations:
        status, source = WEBHOOK_ID_SOURCES.get(item["operationId"], (None, None))
        if source is None:
            continue
        item["responses"][status]["links"] = {
            target: {
                "operationId": target,
                "parameters": {"project_id": "$request.path.project_id", "webhook_id": source},
                "description": "The webhook of this answer.",
            }
            for target in takes_webhook_id
        }
