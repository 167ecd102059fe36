// The portal's operations. graphql-codegen reads them from this file (the
// `/* GraphQL */` comment marks them) and writes their types to
// src/generated/graphql.ts.

export const PORTAL = /* GraphQL */ `
  query Portal {
    viewer {
      kind
      role
      partner {
        id
        name
        tier
        status
        dealRegistrations(first: 10) {
          totalCount
          edges {
            node {
              id
              reference
              status
              companyName
              estimatedAmount {
                amount
                currency
              }
            }
          }
        }
      }
    }
  }
`;

export const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitDealRegistrationInput!) {
    submitDealRegistration(input: $input) {
      dealRegistration {
        id
        reference
        status
        slaDueAt
      }
      userErrors {
        field
        code
        message
      }
    }
  }
`;

export const EVENTS = /* GraphQL */ `
  subscription Events($after: String) {
    events(after: $after) {
      cursor
      type
      occurredAt
      subjectId
    }
  }
`;
