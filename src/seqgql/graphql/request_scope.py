"""What the /graphql gate (``gateway.AuthenticatedGraphQL``) leaves in a request's ASGI
scope for the view, under these keys."""

# the actor its bearer token authenticated
ACTOR_SCOPE_KEY = "seqgql.actor"
# the POST body as the gate parsed it (a dict), for the page's plans (``planned_pages``)
BODY_SCOPE_KEY = "seqgql.body"
