"""The dashboard: the pages a tenant's members use (views by page group), the policy form and its preview."""
