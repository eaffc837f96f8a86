"""What a first real run needs, field by field, and where each value comes from — data the wizard's settings
pane shows beside each field (no logic here: ``setup_form`` reads it).

Sources, checked with the vendors' own pages:
- Gainsight PX REST API keys: px-apidocs.gainsight.com ("Generate API Keys": Administration > REST API >
  New API Key; permissions Read, Write, Production Launch; Generate). sfwizard only reads (GET), so Read is
  enough. Base URLs per data center: US api.aptrinsic.com, EU api-eu.aptrinsic.com, US2 api-us2.aptrinsic.com.
- The External Client App: developer.salesforce.com ("Create an External Client App": Setup → External
  Client App Manager → New External Client App; API (Enable OAuth Settings) → Enable OAuth, Callback URL,
  OAuth Scopes; Security: "Require secret for Web Server Flow" off for a public client, "Require Proof Key for
  Code Exchange (PKCE) extension for Supported Authorization Flows" on; the Consumer Key is the client id).
- An unknown client id at /services/oauth2/authorize ends on Salesforce's error page with
  ``error=invalid_client_id&error_description=client identifier invalid`` (seen in Salesforce's own workshop
  and AWS's SageMaker docs); a callback the app does not list, with ``error=redirect_uri_mismatch``.
- Statuspage v2: ``/api/v2/status.json`` → ``{"page": {…}, "status": {"indicator", "description"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass

CALLBACK_URL = "http://localhost:1717/OauthRedirect"
SCOPES_WORDS = ("Manage user data via APIs (api)", "Perform requests at any time (refresh_token, offline_access)",
                "Access the identity URL service (id)")


@dataclass(frozen=True)
class FieldHelp:
    """One setting of the pane: its label, its kind, where to get the value, and what the test does."""

    key: str
    label: str
    kind: str  # "choice" (one of choices, or free text where free is True), "text", "secret", "path"
    where: tuple[str, ...]  # steps to get the value, in order, in words a person follows
    choices: tuple[tuple[str, str], ...] = ()  # (value, words)
    free: bool = False  # a choice that also takes a value of one's own (a My Domain, an API address)
    profiles: tuple[str, ...] = ("gainsight-px", "skilljar")
    optional: bool = False  # a real run can go without it (a check is skipped, or a default holds)
    test: str = ""  # what its test does, in words ("" when it has none)
    checklist: tuple[str, ...] = ()  # settings to copy exactly (the connected app's)


FIELDS: tuple[FieldHelp, ...] = (
    FieldHelp(
        "sign_in", "How sfwizard signs in to Salesforce", "choice",
        where=("A Salesforce CLI login needs nothing else: if `sf` is installed and logged in to the org, pick it.",
               "The browser and the device code need a client id (below): the Consumer Key of a connected app in "
               "the org.",
               "sfwizard only reads: it checks what the integration can see."),
        choices=(("sf_cli", "an existing Salesforce CLI login"), ("browser", "the browser (PKCE)"),
                 ("device", "a device code (no browser here, or over SSH)"), ("saved", "the saved sign-in")),
        optional=True, test="lists the Salesforce CLI's logins (sf org list)"),
    FieldHelp(
        "login_url", "Salesforce login host", "choice",
        where=("production: login.salesforce.com (most integrations run there)",
               "sandbox: test.salesforce.com",
               "your My Domain: https://yourcompany.my.salesforce.com (Setup → My Domain shows it)"),
        choices=(("production", "production (login.salesforce.com)"), ("test", "a sandbox (test.salesforce.com)")),
        free=True, optional=True, test="tested together with the client id"),
    FieldHelp(
        "client_id", "Client id (the connected app's Consumer Key)", "text",
        where=("A Salesforce admin creates the app once per org (a few minutes): Setup → Quick Find \"External "
               "Client App Manager\" → New External Client App (older orgs: App Manager → New Connected App).",
               "Copy it with the settings below, click Create, then open the app's Settings → OAuth Settings → "
               "Consumer Key and Secret, and copy the Consumer Key here (it is not a secret; no secret is needed)."),
        checklist=("Basic Information: name sfwizard, your contact e-mail, Distribution State Local",
                   "API (Enable OAuth Settings): Enable OAuth ticked",
                   f"Callback URL: {CALLBACK_URL} (one line per port if you change the callback port)",
                   "OAuth Scopes: " + "; ".join(SCOPES_WORDS),
                   "Security: Require Proof Key for Code Exchange (PKCE) … ticked",
                   "Security: Require secret for Web Server Flow and Require secret for Refresh Token Flow "
                   "unticked (sfwizard keeps no secret)",
                   "Flow Enablement: Enable Device Flow, only if you want the device code",
                   "Policies: Permitted Users \"Admin approved users are pre-authorized\" with the admins' profile "
                   "or permission set (or \"All users may self-authorize\")"),
        test="asks the login host's authorize page about the client id and the callback, without signing in"),
    FieldHelp(
        "port", "Callback port", "text",
        where=("1717 unless it is taken on this machine; the connected app must list "
               "http://localhost:PORT/OauthRedirect for the port you choose.",),
        optional=True),
    FieldHelp(
        "px_api_key", "Gainsight PX API key", "secret", profiles=("gainsight-px",),
        where=("In Gainsight PX: Administration → REST API → New API Key.",
               "Name it sfwizard; under Permissions tick Read (sfwizard only reads: Write and Production Launch are "
               "not needed); click Generate and copy the key here.",
               "It is kept in the OS keychain (or, where none works, a file only you can read) — never in the "
               "settings file."),
        optional=True, test="reads which subscription the key belongs to (GET /v1/admin/subscription)"),
    FieldHelp(
        "px_api_url", "Gainsight PX data center (API address)", "choice", profiles=("gainsight-px",),
        where=("The data center your PX subscription lives in: the address you sign in to PX at tells it (EU "
               "tenants use the EU data center).",),
        choices=(("US", "US (api.aptrinsic.com)"), ("EU", "EU (api-eu.aptrinsic.com)"),
                 ("US2", "US2 (api-us2.aptrinsic.com)")),
        free=True, optional=True, test="tested together with the API key"),
    FieldHelp(
        "status_url", "Vendor status page", "text",
        where=("The vendor's public status page; its default is the one its recovery guide names.",
               "Change it only if your company reaches it through another address."),
        optional=True, test="reads the page's overall status (GET /api/v2/status.json)"),
    FieldHelp(
        "ca_cert", "Extra CA certificate (optional)", "path",
        where=("Only behind a company proxy that inspects TLS: the proxy's CA certificate as a PEM file (your "
               "network team has it). It is trusted in addition to the system's; verification stays on.",),
        optional=True, test="loads the file as a CA certificate"),
)

BY_KEY = {f.key: f for f in FIELDS}
