"""Deterministic, real-looking data from a seed: companies, people, subscriptions, articles.

Every value of row ``i`` comes from ``_mix(seed, kind, i)`` — no ``random.Random`` per row — so a
``GeneratedTable`` can rebuild any row on demand and 250,000 Accounts cost no memory until read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.salesforce.store import Org, Record

_PREFIX = ("North", "Blue", "Silver", "Granite", "Harbor", "Summit", "Cedar", "Iron", "Bright", "Pioneer",
           "Evergreen", "Red", "Golden", "Lake", "Prairie", "Coastal", "Atlas", "Beacon", "Crescent", "Falcon",
           "Maple", "Orion", "Quantum", "River", "Stone", "Vertex", "Willow", "Zenith", "Aurora", "Keystone")
_CORE = ("wind", "bridge", "field", "point", "ridge", "gate", "light", "wave", "stone", "crest", "path",
         "line", "view", "forge", "works", "shore", "peak", "brook", "land", "port")
_SUFFIX = ("Traders", "Logistics", "Health", "Analytics", "Foods", "Robotics", "Energy", "Labs", "Systems",
           "Partners", "Media", "Financial", "Networks", "Outfitters", "Software", "Manufacturing", "Group",
           "Biotech", "Insurance", "Retail")
_INDUSTRY = ("Technology", "Healthcare", "Manufacturing", "Retail", "Financial Services", "Education",
             "Energy", "Media", "Transportation", "Hospitality", "Biotechnology", "Consulting")
_TYPE = ("Customer - Direct", "Customer - Channel", "Prospect", "Partner")
_CITY = (("Seattle", "WA", "US"), ("Austin", "TX", "US"), ("Boston", "MA", "US"), ("Denver", "CO", "US"),
         ("Chicago", "IL", "US"), ("Atlanta", "GA", "US"), ("Toronto", "ON", "CA"), ("London", "", "GB"),
         ("Dublin", "", "IE"), ("Berlin", "", "DE"), ("Amsterdam", "", "NL"), ("Sydney", "NSW", "AU"),
         ("Singapore", "", "SG"), ("Portland", "OR", "US"), ("Raleigh", "NC", "US"), ("Madison", "WI", "US"))
_FIRST = ("Avery", "Jordan", "Priya", "Mateo", "Hannah", "Wei", "Olivia", "Noah", "Amara", "Liam", "Sofia",
          "Ethan", "Yuki", "Lucas", "Chloe", "Ravi", "Elena", "Omar", "Grace", "Diego", "Maya", "Jonas",
          "Fatima", "Samuel", "Ingrid", "Kenji", "Leila", "Marcus", "Nora", "Tomas")
_LAST = ("Nguyen", "Patel", "Garcia", "Kim", "Okafor", "Schmidt", "Rossi", "Johnson", "Silva", "Cohen",
         "Walker", "Tanaka", "Murphy", "Haddad", "Larsen", "Moreau", "Reyes", "Chen", "Novak", "Brooks",
         "Ibrahim", "Fischer", "Lopez", "Sato", "Dubois", "Khan", "Baker", "Ortiz", "Lindqvist", "Adeyemi")
_TITLE = ("VP Customer Success", "Product Manager", "Director of Operations", "CTO", "Head of Support",
          "Customer Success Manager", "Data Analyst", "Engineering Manager", "Marketing Director", "COO")
_PLAN = ("Starter", "Growth", "Enterprise", "Enterprise Plus")
_ARTICLES = (
    ("Reset your password", "Steps to reset a forgotten password from the login page."),
    ("Set up single sign-on", "Configure SAML single sign-on with your identity provider."),
    ("Invite teammates", "Add users to your workspace and assign roles."),
    ("Export usage reports", "Download product usage reports as CSV."),
    ("Connect Salesforce", "Authorize the Salesforce integration and choose what syncs."),
    ("Troubleshoot sync delays", "What to check when data in the dashboard looks out of date."),
    ("Configure in-app guides", "Build and target in-app guides for your users."),
    ("Billing and invoices", "Find invoices and update billing contacts."),
    ("Data retention policy", "How long event data is kept and how to request deletion."),
    ("API rate limits", "Limits per API key and how to handle 429 responses."),
    ("Enable two-factor authentication", "Require a second factor for every user."),
    ("Customize the Knowledge Center bot", "Choose sources and categories the bot searches."),
)


def _mix(seed: int, kind: int, i: int) -> int:
    """A well-spread 64-bit value for (seed, kind, i) — splitmix64."""
    z = (seed * 0x9E3779B97F4A7C15 + kind * 0xBF58476D1CE4E5B9 + i + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def _pick(seq: tuple[Any, ...], h: int, shift: int = 0) -> Any:
    return seq[(h >> shift) % len(seq)]


def company_name(seed: int, i: int) -> str:
    h = _mix(seed, 1, i)
    name = f"{_pick(_PREFIX, h)}{_pick(_CORE, h, 8)} {_pick(_SUFFIX, h, 16)}"
    return name if i < 4000 else f"{name} {i // 4000 + 1}"  # keep names distinct in big tenants


def domain_of(name: str) -> str:
    return "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum()) + ".example"


def account(seed: int, i: int, org: Org, owner_ids: list[str], now: datetime) -> Record:
    h = _mix(seed, 2, i)
    name = company_name(seed, i)
    city, state, country = _pick(_CITY, h, 4)
    created = now - timedelta(days=30 + (h >> 12) % 700, minutes=(h >> 24) % 1440)
    modified = created + timedelta(days=(h >> 36) % max(1, (now - created).days - 4))
    employees = 10 + (h >> 20) % 5000
    return {
        "Id": ids.make_id("001", i + 1, pod=org.pod), "IsDeleted": False, "Name": name,
        "Type": _pick(_TYPE, h, 28), "Industry": _pick(_INDUSTRY, h, 32), "Website": f"https://www.{domain_of(name)}",
        "Phone": f"+1 555 {(h >> 40) % 900 + 100} {(h >> 44) % 9000 + 1000}",
        "BillingStreet": f"{(h >> 48) % 900 + 100} {_pick(_CORE, h, 52).title()} Street", "BillingCity": city,
        "BillingState": state or None, "BillingPostalCode": f"{(h >> 8) % 90000 + 10000}",
        "BillingCountry": country, "AnnualRevenue": float(employees * (80_000 + (h >> 16) % 90_000)),
        "NumberOfEmployees": employees, "Description": None, "AccountNumber": f"AC-{i + 1:07d}",
        "Rating": _pick(("Hot", "Warm", "Cold"), h, 56), "ParentId": None, "LastActivityDate": None,
        "Customer_Tier__c": _pick(("Gold", "Silver", "Bronze"), h, 58),
        "OwnerId": owner_ids[(h >> 60) % len(owner_ids)], "CreatedById": owner_ids[0],
        "LastModifiedById": owner_ids[0], "CreatedDate": created, "LastModifiedDate": modified,
        "SystemModstamp": modified,
    }


def account_index(org: Org) -> Callable[[str], int | None]:
    """Invert ``ids.make_id('001', i + 1, pod)`` so a generated Account is found by Id in O(1)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    head = "001" + org.pod + "0"

    def index(record_id: str) -> int | None:
        if not record_id.startswith(head) or len(record_id) < 15:
            return None
        n = 0
        for ch in record_id[6:15]:
            pos = alphabet.find(ch)
            if pos < 0:
                return None
            n = n * 62 + pos
        return n - 1

    return index


