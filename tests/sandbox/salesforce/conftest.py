"""The Salesforce sandbox tests' world: one org with four users (admin, integration, reader, no API), a few
Accounts, a Contact, Knowledge articles and data categories, served on 127.0.0.1; ``env.sf(role)`` is a
simple-salesforce client signed in as that user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from simple_salesforce import Salesforce

from sfwizard.sandbox.salesforce import tokens
from sfwizard.sandbox.salesforce.schema import F
from sfwizard.sandbox.salesforce.store import Org
from sfwizard.sandbox.scenarios import builder
from sfwizard.sandbox.state import SandboxState

V = "60.0"


@dataclass
class Env:
    state: SandboxState
    org: Org
    users: dict[str, str]  # role → user Id
    client_id: str
    base_url: str = ""
    session: Any = None
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        if role not in self.tokens:
            grant = tokens.Grant(self.org.key, self.users[role], self.client_id)
            with self.state.lock:
                issued, _ = tokens.token_store(self.state).issue(self.state, grant, with_refresh=False)
                self.tokens[role] = issued.token
        return self.tokens[role]

    def sf(self, role: str = "integration") -> Salesforce:
        return Salesforce(instance_url=self.base_url, session_id=self.token(role), session=self.session,
                          version=V)

    @property
    def data_url(self) -> str:
        """The REST API's root for this API version."""
        return f"{self.base_url}/services/data/v{V}"

    def get(self, path: str, role: str = "integration", **kw: Any) -> Any:
        return self.session.get(f"{self.base_url}/services/data/v{V}/{path}",
                                headers={"Authorization": f"Bearer {self.token(role)}"}, **kw)

    def post(self, path: str, body: Any, role: str = "integration") -> Any:
        return self.session.post(f"{self.base_url}/services/data/v{V}/{path}", json=body,
                                 headers={"Authorization": f"Bearer {self.token(role)}"})


def build_state(accounts: int = 5) -> tuple[SandboxState, dict[str, str], str]:
    state = builder.new_state("rest-test", seed=7)
    org = builder.add_org(state, "main", "Acme Corp", api_max=50_000, api_used=1_000)
    builder.add_field(org, "Account", F("PX_Score__c", "double"))
    builder.add_field(org, "Account", F("Secret__c", "string", 80))
    full = ["read", "create", "edit", "delete"]
    builder.add_profile(state, org, "System Administrator", modify_all=True)
    builder.add_profile(state, org, "Integration", objects={"Account": full, "Contact": full},
                        fields={"Account.PX_Score__c": ["read"]})
    builder.add_profile(state, org, "Reader", objects={"Account": ["read"]})
    builder.add_profile(state, org, "No API", api_enabled=False, objects={"Account": ["read"]})
    users = {}
    for role, profile in (("admin", "System Administrator"), ("integration", "Integration"),
                          ("reader", "Reader"), ("noapi", "No API")):
        users[role] = builder.add_user(state, org, f"{role}@acme.example", first_name=role.title(),
                                       last_name="User", profile=profile)["Id"]
    app = builder.add_connected_app(state, "Gainsight PX", installed_in=["main"])
    for i in range(accounts):
        values = {"Name": f"Account {i:05d}", "Industry": "Software", "PX_Score__c": float(i),
                  "Secret__c": "s"}
        builder.insert(state, org, "Account", values, owner=users["admin"])
    builder.insert(state, org, "Contact", {"FirstName": "Ada", "LastName": "Lovelace", "Name": "Ada Lovelace",
                                           "Email": "ada@acme.example"}, owner=users["admin"])
    articles = [("Reset your password", "Online"), ("Password policy", "Online"),
                ("Passwords in drafts", "Draft"), ("Connect Gainsight PX", "Online")]
    for n, (title, status) in enumerate(articles):
        builder.insert(state, org, "KnowledgeArticleVersion", {
            "Title": title, "UrlName": title.lower().replace(" ", "-"), "Summary": f"How to: {title}.",
            "PublishStatus": status, "Language": "en_US", "ArticleNumber": f"00000{n}", "VersionNumber": 1,
            "IsVisibleInPkb": True, "IsVisibleInCsp": True, "IsVisibleInPrm": False, "IsVisibleInApp": True})
    org.data_category_groups = [{"name": "Products", "label": "Products", "categories": [
        {"name": "All", "label": "All", "children": [
            {"name": "PX", "label": "Gainsight PX", "children": []},
            {"name": "Skilljar", "label": "Skilljar", "children": [{"name": "LMS", "label": "LMS"}]}]}]}]
    return state, users, app.client_id


@pytest.fixture
def env_factory(start_sandbox, ca_session):
    def make(accounts: int = 5, faults: list[str] | None = None, tune: Any = None) -> Env:
        state, users, client_id = build_state(accounts)
        if tune:
            tune(state)
        sb = start_sandbox(state, faults=faults)
        return Env(state, state.orgs["main"], users, client_id, sb.base_url, ca_session)
    return make


@pytest.fixture
def env(env_factory) -> Env:
    return env_factory()
