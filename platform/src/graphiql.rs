//! GraphiQL in development, with its scripts and styles compiled into the binary: the page
//! works without internet (async-graphql's own page loads React and GraphiQL from a CDN).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// The page. The headers editor starts with the Authorization header to fill in with a token
/// from `civitas dev token` (README).
pub fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// One of the page's files, by name; 404 for any other.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Civitas GraphiQL</title>
    <style>body { margin: 0; overflow: hidden; } #graphiql { height: 100vh; }</style>
    <link rel="stylesheet" href="/graphql/assets/graphiql.min.css">
    <script src="/graphql/assets/react.production.min.js"></script>
    <script src="/graphql/assets/react-dom.production.min.js"></script>
    <script src="/graphql/assets/graphiql.min.js"></script>
  </head>
  <body>
    <div id="graphiql">GraphiQL needs JavaScript. Without it, POST GraphQL requests to /graphql.</div>
    <script>
      const ws = new URL('/graphql/ws', window.location.href);
      ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, {
          fetcher: GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: ws.toString() }),
          defaultHeaders: '{\n  "Authorization": "Bearer <paste the output of: civitas dev token --subject roma-op --tenant roma --roles operator>"\n}',
          defaultEditorToolsVisibility: 'headers',
          defaultQuery: '{ me { subject issuer roles tenant { displayName } } }\n',
        })
      );
    </script>
  </body>
</html>
"#;