def contact(seed: int, i: int, org: Org, account_row: Record, owner_ids: list[str], now: datetime) -> Record:
    h = _mix(seed, 3, i)
    first, last = _pick(_FIRST, h), _pick(_LAST, h, 8)
    created = account_row["CreatedDate"] + timedelta(days=(h >> 16) % 60)
    modified = min(now - timedelta(days=4), created + timedelta(days=(h >> 24) % 200))
    return {
        "AccountId": account_row["Id"], "FirstName": first, "LastName": last, "Name": f"{first} {last}",
        "Email": f"{first.lower()}.{last.lower()}{i}@{domain_of(account_row['Name'])}",
        "Title": _pick(_TITLE, h, 32), "Phone": None, "Department": None,
        "MailingCity": account_row["BillingCity"], "MailingCountry": account_row["BillingCountry"],
        "LeadSource": _pick(("Web", "Partner Referral", "Trade Show", "Webinar"), h, 40),
        "HasOptedOutOfEmail": bool((h >> 44) % 7 == 0), "OwnerId": account_row["OwnerId"],
        "CreatedById": owner_ids[0], "LastModifiedById": owner_ids[0],
        "CreatedDate": created, "LastModifiedDate": max(created, modified), "SystemModstamp": max(created, modified),
    }


def lead(seed: int, i: int, owner_ids: list[str], now: datetime) -> Record:
    h = _mix(seed, 4, i)
    first, last = _pick(_FIRST, h, 3), _pick(_LAST, h, 11)
    company = company_name(seed + 17, i)
    created = now - timedelta(days=1 + (h >> 16) % 300)
    return {"FirstName": first, "LastName": last, "Name": f"{first} {last}", "Company": company,
            "Email": f"{first.lower()}@{domain_of(company)}", "Status": _pick(
                ("Open - Not Contacted", "Working - Contacted", "Qualified"), h, 20),
            "LeadSource": "Web", "Title": _pick(_TITLE, h, 24), "IsConverted": False,
            "OwnerId": owner_ids[(h >> 30) % len(owner_ids)], "CreatedById": owner_ids[0],
            "LastModifiedById": owner_ids[0], "CreatedDate": created, "LastModifiedDate": created,
            "SystemModstamp": created}


