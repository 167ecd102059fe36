"""A partner's own system reading PartnerGraph: it signs in with OAuth2
client credentials (requests-oauthlib, a standard OAuth2 client library)
and polls the `events` feed, remembering the last cursor so each poll
returns only what is new.

    PARTNERGRAPH_URL=http://127.0.0.1:8080 CLIENT_ID=pgci_… CLIENT_SECRET=pgcs_… \
        python partner_system.py [--until-type deal_registration.submitted]

Over plain http (local development) oauthlib needs OAUTHLIB_INSECURE_TRANSPORT=1.
"""

import argparse
import os
import sys
import time

from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

EVENTS = """
query Events($after: String, $first: Int) {
  events(after: $after, first: $first) {
    edges { cursor node { type occurredAt subjectId data } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def session(base: str, client_id: str, client_secret: str) -> OAuth2Session:
    """An OAuth2 session holding a client-credentials token (RFC 6749 §4.4)."""
    oauth = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = oauth.fetch_token(
        token_url=f"{base}/oauth/token",
        client_id=client_id,
        client_secret=client_secret,
        scope=["partners:read", "registrations:read"],
    )
    print(f"signed in: {token['token_type']} token for {token['expires_in']} s, scope {token['scope']}")
    return oauth


def poll(oauth: OAuth2Session, base: str, after: str | None) -> tuple[list[dict], str | None]:
    """Every event after `after`, page by page; the events and the new cursor."""
    events = []
    while True:
        response = oauth.post(
            f"{base}/graphql",
            json={"query": EVENTS, "variables": {"after": after, "first": 50}},
            headers={"accept": "application/graphql-response+json"},
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        page = body["data"]["events"]
        for edge in page["edges"]:
            events.append(edge["node"])
            after = edge["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return events, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until-type", help="stop once an event of this type arrived")
    parser.add_argument("--polls", type=int, default=10, help="polls before giving up")
    args = parser.parse_args()
    base = os.environ.get("PARTNERGRAPH_URL", "http://127.0.0.1:8080")
    oauth = session(base, os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
    cursor = None
    seen = 0
    for _ in range(args.polls):
        events, cursor = poll(oauth, base, cursor)
        seen += len(events)
        for event in events:
            print(f"{event['occurredAt']} {event['type']} {event['subjectId']}")
        if args.until_type and any(e["type"] == args.until_type for e in events):
            print(f"{seen} events read; last cursor {cursor}")
            return 0
        if not args.until_type:
            return 0
        time.sleep(1)
    print(f"no {args.until_type} event after {args.polls} polls", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
