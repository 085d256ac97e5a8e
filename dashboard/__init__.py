"""The web dashboard: accounts, the API Keys tab and the report viewer, served by the ingress at /dashboard."""