def subscription(seed: int, i: int, account_row: Record, owner_ids: list[str], now: datetime) -> Record:
    h = _mix(seed, 5, i)
    created = account_row["CreatedDate"] + timedelta(days=(h >> 8) % 30)
    return {"Name": f"SUB-{i + 1:06d}", "Account__c": account_row["Id"], "Plan__c": _pick(_PLAN, h, 16),
            "Seats__c": float(5 + (h >> 20) % 500), "Renewal_Date__c": (now + timedelta(days=(h >> 30) % 365)).date(),
            "OwnerId": account_row["OwnerId"], "CreatedById": owner_ids[0], "LastModifiedById": owner_ids[0],
            "CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created}


def custom_record(seed: int, i: int, sobject: Any, parent: Record | None, owner_ids: list[str],
                  now: datetime) -> Record:
    """A record of any custom object, whatever its fields are called: each writable field gets a value of its
    type (a lookup to Account gets the parent account; other lookups stay empty)."""
    from datetime import date

    h = _mix(seed, 8, i)
    created = (parent["CreatedDate"] if parent else now - timedelta(days=400)) + timedelta(days=(h >> 8) % 30)
    out: Record = {"Name": f"{sobject.label} {i + 1}", "OwnerId": parent["OwnerId"] if parent else owner_ids[0],
                   "CreatedById": owner_ids[0], "LastModifiedById": owner_ids[0], "CreatedDate": created,
                   "LastModifiedDate": created, "SystemModstamp": created}
    for n, f in enumerate(sobject.fields.values()):
        if not f.custom or not f.createable or f.name in out:
            continue
        k = _mix(seed, 9 + n, i)
        if f.type == "reference":
            out[f.name] = parent["Id"] if parent and "Account" in f.reference_to else None
        elif f.type == "picklist":
            out[f.name] = f.picklist_values[k % len(f.picklist_values)] if f.picklist_values else None
        elif f.type == "boolean":
            out[f.name] = bool(k & 1)
        elif f.type in ("double", "currency", "percent"):
            out[f.name] = float(k % 1000)
        elif f.type == "int":
            out[f.name] = k % 1000
        elif f.type == "date":
            out[f.name] = (now + timedelta(days=k % 365)).date() if isinstance(now, datetime) else date.today()
        elif f.type == "datetime":
            out[f.name] = now - timedelta(hours=k % 2000)
        elif f.type == "email":
            out[f.name] = f"contact{i + 1}@example.com"
        elif f.type == "url":
            out[f.name] = f"https://example.com/{i + 1}"
        elif f.type == "phone":
            out[f.name] = f"+1 555 {k % 10000:04d}"
        else:
            out[f.name] = f"{f.label} {i + 1}"[:f.length or 255]
    return out


def article(seed: int, i: int, now: datetime, categories: list[str]) -> Record:
    title, summary = _ARTICLES[i % len(_ARTICLES)]
    if i >= len(_ARTICLES):
        title = f"{title} ({i // len(_ARTICLES) + 1})"
    h = _mix(seed, 6, i)
    published = now - timedelta(days=5 + (h >> 8) % 300)
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-").replace("--", "-")
    return {"Title": title, "UrlName": slug, "Summary": summary, "PublishStatus": "Online", "Language": "en_US",
            "ArticleNumber": f"{1000 + i:09d}", "ArticleType": "Knowledge__kav", "VersionNumber": 1 + (h >> 4) % 3,
            "IsVisibleInPkb": (h >> 12) % 4 != 0, "IsVisibleInCsp": True, "IsVisibleInPrm": (h >> 14) % 3 == 0,
            "IsVisibleInApp": True, "LastPublishedDate": published, "FirstPublishedDate": published,
            "CreatedDate": published, "LastModifiedDate": published, "SystemModstamp": published,
            "_categories": [categories[(h >> (16 + 4 * k)) % len(categories)] for k in range(2)] if categories else []}


COURSES = ("Getting Started", "Admin Essentials", "Analytics 101", "Advanced Guides")  # unless a scenario names its own


def student(seed: int, i: int, now: datetime, since: datetime,
            courses: tuple[str, ...] = COURSES) -> dict[str, Any]:
    """A Skilljar-side learner changed since ``since`` (what a backfill pushes)."""
    h = _mix(seed, 7, i)
    first, last = _pick(_FIRST, h, 2), _pick(_LAST, h, 9)
    at = since + timedelta(seconds=(h >> 12) % max(1, int((now - since).total_seconds())))
    return {"kind": "student", "skilljar_id": f"sj-{h % 10**8:08d}", "first_name": first, "last_name": last,
            "email": f"{first.lower()}.{last.lower()}@learner.example", "updated_at": at,
            "course": _pick(courses, h, 30),
            "progress": float((h >> 40) % 101)}
