// Starts GraphiQL (seqgql/web/graphiql.py serves the page): its settings come from the
// page's JSON block, so the page needs no inline script (its CSP allows none).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var url = window.location.origin + window.location.pathname; // this page's, sans query

  function websocketUrl(url) {
    var parsed = new URL(url);
    parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
    parsed.hash = "";
    return parsed.toString();
  }

  // Queries and mutations over HTTP with the Headers pane's headers; subscriptions over
  // graphql-transport-ws at the same URL, the Headers pane sent as the connection's
  // payload (where seqgql reads the token).
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: websocketUrl(url),
  });

  // CodeMirror's input is a bare <textarea>: it gets the name of the editor around it
  // (GraphiQL names the sections: "Query Editor", "Headers", "Result Window").
  var container = document.getElementById("graphiql");
  function labelEditors() {
    container.querySelectorAll("textarea:not([aria-label])").forEach(function (area) {
      var named = area.closest("[aria-label]");
      area.setAttribute("aria-label", named ? named.getAttribute("aria-label") : "Editor");
    });
  }
  new MutationObserver(labelEditors).observe(container, { childList: true, subtree: true });

  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(
      GraphiQL,
      {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      },
      // the title, in place of GraphiQL's logo (a link off this server)
      React.createElement(GraphiQL.Logo, null, "seqgql"),
    ),
  );
})();
