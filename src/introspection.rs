//! The standard introspection query (graphql-js's `getIntrospectionQuery` with descriptions,
//! `specifiedByURL`, repeatable directives, the schema description and deprecated input
//! values), and the schema's answer to it: what `bizgraph schema --json` prints for codegen
//! tools (GraphQL Code Generator, Apollo's and Relay's tooling read `{"data": {"__schema"}}`).

/// The full introspection query, as GraphQL tools send it.
pub const QUERY: &str = r#"query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name
      description
      isRepeatable
      locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  fields(includeDeprecated: true) {
    name
    description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
  isDeprecated
  deprecationReason
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                }
              }
            }
          }
        }
      }
    }
  }
}
"#;

/// The schema's answer to [`QUERY`], `{"data": {"__schema": ...}}`, computed without any
/// upstream: introspection reads the schema alone.
pub async fn result() -> serde_json::Value {
    let response = crate::schema::builder()
        .finish()
        .execute(async_graphql::Request::new(QUERY))
        .await;
    serde_json::to_value(&response).unwrap_or_else(|error| {
        serde_json::json!({"errors": [{"message": format!("introspection failed: {error}")}]})
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_introspection_result_has_the_schema_and_no_errors() {
        let result = result().await;
        assert!(result.get("errors").is_none(), "{result}");
        let schema = &result["data"]["__schema"];
        assert_eq!(schema["queryType"]["name"], "Query");
        assert_eq!(schema["mutationType"]["name"], "Mutation");
        let types = schema["types"].as_array().map(Vec::len).unwrap_or(0);
        assert!(types > 20, "{types} types");
    }
}
