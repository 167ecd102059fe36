"""Schemathesis hooks: how to generate PartnerGraph's custom scalars (each
follows the format its `@specifiedBy` names), so the fuzzer reaches every
operation. Loaded with SCHEMATHESIS_HOOKS=fuzz_hooks."""

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Decimal: a JSON number without exponent, written as a string.
schemathesis.graphql.scalar(
    "Decimal",
    st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
    .map(lambda d: nodes.String(str(d))),
)
# CurrencyCode: ISO 4217 (and whatever else, to be refused cleanly).
schemathesis.graphql.scalar(
    "CurrencyCode",
    st.one_of(st.sampled_from(["EUR", "USD", "GBP", "JPY"]), st.text(max_size=5)).map(nodes.String),
)
# Date: RFC 3339 full-date.
schemathesis.graphql.scalar("Date", st.dates().map(lambda d: nodes.String(d.isoformat())))
# DateTime: RFC 3339.
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(lambda d: nodes.String(d.isoformat())),
)
