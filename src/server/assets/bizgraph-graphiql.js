// Renders GraphiQL (vendored, served by the gateway itself) against this server's /graphql.
// Loaded first in <head>: it records Content-Security-Policy violations for the browser test,
// then renders once the React, ReactDOM and GraphiQL scripts below it have run.
(function () {
  "use strict";

  var violations = [];
  window.bizgraphCspViolations = violations;
  document.addEventListener("securitypolicyviolation", function (event) {
    violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
  });

  function render() {
    var config = JSON.parse(document.getElementById("bizgraph-config").textContent);
    var url = new URL("/graphql", window.location.href);
    var subscriptionUrl = new URL(url.href);
    subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    var headers = config.authorization ? { Authorization: config.authorization } : null;

    var fetcher = window.GraphiQL.createFetcher({
      url: url.href,
      // Subscriptions run over graphql-ws on the same endpoint. The fetcher sends the headers
      // editor's headers in `connection_init`, over these connection parameters.
      subscriptionUrl: subscriptionUrl.href,
      wsConnectionParams: headers || {},
    });

    var props = {
      fetcher: fetcher,
      defaultQuery: config.query,
      defaultEditorToolsVisibility: headers ? "headers" : true,
    };
    if (headers) {
      props.defaultHeaders = JSON.stringify(headers, null, 2);
    }
    window.ReactDOM.createRoot(document.getElementById("graphiql")).render(
      window.React.createElement(window.GraphiQL, props)
    );
  }

  document.addEventListener("DOMContentLoaded", render);
})();
